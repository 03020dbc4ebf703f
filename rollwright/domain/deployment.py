"""The deployment and pipeline workflows' public surface: inputs, results, controls, status.

Webhook receiver, CLI and workflows all import these, so the names of workflows, signals and updates
live here once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from rollwright.domain.attestation import Attestation
from rollwright.domain.digest import Digest
from rollwright.domain.durations import Duration
from rollwright.domain.plan import ServicePlan
from rollwright.domain.source import SourceEvent
from rollwright.domain.verification import CheckResult
from rollwright.domain.windows import BreakGlass

DEPLOYMENT_WORKFLOW = "DeploymentWorkflow"
# Task queues, unless the config's `temporal:` section names others.
DEFAULT_TASK_QUEUE = "rollwright"
DEFAULT_PULUMI_TASK_QUEUE = "rollwright-pulumi"
PIPELINE_WORKFLOW = "ServicePipelineWorkflow"


def pipeline_workflow_id(service: str) -> str:
    """The per-service entity's workflow id: one pipeline per service, so one deployment at a time."""
    return f"pipeline-{service}"


class ControlName(StrEnum):
    """Update names (and signal names, with the `_signal` suffix) of the operator controls."""

    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"
    APPROVE = "approve"

    @property
    def signal_name(self) -> str:
        return f"{self.value}_signal"


STATUS_QUERY = "status"
ENQUEUE_SIGNAL = "enqueue"
# The pipeline tells a running deployment that a newer version waits: its post-deploy watch ends (or is skipped).
NEWER_VERSION_SIGNAL = "newer_version"
# `rollwright freeze`/`unfreeze` tell running deployments in the scope: one held re-checks its freezes at once.
FREEZES_CHANGED_SIGNAL = "freezes_changed"


class NewerVersion(BaseModel):
    tag: str
    digest: Digest


class FreezesChanged(BaseModel):
    """What the freezes_changed signal carries: who changed them and how (for the log; the store is the truth)."""

    actor: str
    change: str


class ControlRequest(BaseModel):
    """Who asks for a pause/resume/abort/approve, and why: both required, both audited."""

    actor: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    # approve only: which environment is approved; None approves whatever waits now.
    environment: str | None = None
    # approve only: through a closed deploy window, for a member of the environment's break_glass_groups.
    break_glass: bool = False
    # Set by the control API: who the actor verifiably is (rollwright/domain/attestation.py). None: unverified.
    attestation: Attestation | None = None


class ControlAnswer(BaseModel):
    """What the workflow says about an accepted request; a rejected one never gets this far (validators)."""

    message: str


class AuditEntry(BaseModel):
    at: datetime
    action: str
    actor: str
    reason: str
    # The actor is the subject of an attestation the workflow checked (the control API's verified token); False:
    # the actor's own word (a signal from the Temporal UI, an update straight to Temporal, Rollwright itself).
    verified: bool = False


class Approval(BaseModel):
    """One approval that counted towards an environment's approval policy."""

    environment: str
    actor: str
    at: datetime
    verified: bool = False


class DeploymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"
    FAILED = "failed"
    STOPPED = "stopped"  # an approval timed out with on_timeout=stop; nothing was rolled back
    SUPERSEDED = "superseded"  # a newer version came while this one waited for approval; nothing had changed


class RegionPhase(StrEnum):
    PENDING = "pending"
    PROVISIONING = "provisioning"
    COMMITTING = "committing"
    SYNCING = "syncing"
    LIVE = "live"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_FAILED = "rollback_failed"


class DeploymentPhase(StrEnum):
    """The deployment's current phase, as the RollwrightPhase search attribute shows it."""

    PUBLISHING = "publishing"
    DEPLOYING = "deploying"
    BAKING = "baking"
    WATCHING = "watching"
    AWAITING_APPROVAL = "awaiting_approval"
    PAUSED = "paused"
    # Waiting for a freeze to lift or a closed deploy window to open (status.held says which, until when).
    HELD = "held"
    ROLLING_BACK = "rolling_back"
    DONE = "done"


