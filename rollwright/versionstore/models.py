"""What the version store answers with: versions, deployments per region, bad marks and their audit trail, and
the deliberate acts on lanes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneActionKind
from rollwright.domain.region_state import RegionState


class VersionState(StrEnum):
    PENDING = "pending"  # published, not yet deployed anywhere
    DEPLOYING = "deploying"
    LIVE = "live"  # running in at least one region
    SUPERSEDED = "superseded"  # was live, since replaced everywhere by newer versions
    ROLLED_BACK = "rolled_back"
    BAD = "bad"  # marked bad: never deployed automatically until cleared


class VersionRecord(BaseModel):
    service: str
    tag: str
    digest: str
    image: str | None
    state: VersionState
    pushed_at: datetime | None
    source: str | None
    source_event_id: str | None
    workflow_id: str | None
    recorded_at: datetime
    updated_at: datetime


class DeploymentRecord(BaseModel):
    target: RegionTarget
    digest: str
    tag: str
    workflow_id: str
    state: RegionState
    detail: str | None
    started_at: datetime
    updated_at: datetime
    live_at: datetime | None
    finished_at: datetime | None


class LiveRegion(BaseModel):
    target: RegionTarget
    digest: str
    tag: str
    workflow_id: str
    since: datetime


class BadMark(BaseModel):
    service: str
    digest: str
    reason: str
    actor: str
    workflow_id: str | None
    marked_at: datetime


class AuditAction(StrEnum):
    MARK_BAD = "mark_bad"
    CLEAR_BAD = "clear_bad"


class AuditRecord(BaseModel):
    at: datetime
    action: AuditAction
    service: str
    digest: str
    actor: str
    reason: str
    workflow_id: str | None


class LaneActionRecord(BaseModel):
    """A deliberate act on a lane as audited: who did what, why, when (`at`, the lane's own time) and in which
    workflow; the version it was about, if any."""

    service: str
    environment: str
    action: LaneActionKind
    actor: str
    reason: str
    at: datetime
    workflow_id: str
    tag: str | None
    digest: str | None
    recorded_at: datetime
    # The actor is an attested subject (the control API's verified token), not only a name.
    verified: bool = False
