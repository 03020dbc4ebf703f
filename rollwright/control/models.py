"""What each control operation is asked (an order) and what it answers; the control API's bodies and replies.

Orders name the service and the environment by name, as an engineer types them; the operation checks them
against the config and the lanes. Who acts is not part of an order: it comes from the Acting (a verified token's
subject through the API, `--actor` on the CLI).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rollwright.domain.deployment import ControlName
from rollwright.domain.lane import LaneControl
from rollwright.versionstore import BadMark


class Action(StrEnum):
    """Everything an operator may be allowed to do (api.roles maps roles to these)."""

    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"
    APPROVE = "approve"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    DEPLOY = "deploy"
    RELEASE = "release"
    UNBLOCK = "unblock"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    STATUS = "status"


class _Order(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = Field(min_length=1, max_length=200)


class _Reasoned(_Order):
    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("reason")
    @classmethod
    def _says_why(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("reason must say why")
        return reason


class DeploymentOrder(_Reasoned):
    """pause/resume/abort/approve the deployment `environment`'s lane runs (None: the one lane that runs one)."""

    environment: str | None = None
    # approve only: through a closed deploy window (members of the environment's break_glass_groups).
    break_glass: bool = False


class RollbackOrder(_Reasoned):
    """None: every lane with a live version, the last environment first."""

    environment: str | None = None
    to: str | None = Field(default=None, description="tag or digest (default: the lane's previous good version)")
    keep_good: bool = False


class ReleaseOrder(_Reasoned):
    environment: str | None = Field(default=None, description="None: every held lane")


class PromoteOrder(_Reasoned):
    environment: str
    version: str | None = Field(default=None, description="tag or digest (default: live where it promotes from)")


class DeployOrder(_Order):
    """Without environment: queue `ref` in the first lane as a push would. With environment and reason: pin."""

    ref: str = Field(min_length=1, max_length=200)
    environment: str | None = None
    reason: str | None = Field(default=None, max_length=2000)
    break_glass: bool = False


class UnblockOrder(_Reasoned):
    digest: str


class FreezeOrder(BaseModel):
    """Stop the line for `services` (or all), in `environment` (None: every one), until `until` (None: unfrozen)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    services: list[str] = Field(default_factory=list, max_length=200)
    all_services: bool = False
    environment: str | None = None
    reason: str = Field(min_length=1, max_length=2000)
    until: datetime | None = None
    let_running_finish: bool = False


class UnfreezeOrder(BaseModel):
    """Lift every freeze within the scope, or the one `freeze_id`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    services: list[str] = Field(default_factory=list, max_length=200)
    all_services: bool = False
    environment: str | None = None
    freeze_id: int | None = None
    reason: str = Field(min_length=1, max_length=2000)


class ControlResult(BaseModel):
    service: str
    environment: str
    workflow_id: str
    control: ControlName
    message: str


class LaneResult(BaseModel):
    """What one lane answered; `workflow_id` names a deployment it starts, `error` why it refused."""

    service: str
    environment: str
    control: LaneControl
    lane_workflow_id: str
    message: str | None = None
    workflow_id: str | None = None
    error: str | None = None

    def line(self) -> str:
        if self.error is not None:
            return f"{self.environment}: {self.error}"
        started = f" ({self.workflow_id})" if self.workflow_id else ""
        return f"{self.environment}: {self.message}{started}"


class Queued(BaseModel):
    service: str
    tag: str
    digest_hint: str | None
    workflow_id: str
    delivery_id: str
    # Why the version was queued without comparing it with what is live.
    note: str | None = None


class Pinned(BaseModel):
    service: str
    environment: str
    tag: str
    digest: str | None
    lane_workflow_id: str
    message: str


class Unblocked(BaseModel):
    service: str
    digest: str
    cleared: BadMark
    actor: str
    reason: str
