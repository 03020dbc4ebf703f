"""Which versions the simulated analysis fails: rules the demo and tests set through the admin API."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Labels a rendered Rollout may carry its human version in (checked on the Rollout and its pod template).
VERSION_LABELS = ("app.kubernetes.io/version", "rollwright.io/tag")
DEFAULT_ANALYSIS_MESSAGE = 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)'


class FailureRule(BaseModel):
    """A version matches when its image carries one of `digests`, or its tag matches `tag_pattern`.

    `mode="analysis"` fails the canary's analysis (step analysis, else background analysis); `mode="stall"`
    keeps canary pods from ever becoming ready, so the Rollout's progress deadline fires instead.
    """

    model_config = ConfigDict(extra="forbid")

    digests: list[str] = Field(default_factory=list)
    tag_pattern: str | None = None
    apps: list[str] | None = Field(default=None, description="only these Application names")
    regions: list[str] | None = Field(default=None, description="only Applications of these regions")
    mode: Literal["analysis", "stall"] = "analysis"
    message: str = DEFAULT_ANALYSIS_MESSAGE

    @field_validator("tag_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"tag_pattern is not a regular expression: {exc}") from exc
        return value

    def matches(self, rollout: dict[str, Any], *, app: str, region: str | None) -> bool:
        if self.apps is not None and app not in self.apps:
            return False
        if self.regions is not None and region not in self.regions:
            return False
        images, tags = versions_of(rollout)
        if any(image.endswith(f"@{digest}") for image in images for digest in self.digests):
            return True
        return self.tag_pattern is not None and any(re.search(self.tag_pattern, tag) for tag in tags)


def versions_of(rollout: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(images, tags) of a Rollout: tags from `repo:tag[@digest]` images and the version labels."""
    template = rollout.get("spec", {}).get("template", {})
    containers = template.get("spec", {}).get("containers", []) or []
    images = [str(c.get("image", "")) for c in containers if isinstance(c, dict)]
    tags: list[str] = []
    for image in images:
        name = image.split("@", 1)[0]
        last = name.rsplit("/", 1)[-1]
        if ":" in last:
            tags.append(last.split(":", 1)[1])
    for meta in (rollout.get("metadata", {}), template.get("metadata", {})):
        for source in (meta.get("labels") or {}, meta.get("annotations") or {}):
            tags.extend(str(source[key]) for key in VERSION_LABELS if key in source)
    return images, tags


def first_match(
    rules: list[FailureRule], rollout: dict[str, Any], *, app: str, region: str | None
) -> FailureRule | None:
    return next((rule for rule in rules if rule.matches(rollout, app=app, region=region)), None)
