"""`rollwright rollback|release|promote`: an engineer's acts on a service's lanes.

rollback SERVICE [--env E] [--to TAG|DIGEST] [--keep-good] --reason TEXT
    back to `--to` (default: the lane's previous good version) as a deployment of its own; the version it replaces
    is marked bad unless `--keep-good`; the lane is held there. Without --env: every lane with a live version,
    the last environment first.
release SERVICE [--env E] --reason TEXT
    lift a lane's hold (without --env: every held lane), so versions roll forward again.
promote SERVICE ENV [VERSION] --reason TEXT
    ENV takes VERSION now (default: what is live in the lane ENV promotes from), whatever its rule's timer says.
"""

from __future__ import annotations

import argparse

from pydantic import BaseModel

from rollwright.cli.context import Context
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.cli.lanes import Lane, lane_status, lanes, send_control
from rollwright.cli.refs import check_ref, refuse_if_bad, resolve
from rollwright.domain.deployment import VersionRef
from rollwright.domain.lane import LaneControl, PromoteRequest, ReleaseRequest, RollbackRequest, lane_workflow_id
from rollwright.domain.plan import ServicePlan


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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    rollback = sub.add_parser(
        "rollback",
        parents=[common],
        help="roll lanes back to a good version and hold them there",
        description="Roll back as a deployment of its own (no canary, waves newest first), mark the replaced "
        "version bad unless --keep-good, and hold the lane until `rollwright release`.",
    )
    rollback.add_argument("service")
    rollback.add_argument("--env", help="one lane (default: every lane with a live version, the last one first)")
    rollback.add_argument("--to", metavar="TAG|DIGEST", help="the version to return to (default: the previous good)")
    rollback.add_argument("--keep-good", action="store_true", help="do not mark the replaced version bad")
    rollback.add_argument("--reason", required=True, help="why (audited)")
    rollback.set_defaults(func=run_rollback)

    release = sub.add_parser(
        "release",
        parents=[common],
        help="lift a lane's hold so versions roll forward again",
        description="Lift the hold a rollback or a pin put on a lane: the version waiting there goes next.",
    )
    release.add_argument("service")
    release.add_argument("--env", help="one lane (default: every held lane)")
    release.add_argument("--reason", required=True, help="why (audited)")
    release.set_defaults(func=run_release)

    promote = sub.add_parser(
        "promote",
        parents=[common],
        help="promote a version into a lane now",
        description="The lane takes the version now, screened like any candidate, whatever its rule's timer says.",
    )
    promote.add_argument("service")
    promote.add_argument("environment")
    promote.add_argument("version", nargs="?", metavar="TAG|DIGEST", help="default: live in the lane it promotes from")
    promote.add_argument("--reason", required=True, help="why (audited)")
    promote.set_defaults(func=run_promote)


def reason_of(args: argparse.Namespace) -> str:
    reason: str = args.reason.strip()
    if not reason:
        raise UsageError("--reason must say why")
    return reason


def environment_of(plan: ServicePlan, name: str) -> str:
    try:
        return plan.environment(name).name
    except KeyError:
        known = ", ".join(env.name for env in plan.environments)
        raise UsageError(f"{plan.service} has no environment {name!r} (configured: {known})") from None


async def _started(ctx: Context, plan: ServicePlan, environment: str) -> Lane:
    lane = await lane_status(await ctx.client(), plan.service, environment)
    if lane.status is None:
        raise OperationFailed(f"{plan.service} has no {environment} lane yet: nothing was ever deployed there")
    return lane


async def _send(
    ctx: Context, plan: ServicePlan, environment: str, control: LaneControl, request: BaseModel, *, many: bool
) -> LaneResult:
    """One lane's answer; of several lanes, a refusal is listed rather than stopping the others."""
    result = LaneResult(
        service=plan.service,
        environment=environment,
        control=control,
        lane_workflow_id=lane_workflow_id(plan.service, environment),
    )
    try:
        answer = await send_control(await ctx.client(), plan.service, environment, control, request)
    except OperationFailed as exc:
        if not many:
            raise
        result.error = str(exc)
        return result
    result.message, result.workflow_id = answer.message, answer.workflow_id
    return result