class DeploymentLimits(BaseModel):
    """How long each step may take: explicit, so slow clusters and tests can tune them.

    A step is retried until its budget (schedule-to-close) runs out, however many attempts that takes: a worker
    dying under it costs time, never a slot of a fixed attempt count, so crash-looping workers cannot fail a
    healthy version. Only the step's own verdict (a non-retryable error, a failed canary) stops a deployment.
    """

    model_config = ConfigDict(frozen=True)

    # One attempt.
    light_timeout: Duration = timedelta(minutes=2)
    publish_timeout: Duration = timedelta(minutes=10)
    provision_timeout: Duration = timedelta(minutes=30)
    # sync_and_follow may run as long as the canary's progress deadline, plus this margin.
    handoff_margin: Duration = timedelta(minutes=5)
    # Every activity heartbeats; a worker that dies under one is noticed within this.
    heartbeat_timeout: Duration = timedelta(seconds=15)
    # All attempts of one step, retries after dead workers and transient errors included.
    light_budget: Duration = timedelta(minutes=15)
    publish_budget: Duration = timedelta(minutes=45)
    provision_budget: Duration = timedelta(hours=2)
    # On top of the progress deadline, which bounds the canary itself across attempts (activities/handoff.py).
    handoff_budget_margin: Duration = timedelta(minutes=20)
    retry_initial_interval: Duration = timedelta(seconds=2)
    retry_max_interval: Duration = timedelta(minutes=1)
    # 0: no count, the budgets bound each step. Deployments started before budgets carry their old count.
    max_attempts: int = Field(default=0, ge=0)


class DeploymentKind(StrEnum):
    """What a deployment is for: a rollout (a push, a promotion, a pin), or a deliberate rollback to a chosen
    version (no canary steps, no approval or bake, waves newest first with a wave's regions at once)."""

    ROLL_FORWARD = "roll_forward"
    PIN = "pin"
    ROLLBACK = "rollback"
    # A digest marked bad in another lane, undone here by that lane's `on_bad_elsewhere: rollback`.
    BAD_ELSEWHERE = "bad_elsewhere"


class VersionRef(BaseModel):
    tag: str
    digest: Digest


class RollbackOrder(BaseModel):
    """A deliberate rollback's own terms: what it replaces, who asked and why, and whether to mark it bad."""

    replaces: VersionRef | None = None
    actor: str
    reason: str
    mark_replaced_bad: bool = True


class DeploymentInput(BaseModel):
    plan: ServicePlan
    tag: str
    digest: Digest
    tag_policy: str = ".*"
    promote_to: str | None = None
    source: SourceEvent
    # Provision activities run one Pulumi process each, on their own task queue with bounded concurrency.
    pulumi_task_queue: str = DEFAULT_PULUMI_TASK_QUEUE
    limits: DeploymentLimits = DeploymentLimits()
    # ROLLBACK and BAD_ELSEWHERE deploy `tag`/`digest` back into every region of the plan's one environment.
    kind: DeploymentKind = DeploymentKind.ROLL_FORWARD
    rollback: RollbackOrder | None = None
    # A verified `deploy --break-glass`: this deployment goes through a closed deploy window.
    break_glass: BreakGlass | None = None
    # The lane that started it, told the moment this deployment starts rolling back, so the other lanes undo the
    # bad digest alongside instead of after every region here is back.
    lane_workflow_id: str | None = None


class RegionStatus(BaseModel):
    service: str
    environment: str
    region: str
    phase: RegionPhase = RegionPhase.PENDING
    digest: Digest | None = None
    previous_digest: Digest | None = None
    revision: str | None = None
    canary_step: int | None = None
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Advisory policy violations of the region's last provision: the deployment went on, people should look.
    advisories: list[str] = Field(default_factory=list)


