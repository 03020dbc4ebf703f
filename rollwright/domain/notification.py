"""What on-call is told: approvals needed, environments done, rollbacks and failures."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from rollwright.domain.digest import Digest


class NotificationKind(StrEnum):
    APPROVAL_NEEDED = "approval_needed"
    ENVIRONMENT_SUCCEEDED = "environment_succeeded"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    HALTED = "halted"
    # A verified operator took a deployment through a closed deploy window.
    BREAK_GLASS = "break_glass"


class Notification(BaseModel):
    kind: NotificationKind
    service: str
    tag: str
    digest: Digest
    environment: str | None = None
    regions: list[str] = Field(default_factory=list, description="region keys service/env/region")
    reason: str | None = None
    workflow_id: str
    advisories: list[str] = Field(default_factory=list, description="advisory policy violations, `region: verdict`")
