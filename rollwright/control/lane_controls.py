"""rollback, release and promote: an engineer's acts on a service's lanes.

rollback   back to `to` (default: the lane's previous good version) as a deployment of its own; the version it
           replaces is marked bad unless `keep_good`; the lane is held there. No environment: every lane with a
           live version, the last environment first.
release    lift a lane's hold (no environment: every held lane), so versions roll forward again.
promote    the lane takes the version now (default: what is live in the lane it promotes from).

Several lanes answer one by one: a lane that refuses is listed with its reason (`LaneResult.error`) rather than
stopping the others. Everything is resolved, checked and authorized before the first lane is asked.
"""

from __future__ import annotations

from pydantic import BaseModel
from temporalio.client import Client

from rollwright.config.models import RollwrightConfig
from rollwright.control.acting import Acting
from rollwright.control.errors import Conflict, Invalid, Unavailable
from rollwright.control.lanes import Lane, lane_status, lanes, send_control
from rollwright.control.models import Action, LaneResult, PromoteOrder, ReleaseOrder, RollbackOrder
from rollwright.control.refs import check_ref, refuse_if_bad, resolve
from rollwright.control.scope import environment_of, plan_of
from rollwright.domain.deployment import VersionRef
from rollwright.domain.lane import LaneControl, PromoteRequest, ReleaseRequest, RollbackRequest, lane_workflow_id
from rollwright.domain.plan import ServicePlan


async def _started(client: Client, plan: ServicePlan, environment: str) -> Lane:
    lane = await lane_status(client, plan.service, environment)
    if lane.status is None:
        raise Conflict(f"{plan.service} has no {environment} lane yet: nothing was ever deployed there")
    return lane


async def _send(
    client: Client,
    acting: Acting,
    plan: ServicePlan,
    environment: str,
    control: LaneControl,
    request: BaseModel,
    *,
    many: bool,
) -> LaneResult:
    result = LaneResult(
        service=plan.service,
        environment=environment,
        control=control,
        lane_workflow_id=lane_workflow_id(plan.service, environment),
    )
    try:
        answer = await send_control(client, plan.service, environment, control, request, acting)
    except (Conflict, Unavailable) as exc:
        if not many:
            raise
        result.error = str(exc)
        return result
    result.message, result.workflow_id = answer.message, answer.workflow_id
    return result


async def rollback(client: Client, config: RollwrightConfig, acting: Acting, order: RollbackOrder) -> list[LaneResult]:
    plan = plan_of(config, order.service)
    if order.to is not None:
        check_ref(order.to)
    if order.environment is not None:
        targets = [await _started(client, plan, environment_of(plan, order.environment))]
    else:
        every = await lanes(client, plan.service, [env.name for env in plan.environments])
        targets = [lane for lane in reversed(every) if lane.status is not None and lane.status.live is not None]
        if not targets:
            raise Conflict(f"nothing of {plan.service} is live in any lane: there is nothing to roll back")
    for lane in targets:
        acting.authorize(Action.ROLLBACK, lane.environment)
    requests: list[tuple[str, RollbackRequest]] = []
    for lane in targets:
        to = None
        if order.to is not None:
            to = await resolve(config, plan.service, order.to, lane.status.good if lane.status else [])
            await refuse_if_bad(config, plan.service, to)
        request = RollbackRequest(actor=acting.actor, reason=order.reason, to=to, keep_good=order.keep_good)
        requests.append((lane.environment, request))
    many = order.environment is None
    return [
        await _send(client, acting, plan, environment, LaneControl.ROLLBACK, request, many=many)
        for environment, request in requests
    ]


async def release(client: Client, config: RollwrightConfig, acting: Acting, order: ReleaseOrder) -> list[LaneResult]:
    plan = plan_of(config, order.service)
    if order.environment is not None:
        held = [environment_of(plan, order.environment)]
    else:
        every = await lanes(client, plan.service, [env.name for env in plan.environments])
        held = [lane.environment for lane in every if lane.status is not None and lane.status.hold is not None]
        if not held:
            raise Conflict(f"no lane of {plan.service} is held: there is nothing to release")
    for environment in held:
        acting.authorize(Action.RELEASE, environment)
    request = ReleaseRequest(actor=acting.actor, reason=order.reason)
    many = order.environment is None
    return [
        await _send(client, acting, plan, environment, LaneControl.RELEASE, request, many=many) for environment in held
    ]


async def promote(client: Client, config: RollwrightConfig, acting: Acting, order: PromoteOrder) -> LaneResult:
    plan = plan_of(config, order.service)
    environment = environment_of(plan, order.environment)
    if order.version is not None:
        check_ref(order.version)
    rule = plan.environment(environment).promote
    if rule is None:
        raise Invalid(
            f"{environment} is {plan.service}'s first lane: it takes pushes, nothing is promoted into it "
            f"(`rollwright deploy {plan.service} VERSION` queues one)"
        )
    acting.authorize(Action.PROMOTE, environment)
    source = await lane_status(client, plan.service, rule.source)
    good = source.status.good if source.status else []
    if order.version is not None:
        version = await resolve(config, plan.service, order.version, good)
    elif source.status is not None and source.status.live is not None:
        version = VersionRef(tag=source.status.live.tag, digest=source.status.live.digest)
    else:
        raise Conflict(f"nothing is live in {rule.source} to promote into {environment}; name a VERSION")
    await refuse_if_bad(config, plan.service, version)
    request = PromoteRequest(actor=acting.actor, reason=order.reason, tag=version.tag, digest=version.digest)
    answer = await send_control(
        client, plan.service, environment, LaneControl.PROMOTE, request, acting, start_on=config.temporal.task_queue
    )
    return LaneResult(
        service=plan.service,
        environment=environment,
        control=LaneControl.PROMOTE,
        lane_workflow_id=lane_workflow_id(plan.service, environment),
        message=answer.message,
        workflow_id=answer.workflow_id,
    )