class DeploymentStatus(BaseModel):
    service: str
    tag: str
    digest: Digest
    phase: DeploymentPhase
    outcome: DeploymentOutcome | None = None
    paused: bool = False
    awaiting_approval: str | None = Field(default=None, description="environment waiting for approval")
    # While an environment waits: how many distinct approvers its policy needs in all.
    approvals_needed: int | None = None
    # Every approval that counted, per environment, in the order they came.
    approvals: list[Approval] = Field(default_factory=list)
    current_environment: str | None = None
    current_wave: int | None = None
    regions: list[RegionStatus] = Field(default_factory=list)
    audit: list[AuditEntry] = Field(default_factory=list)
    failure_reason: str | None = None
    # Rollwright's own checks: the latest measurement of each check in each live region, and the watch's end.
    checks: list[CheckResult] = Field(default_factory=list)
    watching_until: datetime | None = None
    # Set while a failure with `on_failure: halt` holds the deployment for an engineer's abort or resume.
    halted: str | None = None
    # Set while a freeze or a closed deploy window holds the deployment: why, and until when it is known to last.
    held: str | None = None
    held_until: datetime | None = None


class DeploymentResult(BaseModel):
    outcome: DeploymentOutcome
    tag: str
    digest: Digest
    reason: str | None = None
    regions: list[RegionStatus]
    audit: list[AuditEntry] = Field(default_factory=list)


class PipelineSettings(BaseModel):
    """What the pipeline needs from the workers' config to start a deployment (activity read_service_plan)."""

    plan: ServicePlan
    tag_policy: str = ".*"
    promote_to: str | None = None
    pulumi_task_queue: str = DEFAULT_PULUMI_TASK_QUEUE
    limits: DeploymentLimits = DeploymentLimits()


class PushEvent(BaseModel):
    """A registry said "image pushed": only a hint, normalized from any webhook source (or the CLI)."""

    service: str
    repository: str
    tag: str
    digest_hint: Digest | None = None
    pushed_at: datetime | None = None
    source: SourceEvent
    # Legacy: senders before the workers owned the plan attached their config's copy. Only pipelines started
    # then (no `plan-from-workers` patch) still read it; today's senders never set it.
    settings: PipelineSettings | None = None


class PipelineInput(BaseModel):
    service: str
    state: PipelineState | None = None
    # Continue-as-new once history has this many events (None: only when the server suggests it). Tests set it low.
    continue_as_new_after_events: int | None = Field(default=None, ge=10)


class QueuedVersion(BaseModel):
    tag: str
    digest_hint: Digest | None = None
    pushed_at: datetime | None = None
    source: SourceEvent
    digest: Digest | None = Field(default=None, description="resolved from the registry by inspect_candidate")
    # A pin with a verified break-glass: its deployment goes through a closed deploy window.
    break_glass: BreakGlass | None = None


class PipelineDeployment(BaseModel):
    """One deployment the pipeline started, and how it ended (outcome None while it runs)."""

    workflow_id: str
    tag: str
    digest: Digest
    started_at: datetime
    outcome: DeploymentOutcome | None = None
    reason: str | None = None


class SupersededVersion(BaseModel):
    tag: str
    digest: Digest | None = None
    superseded_by: str
    at: datetime


class PipelineState(BaseModel):
    """All of the pipeline entity's state, handed over whole on continue-as-new."""

    queue: list[QueuedVersion] = Field(default_factory=list)
    seen_delivery_ids: list[str] = Field(default_factory=list)
    seen_digests: list[str] = Field(default_factory=list)
    current: QueuedVersion | None = None
    current_workflow_id: str | None = None
    live_tag: str | None = None
    live_digest: Digest | None = None
    superseded: list[SupersededVersion] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list, description="why recent pushes started nothing")
    deployments_started: int = 0
    live_pushed_at: datetime | None = None
    next_up: QueuedVersion | None = Field(default=None, description="screened and waiting for the current one")
    recent: list[PipelineDeployment] = Field(default_factory=list)
    settings: PipelineSettings | None = None


PipelineInput.model_rebuild()


class PipelineStatus(BaseModel):
    service: str
    current_workflow_id: str | None
    current: QueuedVersion | None
    queue: list[QueuedVersion]
    live_tag: str | None
    live_digest: Digest | None
    superseded: list[SupersededVersion]
    ignored: list[str]
    next_up: QueuedVersion | None = None
    recent: list[PipelineDeployment] = Field(default_factory=list)
    deployments_started: int = 0