def _report(ctx: Context, control: LaneControl, results: list[LaneResult], *, many: bool) -> int:
    """`many` (no --env): a list in JSON, however many lanes answered, so scripts read one shape."""
    ctx.emit(results if many else results[0], "\n".join(result.line() for result in results))
    refused = [result.environment for result in results if result.error]
    if refused:
        raise OperationFailed(f"{control.value} refused in {', '.join(refused)} (see above)")
    return 0


async def run_rollback(ctx: Context, args: argparse.Namespace) -> int:
    plan = ctx.config.plan_for(ctx.service(args.service).name)
    reason = reason_of(args)
    if args.to is not None:
        check_ref(args.to)
    if args.env is not None:
        targets = [await _started(ctx, plan, environment_of(plan, args.env))]
    else:
        every = await lanes(await ctx.client(), plan.service, [env.name for env in plan.environments])
        targets = [lane for lane in reversed(every) if lane.status is not None and lane.status.live is not None]
        if not targets:
            raise OperationFailed(f"nothing of {plan.service} is live in any lane: there is nothing to roll back")
    # Everything is resolved and checked before the first lane is asked, so a bad --to changes nothing anywhere.
    requests: list[tuple[str, RollbackRequest]] = []
    for lane in targets:
        to = None
        if args.to is not None:
            to = await resolve(ctx, plan.service, args.to, lane.status.good if lane.status else [])
            await refuse_if_bad(ctx, plan.service, to)
        requests.append(
            (lane.environment, RollbackRequest(actor=ctx.actor, reason=reason, to=to, keep_good=args.keep_good))
        )
    many = args.env is None
    results = [
        await _send(ctx, plan, environment, LaneControl.ROLLBACK, request, many=many)
        for environment, request in requests
    ]
    return _report(ctx, LaneControl.ROLLBACK, results, many=many)


async def run_release(ctx: Context, args: argparse.Namespace) -> int:
    plan = ctx.config.plan_for(ctx.service(args.service).name)
    reason = reason_of(args)
    if args.env is not None:
        held = [environment_of(plan, args.env)]
    else:
        every = await lanes(await ctx.client(), plan.service, [env.name for env in plan.environments])
        held = [lane.environment for lane in every if lane.status is not None and lane.status.hold is not None]
        if not held:
            raise OperationFailed(f"no lane of {plan.service} is held: there is nothing to release")
    request = ReleaseRequest(actor=ctx.actor, reason=reason)
    results = [
        await _send(ctx, plan, environment, LaneControl.RELEASE, request, many=args.env is None) for environment in held
    ]
    return _report(ctx, LaneControl.RELEASE, results, many=args.env is None)


async def run_promote(ctx: Context, args: argparse.Namespace) -> int:
    plan = ctx.config.plan_for(ctx.service(args.service).name)
    reason = reason_of(args)
    environment = environment_of(plan, args.environment)
    if args.version is not None:
        check_ref(args.version)
    rule = plan.environment(environment).promote
    if rule is None:
        raise UsageError(
            f"{environment} is {plan.service}'s first lane: it takes pushes, nothing is promoted into it "
            f"(`rollwright deploy {plan.service} VERSION` queues one)"
        )
    source = await lane_status(await ctx.client(), plan.service, rule.source)
    good = source.status.good if source.status else []
    if args.version is not None:
        version = await resolve(ctx, plan.service, args.version, good)
    elif source.status is not None and source.status.live is not None:
        version = VersionRef(tag=source.status.live.tag, digest=source.status.live.digest)
    else:
        raise OperationFailed(f"nothing is live in {rule.source} to promote into {environment}; name a VERSION")
    await refuse_if_bad(ctx, plan.service, version)
    request = PromoteRequest(actor=ctx.actor, reason=reason, tag=version.tag, digest=version.digest)
    answer = await send_control(
        await ctx.client(),
        plan.service,
        environment,
        LaneControl.PROMOTE,
        request,
        start_on=ctx.config.temporal.task_queue,
    )
    result = LaneResult(
        service=plan.service,
        environment=environment,
        control=LaneControl.PROMOTE,
        lane_workflow_id=lane_workflow_id(plan.service, environment),
        message=answer.message,
        workflow_id=answer.workflow_id,
    )
    return _report(ctx, LaneControl.PROMOTE, [result], many=False)
