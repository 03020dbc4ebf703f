"""One definition of "where a deployment lands": service × environment × region."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

# Kubernetes-, Pulumi- and git-path-safe: everything downstream embeds these names.
NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
_NAME_RE = re.compile(NAME_PATTERN)


def is_valid_name(value: str) -> bool:
    return bool(_NAME_RE.match(value))


class RegionTarget(BaseModel):
    """A service in one environment and region: the unit that is provisioned, committed and synced."""

    model_config = ConfigDict(frozen=True)

    service: str = Field(pattern=NAME_PATTERN)
    environment: str = Field(pattern=NAME_PATTERN)
    region: str = Field(pattern=NAME_PATTERN)

    @property
    def key(self) -> str:
        """`service/env/region`: how humans, logs and the version store name the target."""
        return f"{self.service}/{self.environment}/{self.region}"

    @property
    def stack_name(self) -> str:
        """The Pulumi stack: `<service>-<env>-<region>`."""
        return f"{self.service}-{self.environment}-{self.region}"

    @property
    def gitops_path(self) -> str:
        """Where the region's manifests live in the GitOps repository."""
        return f"{self.environment}/{self.region}/{self.service}"

    def app_name(self, template: str) -> str:
        """The Argo CD Application name, from the configured template (e.g. `{service}-{env}-{region}`)."""
        return self.fill(template)

    def fill(self, template: str) -> str:
        """A name template with `{service}`, `{env}` and `{region}` filled in."""
        return template.format(service=self.service, env=self.environment, region=self.region)

    def __str__(self) -> str:
        return self.key
