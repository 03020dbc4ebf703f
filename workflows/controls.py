"""When an operator control makes sense: one pure function shared by update validators and signal handlers.

Validators must not mutate state or touch history, so the judgement lives here, apart from its effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from rollwright.domain.deployment import ControlName, ControlRequest


@dataclass(frozen=True)
class ControlView:
    """The part of a deployment's state a control request is judged against."""

    finished: bool
    stopping: bool
    paused: bool
    awaiting_approval: str | None
    # A deliberate rollback (DeploymentKind.ROLLBACK, BAD_ELSEWHERE): no way back from it, so no abort.
    rolling_back_on_purpose: bool = False


def rejection(control: ControlName, request: ControlRequest, view: ControlView) -> str | None:
    """Why `control` cannot be applied now, or None when it can."""
    if not request.actor.strip() or not request.reason.strip():
        return "actor and reason are both required"
    if view.finished:
        return f"cannot {control.value}: the deployment has finished"
    if view.stopping:
        return f"cannot {control.value}: the deployment is already stopping and rolling back"
    if control is ControlName.ABORT and view.rolling_back_on_purpose:
        return (
            "cannot abort a rollback: stopping it would leave its regions split between two versions; "
            "pause it, or let it finish and then deploy the version you want"
        )
    if control is ControlName.PAUSE and view.paused:
        return "cannot pause: already paused"
    if control is ControlName.RESUME and not view.paused:
        return "cannot resume: not paused"
    if control is ControlName.APPROVE:
        if view.awaiting_approval is None:
            return "cannot approve: nothing is waiting for approval"
        if request.environment not in (None, view.awaiting_approval):
            return f"cannot approve {request.environment}: the deployment waits for {view.awaiting_approval}"
    return None
