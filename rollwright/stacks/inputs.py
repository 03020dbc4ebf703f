"""What every Rollwright Pulumi program is given: one typed model, carried as the stack's Pulumi config.

The provisioner writes these keys into the stack config (so `pulumi config` on the stack shows exactly what a
run used) and the program reads them back with `StackInputs.from_pulumi_config()`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rollwright.domain.digest import Digest
from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryStep

# The Pulumi project every Rollwright stack belongs to; config keys live in its namespace.
PROJECT_NAME = "rollwright"


class RenderPurpose(StrEnum):
    """What the program renders for the region; mirrors ProvisionPurpose without importing the activity layer."""

    DEPLOY = "deploy"
    ROLLBACK = "rollback"
    REMOVE = "remove"
    SCALE_TO_ZERO = "scale_to_zero"


class StackInputs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    target: RegionTarget
    image: str = Field(min_length=1, description="image repository, without tag or digest")
    digest: Digest | None = None
    purpose: RenderPurpose = RenderPurpose.DEPLOY
    canary_steps: list[CanaryStep] = Field(default_factory=list)
    analysis: CanaryAnalysis | None = None
    namespace: str | None = Field(default=None, description="Kubernetes namespace of the region's objects")
    settings: dict[str, Any] = Field(default_factory=dict, description="the service's pulumi config")
    manifests_dir: str = Field(description="root of the GitOps working copy the manifests are written into")
    data_dir: str = Field(description="where local databases live, one directory per environment")

    def to_config(self) -> dict[str, str]:
        """Flat string values, as Pulumi config holds them; structured values as JSON."""
        return {
            "service": self.target.service,
            "environment": self.target.environment,
            "region": self.target.region,
            "image": self.image,
            "digest": self.digest or "",
            "purpose": self.purpose.value,
            "canarySteps": json.dumps([step.model_dump(mode="json") for step in self.canary_steps]),
            "canaryAnalysis": self.analysis.model_dump_json() if self.analysis else "",
            "namespace": self.namespace or "",
            "settings": json.dumps(self.settings, sort_keys=True),
            "manifestsDir": self.manifests_dir,
            "dataDir": self.data_dir,
        }

    @classmethod
    def from_config(cls, values: dict[str, str]) -> StackInputs:
        return cls(
            target=RegionTarget(service=values["service"], environment=values["environment"], region=values["region"]),
            image=values["image"],
            digest=values.get("digest") or None,
            purpose=RenderPurpose(values.get("purpose") or RenderPurpose.DEPLOY.value),
            canary_steps=json.loads(values.get("canarySteps") or "[]"),
            analysis=CanaryAnalysis.model_validate_json(values["canaryAnalysis"])
            if values.get("canaryAnalysis")
            else None,
            namespace=values.get("namespace") or None,
            settings=json.loads(values.get("settings") or "{}"),
            manifests_dir=values["manifestsDir"],
            data_dir=values["dataDir"],
        )

    @classmethod
    def from_pulumi_config(cls) -> StackInputs:
        """Inside a running program: read the keys `to_config()` wrote."""
        import pulumi

        config = pulumi.Config(PROJECT_NAME)
        keys = (
            "service",
            "environment",
            "region",
            "image",
            "digest",
            "purpose",
            "canarySteps",
            "canaryAnalysis",
            "namespace",
            "settings",
        )
        values = {key: config.get(key) or "" for key in keys}
        values["manifestsDir"] = config.require("manifestsDir")
        values["dataDir"] = config.require("dataDir")
        return cls.from_config(values)
