"""The deployment and pipeline workflows' public surface: inputs, results, controls, status.

Webhook receiver, CLI and workflows all import these, so the names of workflows, signals and updates
live here once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from activities.contracts import SourceEvent
from domain.digest import Digest
from domain.plan import ServicePlan

DEPLOYMENT_WORKFLOW = "DeploymentWorkflow"
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


class ControlRequest(BaseModel):
    """Who asks for a pause/resume/abort/approve, and why: both required, both audited."""

    actor: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    # approve only: which environment is approved; None approves whatever waits now.
    environment: str | None = None


class ControlAnswer(BaseModel):
    accepted: bool = True
    message: str


class AuditEntry(BaseModel):
    at: datetime
    action: str
    actor: str
    reason: str


class DeploymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"
    FAILED = "failed"
    STOPPED = "stopped"  # an approval timed out with on_timeout=stop; nothing was rolled back
    SUPERSEDED = "superseded"


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
    AWAITING_APPROVAL = "awaiting_approval"
    PAUSED = "paused"
    ROLLING_BACK = "rolling_back"
    DONE = "done"


class DeploymentInput(BaseModel):
    plan: ServicePlan
    tag: str
    digest: Digest
    tag_policy: str = ".*"
    promote_to: str | None = None
    source: SourceEvent


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


class DeploymentStatus(BaseModel):
    service: str
    tag: str
    digest: Digest
    phase: DeploymentPhase
    outcome: DeploymentOutcome | None = None
    paused: bool = False
    awaiting_approval: str | None = Field(default=None, description="environment waiting for approval")
    current_environment: str | None = None
    current_wave: int | None = None
    regions: list[RegionStatus] = Field(default_factory=list)
    audit: list[AuditEntry] = Field(default_factory=list)
    failure_reason: str | None = None


class DeploymentResult(BaseModel):
    outcome: DeploymentOutcome
    tag: str
    digest: Digest
    reason: str | None = None
    regions: list[RegionStatus]
    audit: list[AuditEntry] = Field(default_factory=list)


class PushEvent(BaseModel):
    """A registry said "image pushed": only a hint, normalized from any webhook source (or the CLI)."""

    service: str
    repository: str
    tag: str
    digest_hint: Digest | None = None
    pushed_at: datetime | None = None
    source: SourceEvent


class PipelineInput(BaseModel):
    service: str
    state: PipelineState | None = None


class QueuedVersion(BaseModel):
    tag: str
    digest_hint: Digest | None = None
    pushed_at: datetime | None = None
    source: SourceEvent


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
