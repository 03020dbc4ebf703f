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
from rollwright.domain.verification import VerificationPlan
from rollwright.domain.windows import DenyWindow, DeployWindow


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


class CheckProvider(StrEnum):
    """Where a canary check's measurement comes from (Argo Rollouts metric providers)."""

    PROMETHEUS = "prometheus"
    WEB = "web"


class CanaryCheck(BaseModel):
    """One measurement the canary must pass, judged by the Argo Rollouts controller while the canary runs.

    Queries and URLs may use `{{args.canary-hash}}` (the canary's pod-template hash), `{{args.service}}`,
    `{{args.environment}}` and `{{args.region}}`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    provider: CheckProvider = CheckProvider.PROMETHEUS
    query: str | None = Field(default=None, description="PromQL (prometheus)")
    url: str | None = Field(default=None, description="URL answering JSON (web)")
    json_path: str | None = Field(default=None, description="JSONPath of the value in the web answer, e.g. {$.ok}")
    success_condition: str = Field(min_length=1, description="e.g. result[0] >= 0.95")
    interval: Duration = timedelta(seconds=10)
    count: int = Field(default=3, ge=1)
    failure_limit: int = Field(default=1, ge=0)
    # At least two scrapes: an empty vector before them reads as an Error, and the controller then waits 10 s.
    initial_delay: Duration | None = None

    @model_validator(mode="after")
    def _source_fits_provider(self) -> CanaryCheck:
        if self.provider is CheckProvider.PROMETHEUS and not self.query:
            raise ValueError(f"check {self.name!r}: a prometheus check needs a query")
        if self.provider is CheckProvider.WEB and not self.url:
            raise ValueError(f"check {self.name!r}: a web check needs a url")
        return self


class CanaryAnalysis(BaseModel):
    """What one region's canary is measured by: the checks, and the Prometheus that region's controller asks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checks: list[CanaryCheck] = Field(default_factory=list)
    prometheus_address: str | None = None


class CanaryPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # No canary unless configured: straight to 100%.
    steps: list[CanaryStep] = Field(default_factory=lambda: [CanaryStep(weight=100)])
    # How long one region may take from sync to Healthy before the canary counts as failed.
    progress_deadline: Duration = timedelta(minutes=30)
    # Measured by the Rollouts controller as background analysis from the first step on; none: steps only.
    checks: list[CanaryCheck] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_names_unique(self) -> CanaryPlan:
        names = [check.name for check in self.checks]
        if len(names) != len(set(names)):
            raise ValueError(f"canary check names must be unique: {', '.join(names)}")
        return self

    @model_validator(mode="after")
    def _pauses_fit_the_deadline(self) -> CanaryPlan:
        paused = sum((step.pause or timedelta(0) for step in self.steps), timedelta(0))
        if paused >= self.progress_deadline:
            raise ValueError(
                f"the canary pauses add up to {format_duration(paused)}, which is not less than progress_deadline "
                f"{format_duration(self.progress_deadline)}: every rollout would fail its deadline"
            )
        return self


class OnBadElsewhere(StrEnum):
    """What a lane does with a version it runs when another lane marks that digest bad."""

    ROLLBACK = "rollback"
    KEEP = "keep"


class PromotePlan(BaseModel):
    """How a later lane takes its versions: from the lane `source` once live and healthy there for `after`, or
    only when an engineer promotes one (`manual`). The first lane has none: it takes pushes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    after: Duration = timedelta(0)
    manual: bool = False


class ApprovalPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    required: bool = False
    timeout: Duration = timedelta(hours=4)
    on_timeout: ApprovalDefault = ApprovalDefault.STOP
    # Who counts: this many distinct approvers, each in one of `groups` (empty: anyone), and not the person whose
    # push or command started the deployment when `not_by_initiator`.
    approvers: int = Field(default=1, ge=1)
    groups: tuple[str, ...] = ()
    not_by_initiator: bool = False


class EnvironmentPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    waves: list[list[str]] = Field(min_length=1)
    bake: Duration | None = None
    approval: ApprovalPlan = ApprovalPlan()
    # The service's Pulumi config with this environment's overrides applied.
    pulumi_config: dict[str, Any] = Field(default_factory=dict)
    # The Prometheus the canary checks query, for the environment and per region where one differs.
    prometheus_address: str | None = None
    region_prometheus: dict[str, str] = Field(default_factory=dict)
    # Rollwright's own checks of this environment's live regions (the service's, with this environment's overrides).
    verification: VerificationPlan = VerificationPlan()
    # None on the first lane (it takes pushes); every later lane promotes from an earlier one.
    promote: PromotePlan | None = None
    on_bad_elsewhere: OnBadElsewhere = OnBadElsewhere.ROLLBACK
    # Change control: when the environment takes changes, who may break through a closed window, and whether
    # controls must come verified through the control API (the Temporal UI's signal form is refused then).
    windows: tuple[DeployWindow, ...] = ()
    deny_windows: tuple[DenyWindow, ...] = ()
    break_glass_groups: tuple[str, ...] = ()
    require_verified: bool = False

    def prometheus_for(self, region: str) -> str | None:
        return self.region_prometheus.get(region, self.prometheus_address)


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

    def environment(self, name: str) -> EnvironmentPlan:
        """The named environment; KeyError naming it when the plan has none."""
        for env in self.environments:
            if env.name == name:
                return env
        raise KeyError(f"{self.service} has no environment {name!r}")

    def only(self, name: str) -> ServicePlan:
        """This plan cut to one environment: what one lane's deployment runs."""
        return self.model_copy(update={"environments": [self.environment(name)]})

    def promoted_from(self, name: str) -> list[EnvironmentPlan]:
        """The environments whose lanes take their versions from the lane `name` on a timer (not manual)."""
        return [
            env for env in self.environments if env.promote and env.promote.source == name and not env.promote.manual
        ]

    def analysis_for(self, env: EnvironmentPlan, region: str) -> CanaryAnalysis | None:
        """The canary analysis a deployment renders for one region; None when the service has no checks."""
        if not self.canary.checks:
            return None
        return CanaryAnalysis(checks=self.canary.checks, prometheus_address=env.prometheus_for(region))
