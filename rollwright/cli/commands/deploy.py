"""`rollwright deploy SERVICE TAG|DIGEST`: hand a version to the service's pipeline, as a push would."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from rollwright.cli.context import RPC_TIMEOUT, Context, one_line
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.config.secrets import version_store_url
from rollwright.domain.deployment import PushEvent
from rollwright.domain.digest import is_digest
from rollwright.domain.source import SourceEvent
from rollwright.versionstore import VersionStore, VersionStoreError
from rollwright.webhooks.enqueue import enqueue_push
from rollwright.webhooks.payloads.common import valid_tag


class Queued(BaseModel):
    service: str
    tag: str
    digest_hint: str | None
    workflow_id: str
    delivery_id: str


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "deploy",
        parents=[common],
        help="queue a version for deployment",
        description="Queue a version in the service's pipeline. The pipeline re-resolves the tag against the "
        "registry and applies the same rules as to a push: tag policy, bad marks, never a downgrade.",
    )
    parser.add_argument("service")
    parser.add_argument("ref", metavar="TAG|DIGEST", help="a tag, or the digest of a version the store knows")
    parser.set_defaults(func=run)


def _tag_for_digest(url: str, service: str, digest: str) -> str:
    with VersionStore(url) as store:
        for version in store.versions(service, limit=1000):
            if version.digest == digest:
                return version.tag
    raise UsageError(f"no version of {service} with digest {digest[:19]}… is recorded; deploy it by tag")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service)
    ref: str = args.ref
    digest_hint: str | None = None
    if ref.startswith("sha256:"):
        if not is_digest(ref):
            raise UsageError(f"{ref!r} is not a sha256 digest (sha256: and 64 hex digits)")
        digest_hint = ref
        try:
            ref = await asyncio.to_thread(
                _tag_for_digest, version_store_url(ctx.config.version_store), service.name, ref
            )
        except VersionStoreError as exc:
            raise OperationFailed(f"cannot read the version store: {one_line(exc)}") from None
    elif not valid_tag(ref):
        raise UsageError(f"{ref!r} is neither a tag nor a sha256 digest")
    delivery_id = f"cli-{uuid.uuid4()}"
    event = PushEvent(
        service=service.name,
        repository=service.image,
        tag=ref,
        digest_hint=digest_hint,
        source=SourceEvent(source="cli", delivery_id=delivery_id, received_at=datetime.now(UTC), actor=ctx.actor),
    )
    client = await ctx.client()
    try:
        workflow_id = await enqueue_push(client, ctx.config, event, rpc_timeout=RPC_TIMEOUT)
    except Exception as exc:  # any RPC failure: the version was not queued
        raise OperationFailed(f"could not queue {service.name} {ref}: {one_line(exc)}") from None
    queued = Queued(
        service=service.name, tag=ref, digest_hint=digest_hint, workflow_id=workflow_id, delivery_id=delivery_id
    )
    ctx.emit(
        queued,
        f"queued {service.name} {ref} in {workflow_id}; `rollwright status {service.name}` shows what it does with it",
    )
    return 0
