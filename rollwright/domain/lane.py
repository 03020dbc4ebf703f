"""Lanes: each environment of a service is a lane with its own entity workflow, one deployment at a time.

The first lane takes pushes; a later lane takes its versions from the lane its `promote` rule names, after the
version has been live there for `after`, or only when an engineer promotes it (`manual`). Deliberate rollbacks
and pins put a hold on a lane: no automatic roll-forward until an engineer releases it. A bad mark is global:
every lane is told, and rolls back or keeps the version by its own `on_bad_elsewhere`.

The webhook receiver, the CLI and the workflows all import these, so the names live here once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from rollwright.domain.attestation import Attestation
from rollwright.domain.deployment import (
    DeploymentKind,
    DeploymentOutcome,
    PipelineSettings,
    QueuedVersion,
    RollbackOrder,
    SupersededVersion,
    VersionRef,
)
from rollwright.domain.digest import Digest

LANE_WORKFLOW = "LaneWorkflow"

# Signals a lane takes: a push (first lane), a version due from the lane before it, a digest marked bad elsewhere,
# and its own deployment's word that it began rolling back (its digest is bad from that moment on).
OFFER_SIGNAL = "offer"
BAD_ELSEWHERE_SIGNAL = "digest_marked_bad"
ROLLING_BACK_SIGNAL = "deployment_rolling_back"


def lane_workflow_id(service: str, environment: str) -> str:
    """One lane per service and environment, so one deployment at a time per environment."""
    return f"lane-{service}-{environment}"


def lane_name(service: str, environment: str) -> str:
    """How the Temporal UI filters a lane and its deployments: `RollwrightLane = 'checkout-api/prod'`."""
    return f"{service}/{environment}"


class LaneControl(StrEnum):
    """Update names of a lane's controls; each is validated before it reaches history, and audited."""

    ROLLBACK = "rollback"
    PIN = "pin"
    RELEASE = "release"
    PROMOTE = "promote"


class LiveVersion(BaseModel):
    """A version that went live in a lane, and since when (the promotion timer counts from `since`)."""

    tag: str
    digest: Digest
    pushed_at: datetime | None = None
    since: datetime
    # Who pushed or commanded it into the first lane: the later lanes' deployments of it are theirs too, for an
    # approval policy's `not_by_initiator`.
    initiator: str | None = None


class HoldKind(StrEnum):
    ROLLBACK = "rollback"
    PIN = "pin"


class Hold(BaseModel):
    """No automatic roll-forward in this lane until `rollwright release`."""

    kind: HoldKind
    actor: str
    reason: str
    since: datetime
    version: VersionRef | None = None


class PendingPromotion(BaseModel):
    """A version live in this lane that is offered to the lanes after it once `due_at` comes."""

    tag: str
    digest: Digest
    pushed_at: datetime | None = None
    due_at: datetime
    to: list[str]
    initiator: str | None = None


class PromotionOffer(BaseModel):
    """A version the lane before this one vouches for (live and healthy there long enough), or an engineer's
    `rollwright promote`."""

    tag: str
    digest: Digest
    pushed_at: datetime | None = None
    from_environment: str
    actor: str = "rollwright"
    reason: str | None = None


class BadElsewhere(BaseModel):
    digest: Digest
    tag: str | None = None
    environment: str
    reason: str
    workflow_id: str | None = None


class RollbackRequest(BaseModel):
    """`rollwright rollback`: back to `to` (None: the lane's previous good version); the replaced version is
    marked bad unless `keep_good`."""

    actor: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    to: VersionRef | None = None
    keep_good: bool = False
    attestation: Attestation | None = None


class PinRequest(BaseModel):
    """`rollwright deploy SERVICE VERSION --env E --reason`: this exact version, through the normal rollout."""

    actor: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    tag: str = Field(min_length=1)
    digest: Digest | None = None
    # Through a closed deploy window, for a member of the environment's break_glass_groups (verified).
    break_glass: bool = False
    attestation: Attestation | None = None


class ReleaseRequest(BaseModel):
    actor: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    attestation: Attestation | None = None


