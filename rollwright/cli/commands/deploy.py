"""`rollwright deploy SERVICE TAG|DIGEST [--env E --reason TEXT]`.

Without --env: hand a version to the service's first lane, as a push would (newest wins, never a downgrade).
With --env and --reason: pin lane E on exactly that version, older or not, through the normal rollout, and hold
the lane on it until `rollwright release`.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from rollwright.cli.context import RPC_TIMEOUT, Context, one_line
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.cli.lanes import lane_status, send_control
from rollwright.cli.refs import check_ref, refuse_if_bad, resolve
from rollwright.config.models import ServiceConfig
from rollwright.domain.deployment import PushEvent
from rollwright.domain.lane import LaneControl, PinRequest, lane_workflow_id
from rollwright.domain.source import SourceEvent
from rollwright.webhooks.enqueue import enqueue_push
from workflows.version_order import is_newer

# The first lane is asked what is live before a version is queued; a lane whose workers are down must not make
# `deploy` wait the whole RPC timeout, since the lane applies the same rule anyway.
LIVE_CHECK_TIMEOUT = timedelta(seconds=5)


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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "deploy",
        parents=[common],
        help="queue a version in the first lane, or pin a lane on one (--env, --reason)",
        description="Queue a version in the service's first lane. The lane re-resolves the tag against the "
        "registry and applies the same rules as to a push: tag policy, bad marks, never a downgrade. With --env "
        "and --reason, pin that lane on exactly this version (older or not) and hold it there until released.",
    )
    parser.add_argument("service")
    parser.add_argument("ref", metavar="TAG|DIGEST", help="a tag, or the digest of a version the store knows")
    parser.add_argument("--env", help="pin this lane on the version (needs --reason)")
    parser.add_argument("--reason", help="why the lane is pinned (audited; needs --env)")
    parser.set_defaults(func=run)


def how_to_pin(service: str, ref: str, environment: str) -> str:
    command = f"rollwright deploy {service} {ref} --env {environment} --reason TEXT"
    return f"to pin {service} on {ref} in {environment}: {command}"


async def run(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service)
    ref: str = args.ref
    check_ref(ref)
    first = service.environments[0].name
    reason = (args.reason or "").strip()
    if (args.env is None) != (not reason):
        raise UsageError(f"--env and --reason go together: {how_to_pin(service.name, ref, args.env or first)}")
    if args.env is not None:
        return await _pin(ctx, service, ref, args.env, reason)
    return await _queue(ctx, service, ref, first)


async def _pin(ctx: Context, service: ServiceConfig, ref: str, environment: str, reason: str) -> int:
    known = [env.name for env in service.environments]
    if environment not in known:
        raise UsageError(f"{service.name} has no environment {environment!r} (configured: {', '.join(known)})")
    tag, digest = ref, None
    if ref.startswith("sha256:"):
        version = await resolve(ctx, service.name, ref)
        await refuse_if_bad(ctx, service.name, version)
        tag, digest = version.tag, version.digest
    answer = await send_control(
        await ctx.client(),
        service.name,
        environment,
        LaneControl.PIN,
        PinRequest(actor=ctx.actor, reason=reason, tag=tag, digest=digest),
        start_on=ctx.config.temporal.task_queue,
    )
    pinned = Pinned(
        service=service.name,
        environment=environment,
        tag=tag,
        digest=digest,
        lane_workflow_id=lane_workflow_id(service.name, environment),
        message=answer.message,
    )
    ctx.emit(pinned, f"{pinned.lane_workflow_id}: {answer.message}")
    return 0


async def _queue(ctx: Context, service: ServiceConfig, ref: str, first: str) -> int:
    digest_hint: str | None = None
    if ref.startswith("sha256:"):
        digest_hint = ref
        ref = (await resolve(ctx, service.name, ref)).tag
    client = await ctx.client()
    note = None
    try:
        lane = await lane_status(client, service.name, first, timeout=LIVE_CHECK_TIMEOUT)
    except OperationFailed as exc:
        note = f"not compared with what is live ({exc}); {first} applies the same rule"
    else:
        live = lane.status.live if lane.status else None
        # As the lane screens a CLI push: its time is when it arrives, and the lane's live version keeps its own.
        if live is not None and not is_newer(ref, datetime.now(UTC), live.tag, live.pushed_at):
            raise UsageError(
                f"{ref} is not newer than {live.tag}, live in {first}; {how_to_pin(service.name, ref, first)}"
            )
    delivery_id = f"cli-{uuid.uuid4()}"
    event = PushEvent(
        service=service.name,
        repository=service.image,
        tag=ref,
        digest_hint=digest_hint,
        source=SourceEvent(source="cli", delivery_id=delivery_id, received_at=datetime.now(UTC), actor=ctx.actor),
    )
    try:
        workflow_id = await enqueue_push(client, ctx.config, event, rpc_timeout=RPC_TIMEOUT)
    except Exception as exc:  # any RPC failure: the version was not queued
        raise OperationFailed(f"could not queue {service.name} {ref}: {one_line(exc)}") from None
    queued = Queued(
        service=service.name,
        tag=ref,
        digest_hint=digest_hint,
        workflow_id=workflow_id,
        delivery_id=delivery_id,
        note=note,
    )
    human = (
        f"queued {service.name} {ref} in {workflow_id}; `rollwright status {service.name}` shows what it does with it"
    )
    ctx.emit(queued, human + (f"\n{note}" if note else ""))
    return 0
