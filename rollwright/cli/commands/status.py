"""`rollwright status [SERVICE]`: per lane (one block per environment, in plan order) what is live in each region,
what deploys and in which phase, what waits its turn, whether the lane is held, and which promotion is due."""

from __future__ import annotations

import argparse

from rollwright.cli.context import Context
from rollwright.cli.errors import OperationFailed
from rollwright.cli.operations import operations
from rollwright.cli.render import ago, short_digest, table
from rollwright.control.status import LaneView, PromotionDue, RegionLive, ServiceStatus
from rollwright.domain.deployment import DeploymentStatus


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("status", parents=[common], help="show every lane: live, deploying, queued, held, due")
    parser.add_argument("service", nargs="?", help="one service (default: every configured service)")
    parser.set_defaults(func=run)


def _deployment_lines(status: DeploymentStatus, workflow_id: str, kind: str) -> list[str]:
    phase = status.phase.value + (" (paused)" if status.paused and status.phase.value != "paused" else "")
    where = status.current_environment or "-"
    if status.current_wave is not None:
        where += f" wave {status.current_wave}"
    lines = [
        f"running: {kind} {status.tag} ({short_digest(status.digest)}) in {workflow_id}",
        f"phase: {phase}, at {where}",
    ]
    if status.awaiting_approval:
        waiting = f"waiting for approval to enter {status.awaiting_approval}"
        needed = status.approvals_needed or 1
        if needed > 1:
            given = sum(1 for approval in status.approvals if approval.environment == status.awaiting_approval)
            waiting += f" ({given} of {needed} approvers)"
        lines.append(waiting)
    for environment in dict.fromkeys(approval.environment for approval in status.approvals):
        who = [
            f"{approval.actor}{'' if approval.verified else ' (unverified)'} {ago(approval.at)}"
            for approval in status.approvals
            if approval.environment == environment
        ]
        lines.append(f"{environment} approved by {', '.join(who)}")
    if status.halted:
        lines.append(f"halted: {status.halted} (abort rolls back, resume goes on)")
    if status.held:
        lines.append(f"held: {status.held}")
    if status.watching_until is not None:
        lines.append(f"watching until {status.watching_until:%Y-%m-%d %H:%M:%S} UTC")
    if status.failure_reason:
        lines.append(f"failure: {status.failure_reason}")
    lines += [f"check failed: {check.environment}: {check.detail}" for check in status.checks if check.failed]
    if status.audit:
        last = status.audit[-1]
        lines.append(f"last control: {last.action} by {last.actor} ({last.reason}) {ago(last.at)}")
    return lines


def _region_table(regions: list[RegionLive]) -> list[str]:
    rows = [
        [
            region.region,
            str(region.wave),
            region.tag or "-",
            short_digest(region.digest),
            f"{region.phase.value} {region.deploying}" if region.phase and region.deploying else "",
        ]
        for region in regions
    ]
    return table(["REGION", "WAVE", "LIVE", "DIGEST", "DEPLOYING"], rows).splitlines()


def _due_line(due: PromotionDue, service: str, environment: str) -> str:
    if due.manual:
        return f"promotion: manual from {due.source} (`rollwright promote {service} {environment}`)"
    if due.tag is None or due.due_at is None:
        return f"promotion: from {due.source}, nothing due"
    return f"promotion: {due.tag} ({short_digest(due.digest)}) from {due.source} due {ago(due.due_at)}"


def _lane_lines(service: str, view: LaneView) -> list[str]:
    lines = [f"{view.environment} ({view.workflow_id})"]
    body: list[str] = []
    lane = view.lane
    if view.error:
        body.append(f"error: {view.error}")
    elif lane is None:
        body.append("not started: nothing was ever deployed here")
    else:
        live = lane.live
        body.append(f"live: {live.tag} ({short_digest(live.digest)}) since {ago(live.since)}" if live else "live: -")
        if lane.hold is not None:
            hold = lane.hold
            on = f" on {hold.version.tag}" if hold.version else ""
            body.append(
                f"held: {hold.kind.value}{on} by {hold.actor} since {ago(hold.since)}: {hold.reason} "
                f"(`rollwright release {service} --env {view.environment}`)"
            )
        if view.deployment is not None and lane.current_workflow_id:
            kind = lane.current_kind.value if lane.current_kind else "deploy"
            body += _deployment_lines(view.deployment, lane.current_workflow_id, kind)
        elif lane.current_workflow_id is None:
            body.append("idle: no deployment running")
        if lane.next_rollback is not None:
            body.append(f"next: rollback to {lane.next_rollback.to.tag} ({lane.next_rollback.kind.value})")
        if lane.next_pin is not None:
            body.append(f"next: pin {lane.next_pin.tag}")
        if lane.next_up is not None:
            body.append(f"queued: {lane.next_up.tag}" + (" (waits for release)" if lane.hold else ""))
        for promotion in lane.promotions:
            body.append(f"offers {promotion.tag} to {', '.join(promotion.to)} {ago(promotion.due_at)}")
        if lane.recent:
            last = lane.recent[-1]
            outcome = last.outcome.value if last.outcome else "running"
            body.append(f"last deployment: {last.kind.value} {last.tag} {outcome} ({last.workflow_id})")
        body += [f"ignored: {reason}" for reason in lane.ignored[-3:]]
        body += _region_table(view.regions)
    if view.promotion_due is not None:
        body.append(_due_line(view.promotion_due, service, view.environment))
    return lines + ["  " + line for line in body]


def _freeze_lines(item: ServiceStatus) -> list[str]:
    lines = [f"freezes: unknown ({item.freezes_error})"] if item.freezes_error else []
    for freeze in item.freezes:
        until = f" until {freeze.until:%Y-%m-%d %H:%M:%S}Z" if freeze.until else ""
        running = ", running deployments finish" if freeze.let_running_finish else ""
        lines.append(
            f"frozen: #{freeze.id} {freeze.scope.describe()}{until}{running} by {freeze.actor} since "
            f"{ago(freeze.created_at)}: {freeze.reason} (`rollwright unfreeze`)"
        )
    return lines


def render(item: ServiceStatus) -> str:
    lines = [item.service, *("  " + line for line in _freeze_lines(item))]
    for view in item.lanes:
        lines += ["  " + line for line in _lane_lines(item.service, view)]
    return "\n".join(lines)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service).name if args.service else None
    statuses = await operations(ctx).status(service)
    ctx.emit(statuses, "\n\n".join(render(item) for item in statuses))
    failed = [f"{item.service}/{view.environment}" for item in statuses for view in item.lanes if view.error]
    if failed:
        raise OperationFailed(f"could not read the status of {', '.join(failed)}")
    return 0
