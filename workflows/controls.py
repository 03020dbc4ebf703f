"""When an operator control makes sense: one pure function shared by update validators and signal handlers.

Validators must not mutate state or touch history, so the judgement lives here, apart from its effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

from workflows.callers import Caller

with workflow.unsafe.imports_passed_through():
    from rollwright.domain.deployment import ControlName, ControlRequest
    from rollwright.domain.plan import ApprovalPlan


@dataclass(frozen=True)
class ControlView:
    """The part of a deployment's state a control request is judged against."""

    finished: bool
    stopping: bool
    paused: bool
    awaiting_approval: str | None
    # A deliberate rollback (DeploymentKind.ROLLBACK, BAD_ELSEWHERE): no way back from it, so no abort.
    rolling_back_on_purpose: bool = False
    # The policy of the environment waiting for approval, and who has approved it so far.
    approval: ApprovalPlan | None = None
    approved_by: tuple[str, ...] = ()
    # Who pushed or commanded this deployment (its source's actor), when the source said.
    initiator: str | None = None


def rejection(
    control: ControlName, request: ControlRequest, view: ControlView, caller: Caller | None = None
) -> str | None:
    """Why `control` from `caller` (None: the request's actor, unverified) cannot be applied now, or None when it
    can."""
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
        return approval_rejection(view.awaiting_approval, view, caller or Caller(request.actor))
    return None


def approval_rejection(environment: str, view: ControlView, caller: Caller) -> str | None:
    """Why `caller`'s approval would not count towards `environment`'s approval policy, or None when it does."""
    policy = view.approval or ApprovalPlan(required=True)
    if policy.groups:
        allowed = ", ".join(policy.groups)
        if not caller.verified:
            return (
                f"{environment}'s approvals count only from the groups {allowed}, and groups are known only for a "
                "verified request: approve through the control API (`api.url` in the CLI's config)"
            )
        if not set(caller.groups) & set(policy.groups):
            return f"{caller.name} may not approve {environment}: its approvals count only from the groups {allowed}"
    if any(caller.is_(earlier) for earlier in view.approved_by):
        return (
            f"{caller.name} already approved {environment}: it needs {policy.approvers} distinct approvers "
            f"({len(view.approved_by)} so far)"
        )
    if policy.not_by_initiator and caller.is_(view.initiator):
        return (
            f"{caller.name} may not approve {environment}: {caller.name} pushed or commanded this deployment, "
            "and its approvals must come from someone else"
        )
    return None
