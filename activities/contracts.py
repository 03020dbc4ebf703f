"""Every activity's name, input and output: the contract between workflows and the workers that run them.

Workflows call activities by these names (so tests can register doubles under the same names), and each
activity takes one pydantic model and returns one, so fields can be added without breaking histories.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from rollwright.domain.digest import Digest
from rollwright.domain.freeze import Freeze
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import BadElsewhere, PromotionOffer
from rollwright.domain.plan import CanaryAnalysis, CanaryStep
from rollwright.domain.policy import PolicyVerdict
from rollwright.domain.region_state import RegionState
from rollwright.domain.source import SourceEvent
from rollwright.domain.verification import CheckResult, VerificationCheck


class ActivityName(StrEnum):
    # Light activities: HTTP and database calls, on the main task queue.
    READ_SERVICE_PLAN = "read_service_plan"
    INSPECT_CANDIDATE = "inspect_candidate"
    PUBLISH_IMAGE = "publish_image"
    GET_REGION_BASELINE = "get_region_baseline"
    RECORD_REGION_STATE = "record_region_state"
    MARK_DIGEST_BAD = "mark_digest_bad"
    COMMIT_MANIFESTS = "commit_manifests"
    SYNC_AND_FOLLOW = "sync_and_follow"
    ABORT_ROLLOUT = "abort_rollout"
    PAUSE_ROLLOUT = "pause_rollout"
    RESUME_ROLLOUT = "resume_rollout"
    RUN_CHECKS = "run_checks"
    NOTIFY = "notify"
    # Lanes: audit a deliberate act, hand a version to the next lane, tell every lane a digest went bad.
    RECORD_LANE_ACTION = "record_lane_action"
    OFFER_PROMOTION = "offer_promotion"
    TELL_LANES_BAD = "tell_lanes_bad"
    # Change control: the freezes in force for a deployment (version store read).
    CHECK_FREEZES = "check_freezes"
    # Heavy activities: one Pulumi process each, on the Pulumi task queue with bounded concurrency.
    PROVISION_REGION = "provision_region"
    PREVIEW_REGION = "preview_region"


class ErrorType(StrEnum):
    """ApplicationError types that retrying cannot fix; workflows list them as non-retryable."""

    CONFIG_INVALID = "ConfigInvalid"
    TAG_POLICY_VIOLATION = "TagPolicyViolation"
    IMAGE_NOT_FOUND = "ImageNotFound"
    REGISTRY_AUTH = "RegistryAuthFailed"
    DIGEST_MISMATCH = "DigestMismatch"
    GUARDRAIL_VIOLATION = "GuardrailViolation"
    PULUMI_PROGRAM_ERROR = "PulumiProgramError"
    ARGOCD_AUTH = "ArgoCDAuthFailed"
    ARGOCD_NOT_FOUND = "ArgoCDNotFound"
    ROLLOUT_UNJUDGEABLE = "RolloutUnjudgeable"
    SERVICE_UNKNOWN = "ServiceUnknown"
    CHECK_INVALID = "CheckInvalid"


# -- publish ---------------------------------------------------------------------------------------


class ServicePlanInput(BaseModel):
    service: str


class InspectCandidateInput(BaseModel):
    service: str
    image: str | None = Field(
        default=None, description="repository, e.g. registry.local:5000/shop/api; None: as the workers' config says"
    )
    tag: str
    digest_hint: Digest | None = None


class CandidateInfo(BaseModel):
    """What the per-service pipeline needs to decide whether a pushed version deserves a deployment."""

    tag: str
    digest: Digest
    pushed_at: datetime | None = None
    marked_bad: bool = False
    bad_reason: str | None = None
    tag_allowed: bool = True
    tag_policy: str | None = None


class PublishInput(BaseModel):
    service: str
    image: str
    tag: str
    digest: Digest = Field(description="digest the pipeline resolved; publish re-resolves and must agree")
    tag_policy: str = ".*"
    promote_to: str | None = None
    source: SourceEvent
    workflow_id: str


class PublishResult(BaseModel):
    digest: Digest
    tag: str
    image: str = Field(description="repository deployments pull from (the central one after promotion)")
    promoted: bool = False


# -- version store ---------------------------------------------------------------------------------


class RegionBaseline(BaseModel):
    """What ran in a region before this deployment touched it: the rollback target."""

    target: RegionTarget
    digest: Digest | None = None
    tag: str | None = None
    # What the store last recorded live there, marked bad or not: what a deliberate rollback replaces. None for a
    # region never live (or an answer from before this field, where `digest` was the best guess).
    running_digest: Digest | None = None
    running_tag: str | None = None


class RecordRegionStateInput(BaseModel):
    target: RegionTarget
    digest: Digest
    tag: str
    state: RegionState
    workflow_id: str
    detail: str | None = None


class MarkDigestBadInput(BaseModel):
    service: str
    digest: Digest
    reason: str
    actor: str
    workflow_id: str


# -- provision (Pulumi) and GitOps -----------------------------------------------------------------


class ProvisionPurpose(StrEnum):
    DEPLOY = "deploy"
    ROLLBACK = "rollback"
    REMOVE = "remove"
    SCALE_TO_ZERO = "scale_to_zero"


class ProvisionInput(BaseModel):
    target: RegionTarget
    image: str
    digest: Digest | None = Field(default=None, description="None only for purpose=remove")
    tag: str | None = None
    program: str = "rollwright.stacks.web_service:program"
    pulumi_config: dict[str, Any] = Field(default_factory=dict)
    canary_steps: list[CanaryStep] = Field(default_factory=list)
    analysis: CanaryAnalysis | None = Field(default=None, description="the canary's checks, rendered with it")
    purpose: ProvisionPurpose = ProvisionPurpose.DEPLOY
    workflow_id: str


class ProvisionResult(BaseModel):
    target: RegionTarget
    # Rendered manifests by path relative to the GitOps repository root. Results recorded before the version store
    # kept them carry them here; newer ones leave this empty and name them by `manifests_ref`.
    manifests: dict[str, str] = Field(default_factory=dict)
    content_hash: str
    manifests_ref: str | None = Field(
        default=None, description="content hash the version store keeps this region's rendered files under"
    )
    database_url: str | None = None
    changed_resources: int = 0
    # The policy packs' advisory verdicts: the change went through, and the deployment's status shows them.
    advisories: list[PolicyVerdict] = Field(default_factory=list)


class CommitInput(BaseModel):
    target: RegionTarget
    manifests: dict[str, str] = Field(
        default_factory=dict, description="full desired content of the region's directory, when not by reference"
    )
    manifests_ref: str | None = Field(
        default=None, description="the version store's key for that content (then `manifests` stays empty)"
    )
    tag: str | None = None
    digest: Digest | None = None
    purpose: ProvisionPurpose = ProvisionPurpose.DEPLOY
    workflow_id: str

    @model_validator(mode="after")
    def _one_source_of_files(self) -> CommitInput:
        if self.manifests and self.manifests_ref is not None:
            raise ValueError("give the region's files inline (manifests) or by reference (manifests_ref), not both")
        return self


class CommitResult(BaseModel):
    sha: str
    created: bool = Field(description="False when a retry found its own earlier commit, or nothing changed")


# -- hand-off (Argo CD) ----------------------------------------------------------------------------


class HandoffOutcome(StrEnum):
    HEALTHY = "healthy"
    CANARY_FAILED = "canary_failed"


class HandoffInput(BaseModel):
    target: RegionTarget
    app_name: str
    revision: str = Field(description="the GitOps commit Argo CD must sync to")
    digest: Digest | None = None
    progress_deadline_seconds: float = 1800.0


class HandoffResult(BaseModel):
    outcome: HandoffOutcome
    reason: str | None = None
    revision: str
    step_index: int | None = None
    weight: int | None = None


class RolloutActionInput(BaseModel):
    target: RegionTarget
    app_name: str
    reason: str | None = None


# -- verification ----------------------------------------------------------------------------------


class RegionToCheck(BaseModel):
    target: RegionTarget
    prometheus_address: str
    # False: still on the version before this deployment, measured as the baseline the changed regions are held to.
    changed: bool = True


class RunChecksInput(BaseModel):
    checks: list[VerificationCheck]
    regions: list[RegionToCheck]


class RunChecksResult(BaseModel):
    """Every check in every changed region, all measured at the same instant."""

    at: datetime
    results: list[CheckResult]

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if result.failed]


# -- notifications ---------------------------------------------------------------------------------


# -- lanes -----------------------------------------------------------------------------------------


class OfferPromotionInput(BaseModel):
    """Signal-with-start the lane `environment` of `service` with `offer` (the lane starts if none runs)."""

    service: str
    environment: str
    offer: PromotionOffer
    task_queue: str


class TellLanesBadInput(BaseModel):
    """Signal every lane of `environments` that runs; a lane that never started has nothing to undo."""

    service: str
    environments: list[str]
    bad: BadElsewhere


class TellLanesBadResult(BaseModel):
    told: list[str]


# -- change control --------------------------------------------------------------------------------


class CheckFreezesInput(BaseModel):
    service: str
    environment: str
    # When the deployment started: a let-running-finish freeze made after it does not hold it.
    started_at: datetime
    # The workflow's own time, so an expiry is judged on the clock its timers run on.
    at: datetime


class FreezesInForce(BaseModel):
    """The freezes that hold the deployment now, oldest first (empty: it goes on)."""

    holding: list[Freeze] = Field(default_factory=list)
