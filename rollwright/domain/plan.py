"""A deployment plan: the part of the config one deployment needs, frozen at the moment it starts.

The workflow carries the plan in its input rather than reading config, so a config edit never changes a
rollout that is already running (and replays stay deterministic).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rollwright.domain.durations import Duration, format_duration
from rollwright.domain.identity import NAME_PATTERN


class ApprovalDefault(StrEnum):
    """What happens when nobody answers an approval request before it times out."""

    PROCEED = "proceed"
    STOP = "stop"


class FirstDeployRollback(StrEnum):
    """How to roll back a region that had no earlier version: remove it, or keep it at zero replicas."""

    REMOVE = "remove"
    SCALE_TO_ZERO = "scale_to_zero"


class CanaryStep(BaseModel):
    """One Argo Rollouts canary step: shift `weight`% of traffic, then hold for `pause` (none: go straight on).

    Rollwright never renders Argo's indefinite `pause: {}`: nothing would promote it, and the progress
    deadline would fail every such rollout.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: int = Field(ge=0, le=100)
    pause: Duration | None = None


class CanaryPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # No canary unless configured: straight to 100%.
    steps: list[CanaryStep] = Field(default_factory=lambda: [CanaryStep(weight=100)])
    # How long one region may take from sync to Healthy before the canary counts as failed.
    progress_deadline: Duration = timedelta(minutes=30)

    @model_validator(mode="after")
    def _pauses_fit_the_deadline(self) -> CanaryPlan:
        paused = sum((step.pause or timedelta(0) for step in self.steps), timedelta(0))
        if paused >= self.progress_deadline:
            raise ValueError(
                f"the canary pauses add up to {format_duration(paused)}, which is not less than progress_deadline "
                f"{format_duration(self.progress_deadline)}: every rollout would fail its deadline"
            )
        return self


class ApprovalPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    required: bool = False
    timeout: Duration = timedelta(hours=4)
    on_timeout: ApprovalDefault = ApprovalDefault.STOP


class EnvironmentPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    waves: list[list[str]] = Field(min_length=1)
    bake: Duration | None = None
    approval: ApprovalPlan = ApprovalPlan()
    # The service's Pulumi config with this environment's overrides applied.
    pulumi_config: dict[str, Any] = Field(default_factory=dict)


class ServicePlan(BaseModel):
    """Everything about a service a deployment needs, resolved from config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = Field(pattern=NAME_PATTERN)
    image: str
    pulumi_program: str
    canary: CanaryPlan = CanaryPlan()
    environments: list[EnvironmentPlan] = Field(min_length=1)
    argocd_app_template: str = "{service}-{env}-{region}"
    first_deploy_rollback: FirstDeployRollback = FirstDeployRollback.REMOVE