class PromoteRequest(BaseModel):
    """`rollwright promote SERVICE ENV [VERSION]`: the version (the CLI resolves the default, the previous
    lane's live one) enters this lane's queue now, whatever its rule's timer says."""

    actor: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    tag: str = Field(min_length=1)
    digest: Digest
    attestation: Attestation | None = None


class LaneAnswer(BaseModel):
    message: str
    workflow_id: str | None = None


class LaneActionKind(StrEnum):
    ROLLBACK = "rollback"
    PIN = "pin"
    HOLD = "hold"
    RELEASE = "release"
    PROMOTE = "promote"


class LaneAction(BaseModel):
    """One deliberate act on a lane, as the version store audits it (who, why, when, which workflow)."""

    service: str
    environment: str
    action: LaneActionKind
    actor: str
    reason: str
    at: datetime
    workflow_id: str
    tag: str | None = None
    digest: Digest | None = None
    # The actor is an attested subject (the control API's verified token), not the request's own word.
    verified: bool = False


class LaneDeployment(BaseModel):
    workflow_id: str
    kind: DeploymentKind
    tag: str
    digest: Digest
    started_at: datetime
    outcome: DeploymentOutcome | None = None
    reason: str | None = None


class PendingRollback(BaseModel):
    """A rollback the lane starts next: to `to`, on the terms of `order` (who, why, what it replaces)."""

    kind: DeploymentKind
    to: VersionRef
    order: RollbackOrder
    workflow_id: str


class LaneState(BaseModel):
    """All of a lane's state, handed over whole on continue-as-new."""

    queue: list[QueuedVersion] = Field(default_factory=list)
    seen_delivery_ids: list[str] = Field(default_factory=list)
    seen_digests: list[str] = Field(default_factory=list)
    current: QueuedVersion | None = None
    current_workflow_id: str | None = None
    current_kind: DeploymentKind | None = None
    next_up: QueuedVersion | None = Field(default=None, description="screened and waiting its turn")
    # An engineer's pin, deployed even if older than live; it goes before next_up, and holds the lane.
    next_pin: QueuedVersion | None = None
    # A deliberate or bad-elsewhere rollback: the next thing the lane runs.
    next_rollback: PendingRollback | None = None
    live: LiveVersion | None = None
    # Versions that went live here, newest last: the previous good one is the rollback target.
    good: list[LiveVersion] = Field(default_factory=list)
    bad_digests: list[str] = Field(default_factory=list)
    # Told by other lanes, not yet acted on.
    bad_elsewhere: list[BadElsewhere] = Field(default_factory=list)
    hold: Hold | None = None
    promotions: list[PendingPromotion] = Field(default_factory=list)
    # Deliberate acts not yet written to the version store's audit.
    unaudited: list[LaneAction] = Field(default_factory=list)
    superseded: list[SupersededVersion] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list, description="why recent candidates started nothing")
    recent: list[LaneDeployment] = Field(default_factory=list)
    deployments_started: int = 0
    settings: PipelineSettings | None = None
    last_actor: str | None = None

    # The screening rules read these names (workflows/screening.py).
    @property
    def live_tag(self) -> str | None:
        return self.live.tag if self.live else None

    @property
    def live_pushed_at(self) -> datetime | None:
        return self.live.pushed_at if self.live else None


class LaneInput(BaseModel):
    service: str
    environment: str
    state: LaneState | None = None
    continue_as_new_after_events: int | None = Field(default=None, ge=10)


class LaneStatus(BaseModel):
    """What `rollwright status` shows per lane."""

    service: str
    environment: str
    live: LiveVersion | None
    current_workflow_id: str | None
    current: QueuedVersion | None
    current_kind: DeploymentKind | None
    next_up: QueuedVersion | None
    next_pin: QueuedVersion | None = None
    next_rollback: PendingRollback | None = None
    hold: Hold | None
    # The earliest of `promotions`: what this lane offers next, and to which lanes.
    promotion: PendingPromotion | None
    promotions: list[PendingPromotion] = Field(default_factory=list)
    superseded: list[SupersededVersion]
    ignored: list[str]
    recent: list[LaneDeployment]
    good: list[LiveVersion]
