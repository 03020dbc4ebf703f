"""deploy: queue a version in the service's first lane as a push would, or pin a lane on exactly one.

Queued, the lane re-resolves the tag against the registry and applies the same rules as to a push: tag policy, bad
marks, never a downgrade. Pinned (an environment and a reason), the lane deploys that version, older or not,
through the normal rollout and holds it there until released.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from rollwright.config.models import RollwrightConfig, ServiceConfig
from rollwright.control.acting import Acting
from rollwright.control.enqueue import enqueue_push
from rollwright.control.errors import ControlError, Invalid, NotFound, Unavailable, one_line
from rollwright.control.lanes import RPC_TIMEOUT, lane_status, send_control
from rollwright.control.models import Action, DeployOrder, Pinned, Queued
from rollwright.control.refs import check_ref, refuse_if_bad, resolve
from rollwright.control.scope import service_of
from rollwright.domain.deployment import PushEvent
from rollwright.domain.lane import LaneControl, PinRequest, lane_workflow_id
from rollwright.domain.source import SourceEvent
from rollwright.domain.version_order import is_newer

# The first lane is asked what is live before a version is queued; a lane whose workers are down must not make
# `deploy` wait the whole RPC timeout, since the lane applies the same rule anyway.
LIVE_CHECK_TIMEOUT = timedelta(seconds=5)


def how_to_pin(service: str, ref: str, environment: str) -> str:
    command = f"rollwright deploy {service} {ref} --env {environment} --reason TEXT"
    return f"to pin {service} on {ref} in {environment}: {command}"


async def deploy(client: Client, config: RollwrightConfig, acting: Acting, order: DeployOrder) -> Queued | Pinned:
    service = service_of(config, order.service)
    check_ref(order.ref)
    first = service.environments[0].name
    reason = (order.reason or "").strip()
    if (order.environment is None) != (not reason):
        raise Invalid(
            f"--env and --reason go together: {how_to_pin(service.name, order.ref, order.environment or first)}"
        )
    if order.environment is not None:
        return await _pin(client, config, acting, service, order, order.environment, reason)
    if order.break_glass:
        raise Invalid("break_glass is for a pin (an environment and a reason)")
    return await _queue(client, config, acting, service, order.ref, first)


async def _pin(
    client: Client,
    config: RollwrightConfig,
    acting: Acting,
    service: ServiceConfig,
    order: DeployOrder,
    environment: str,
    reason: str,
) -> Pinned:
    known = [env.name for env in service.environments]
    if environment not in known:
        raise NotFound(f"{service.name} has no environment {environment[:200]!r} (configured: {', '.join(known)})")
    acting.authorize(Action.DEPLOY, environment)
    tag, digest = order.ref, None
    if order.ref.startswith("sha256:"):
        version = await resolve(config, service.name, order.ref)
        await refuse_if_bad(config, service.name, version)
        tag, digest = version.tag, version.digest
    request = PinRequest(actor=acting.actor, reason=reason, tag=tag, digest=digest, break_glass=order.break_glass)
    answer = await send_control(
        client, service.name, environment, LaneControl.PIN, request, acting, start_on=config.temporal.task_queue
    )
    return Pinned(
        service=service.name,
        environment=environment,
        tag=tag,
        digest=digest,
        lane_workflow_id=lane_workflow_id(service.name, environment),
        message=answer.message,
    )


async def _queue(
    client: Client, config: RollwrightConfig, acting: Acting, service: ServiceConfig, ref: str, first: str
) -> Queued:
    acting.authorize(Action.DEPLOY, first)
    digest_hint: str | None = None
    if ref.startswith("sha256:"):
        digest_hint = ref
        ref = (await resolve(config, service.name, ref)).tag
    note = None
    try:
        lane = await lane_status(client, service.name, first, timeout=LIVE_CHECK_TIMEOUT)
    except ControlError as exc:
        note = f"not compared with what is live ({exc}); {first} applies the same rule"
    else:
        live = lane.status.live if lane.status else None
        # As the lane screens a CLI push: its time is when it arrives, and the lane's live version keeps its own.
        if live is not None and not is_newer(ref, datetime.now(UTC), live.tag, live.pushed_at):
            raise Invalid(
                f"{ref} is not newer than {live.tag}, live in {first}; {how_to_pin(service.name, ref, first)}"
            )
    delivery_id = f"{acting.via}-{uuid.uuid4()}"
    event = PushEvent(
        service=service.name,
        repository=service.image,
        tag=ref,
        digest_hint=digest_hint,
        source=SourceEvent(
            source=acting.via, delivery_id=delivery_id, received_at=datetime.now(UTC), actor=acting.actor
        ),
    )
    try:
        workflow_id = await enqueue_push(client, config, event, rpc_timeout=RPC_TIMEOUT)
    except Exception as exc:  # any RPC failure: the version was not queued
        raise Unavailable(f"could not queue {service.name} {ref}: {one_line(exc)}") from None
    return Queued(
        service=service.name,
        tag=ref,
        digest_hint=digest_hint,
        workflow_id=workflow_id,
        delivery_id=delivery_id,
        note=note,
    )
