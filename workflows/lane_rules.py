"""A lane's rules that need no Temporal: which version a rollback returns to, which controls make sense now, and
what the Temporal UI shows for a lane. Pure functions of the lane's state, so the workflow stays a loop."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from rollwright.domain.deployment import DeploymentKind
    from rollwright.domain.digest import short
    from rollwright.domain.lane import LaneState, LiveVersion, PinRequest, PromoteRequest, RollbackRequest


def previous_good(state: LaneState) -> LiveVersion | None:
    """The newest version that went live here before the live one and is not known bad: a rollback's target."""
    live = state.live.digest if state.live else None
    for version in reversed(state.good):
        if version.digest != live and version.digest not in state.bad_digests:
            return version
    return None


def _busy(state: LaneState, environment: str) -> str | None:
    if state.next_rollback is not None:
        return f"a rollback of {environment} to {state.next_rollback.to.tag} is about to start"
    if state.current is not None and state.current_kind in (DeploymentKind.ROLLBACK, DeploymentKind.BAD_ELSEWHERE):
        return f"{environment} is rolling back to {state.current.tag} in {state.current_workflow_id}"
    return None


def rollback_rejection(request: RollbackRequest, state: LaneState, environment: str) -> str | None:
    """Why `rollwright rollback` cannot run now, or None."""
    busy = _busy(state, environment)
    if busy:
        return busy
    if state.current is not None:
        return (
            f"{state.current.tag} is deploying in {environment} ({state.current_workflow_id}): abort it first, "
            "which rolls back what it changed"
        )
    if state.live is None:
        return f"nothing is live in {environment} yet: there is nothing to roll back"
    if request.to is not None:
        if request.to.digest == state.live.digest:
            return f"{environment} already runs {request.to.tag} ({short(request.to.digest)})"
        if request.to.digest in state.bad_digests:
            return f"{request.to.tag} ({short(request.to.digest)}) is marked bad: `rollwright unblock` it first"
        return None
    if previous_good(state) is None:
        return f"{environment} has no earlier good version than {state.live.tag}: say which one with --to"
    return None


def pin_rejection(request: PinRequest, state: LaneState, environment: str) -> str | None:
    busy = _busy(state, environment)
    if busy:
        return busy
    if request.digest is not None and request.digest in state.bad_digests:
        return f"{request.tag} ({short(request.digest)}) is marked bad: `rollwright unblock` it first"
    return None


def promote_rejection(request: PromoteRequest, state: LaneState, environment: str) -> str | None:
    if state.hold is not None:
        return (
            f"{environment} is held ({state.hold.kind.value} by {state.hold.actor}: {state.hold.reason}): "
            "`rollwright release` it first"
        )
    if request.digest in state.bad_digests:
        return f"{request.tag} ({short(request.digest)}) is marked bad"
    if state.live is not None and state.live.digest == request.digest:
        return f"{environment} already runs {request.tag}"
    return None


def release_rejection(state: LaneState, environment: str) -> str | None:
    if state.hold is None:
        return f"{environment} is not held"
    return None


def lane_details(service: str, environment: str, state: LaneState) -> str:
    """The lane's current details in the Temporal UI: live, running, waiting, held, due."""
    lines = [f"### lane {service}/{environment}"]
    lines.append(f"**Live:** {state.live.tag if state.live else 'nothing yet'}")
    if state.hold is not None:
        hold = state.hold
        lines.append(
            f"**Held** ({hold.kind.value}) by {hold.actor} since {hold.since:%Y-%m-%d %H:%M} UTC: {hold.reason}"
        )
    if state.current is not None:
        kind = state.current_kind.value if state.current_kind else "deploy"
        lines.append(f"**Running:** {kind} {state.current.tag} in `{state.current_workflow_id}`")
    if state.next_rollback is not None:
        lines.append(f"**Next:** rollback to {state.next_rollback.to.tag}")
    if state.next_pin is not None:
        lines.append(f"**Next:** pin {state.next_pin.tag}")
    if state.next_up is not None:
        lines.append(f"**Queued:** {state.next_up.tag}" + (" (waits for release)" if state.hold else ""))
    for promotion in state.promotions:
        lines.append(f"**Promotes** {promotion.tag} to {', '.join(promotion.to)} at {promotion.due_at:%H:%M:%S} UTC")
    if state.recent:
        lines += ["", "**Recent deployments**"]
        lines += [
            f"- {d.kind.value} {d.tag}: {d.outcome.value if d.outcome else 'running'} (`{d.workflow_id}`)"
            for d in state.recent[-10:]
        ]
    if state.ignored:
        lines += ["", "**Ignored**"]
        lines += [f"- {reason}" for reason in state.ignored[-10:]]
    return "\n".join(lines)
