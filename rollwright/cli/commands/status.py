"""`rollwright status [SERVICE]`: per lane (one block per environment, in plan order) what is live in each region,
what deploys and in which phase, what waits its turn, whether the lane is held, and which promotion is due."""

from __future__ import annotations

import argparse
from datetime import datetime

from pydantic import BaseModel, Field

from rollwright.cli.context import Context, one_line
from rollwright.cli.deployments import deployment_status
from rollwright.cli.errors import OperationFailed
from rollwright.cli.lanes import Lane, lane_status
from rollwright.cli.render import ago, short_digest, table
from rollwright.config.secrets import version_store_url
from rollwright.control.freezes import active_freezes
from rollwright.domain.deployment import DeploymentStatus, RegionPhase, RegionStatus
from rollwright.domain.freeze import Freeze
from rollwright.domain.lane import LaneStatus, lane_workflow_id
from rollwright.domain.plan import EnvironmentPlan, ServicePlan
from rollwright.versionstore import VersionStore, VersionStoreError


class RegionLive(BaseModel):
    """One region of a lane: the version live there, and what a running deployment is doing to it."""

    region: str
    wave: int
    tag: str | None = None
    digest: str | None = None
    # Set while a running deployment has reached the region and not finished with it.
    phase: RegionPhase | None = None
    deploying: str | None = None


class PromotionDue(BaseModel):
    """How the next version reaches this lane: from `source` on its timer (tag, due_at), or only by hand."""

    source: str
    manual: bool = False
    tag: str | None = None
    digest: str | None = None
    due_at: datetime | None = None


class LaneView(BaseModel):
    environment: str
    workflow_id: str
    started: bool
    lane: LaneStatus | None = None
    deployment: DeploymentStatus | None = None
    regions: list[RegionLive] = Field(default_factory=list)
    promotion_due: PromotionDue | None = None
    error: str | None = None


class ServiceStatus(BaseModel):
    service: str
    lanes: list[LaneView] = Field(default_factory=list)
    # The freezes in force that apply to this service (in some environment or all).
    freezes: list[Freeze] = Field(default_factory=list)
    freezes_error: str | None = None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("status", parents=[common], help="show every lane: live, deploying, queued, held, due")
    parser.add_argument("service", nargs="?", help="one service (default: every configured service)")
    parser.set_defaults(func=run)


def regions_of(env: EnvironmentPlan, lane: LaneStatus | None, deployment: DeploymentStatus | None) -> list[RegionLive]:
    """Each region of the plan: the lane's live version unless the running deployment has made it live with its
    own; a region the deployment is still working on says so."""
    touched: dict[str, RegionStatus] = {}
    if deployment is not None:
        touched = {r.region: r for r in deployment.regions if r.environment == env.name}
    live = lane.live if lane is not None else None
    rows = []
    for wave, regions in enumerate(env.waves):
        for name in regions:
            row = RegionLive(
                region=name, wave=wave, tag=live.tag if live else None, digest=live.digest if live else None
            )
            state = touched.get(name)
            if state is not None and deployment is not None:
                if state.phase is RegionPhase.LIVE and state.digest is not None:
                    row.tag, row.digest = deployment.tag, state.digest
                elif state.phase not in (RegionPhase.PENDING, RegionPhase.ROLLED_BACK):
                    row.phase, row.deploying = state.phase, deployment.tag
            rows.append(row)
    return rows


def promotion_due(env: EnvironmentPlan, by_env: dict[str, Lane]) -> PromotionDue | None:
    """What the upstream lane will offer this one next (its earliest pending promotion naming this lane)."""
    rule = env.promote
    if rule is None:
        return None
    if rule.manual:
        return PromotionDue(source=rule.source, manual=True)
    upstream = by_env.get(rule.source)
    status = upstream.status if upstream is not None else None
    pending = [p for p in (status.promotions if status else []) if env.name in p.to]
    if not pending:
        return PromotionDue(source=rule.source)
    first = min(pending, key=lambda promotion: promotion.due_at)
    return PromotionDue(source=rule.source, tag=first.tag, digest=first.digest, due_at=first.due_at)


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


async def _with_freezes(ctx: Context, statuses: list[ServiceStatus]) -> None:
    """Each service's freezes in force, read once from the version store; a store that cannot answer is said so."""
    try:
        with VersionStore(version_store_url(ctx.config.version_store)) as store:
            found = await active_freezes(store)
    except VersionStoreError as exc:
        for item in statuses:
            item.freezes_error = one_line(exc)
        return
    for item in statuses:
        item.freezes = [f for f in found if f.scope.all_services or item.service in f.scope.services]


def render(item: ServiceStatus) -> str:
    lines = [item.service, *("  " + line for line in _freeze_lines(item))]
    for view in item.lanes:
        lines += ["  " + line for line in _lane_lines(item.service, view)]
    return "\n".join(lines)


async def service_status(ctx: Context, plan: ServicePlan) -> ServiceStatus:
    client = await ctx.client()
    names = [env.name for env in plan.environments]
    found: list[Lane] = []
    errors: dict[str, str] = {}
    for name in names:
        try:
            lane = await lane_status(client, plan.service, name)
        except OperationFailed as exc:
            errors[name] = str(exc)
            lane = Lane(name, lane_workflow_id(plan.service, name), None)
        found.append(lane)
    by_env = {lane.environment: lane for lane in found}
    views = []
    for env, lane in zip(plan.environments, found, strict=True):
        view = LaneView(
            environment=env.name,
            workflow_id=lane.workflow_id,
            started=lane.status is not None,
            lane=lane.status,
            error=errors.get(env.name),
            promotion_due=promotion_due(env, by_env),
        )
        if lane.status is not None and lane.status.current_workflow_id is not None:
            try:
                view.deployment = await deployment_status(client, lane.status.current_workflow_id)
            except OperationFailed as exc:
                view.error = str(exc)
        view.regions = regions_of(env, lane.status, view.deployment)
        views.append(view)
    return ServiceStatus(service=plan.service, lanes=views)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    names = [ctx.service(args.service).name] if args.service else [service.name for service in ctx.config.services]
    statuses = [await service_status(ctx, ctx.config.plan_for(name)) for name in names]
    await _with_freezes(ctx, statuses)
    ctx.emit(statuses, "\n\n".join(render(item) for item in statuses))
    failed = [f"{item.service}/{view.environment}" for item in statuses for view in item.lanes if view.error]
    if failed:
        raise OperationFailed(f"could not read the status of {', '.join(failed)}")
    return 0
