"""`rollwright versions SERVICE` and `rollwright unblock SERVICE DIGEST --reason`: the version store."""

from __future__ import annotations

import argparse
import asyncio

from pydantic import BaseModel

from rollwright.cli.context import Context, one_line
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.cli.operations import operations
from rollwright.cli.render import ago, short_digest, table
from rollwright.config.secrets import version_store_url
from rollwright.control.models import UnblockOrder
from rollwright.domain.digest import is_digest
from rollwright.versionstore import LiveRegion, VersionRecord, VersionStore, VersionStoreError


class Versions(BaseModel):
    service: str
    versions: list[VersionRecord]
    live: list[LiveRegion]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    versions = sub.add_parser("versions", parents=[common], help="list a service's versions and where they run")
    versions.add_argument("service")
    versions.add_argument("--limit", type=int, default=30)
    versions.set_defaults(func=run_versions)
    unblock = sub.add_parser(
        "unblock",
        parents=[common],
        help="clear a digest's bad mark so it may be deployed again",
        description="Clear a bad mark. The digest becomes deployable; nothing is deployed by this command.",
    )
    unblock.add_argument("service")
    unblock.add_argument("digest")
    unblock.add_argument("--reason", required=True)
    unblock.set_defaults(func=run_unblock)


def _read(url: str, service: str, limit: int) -> Versions:
    with VersionStore(url) as store:
        return Versions(service=service, versions=store.versions(service, limit), live=store.live_regions(service))


async def run_versions(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service).name
    try:
        found = await asyncio.to_thread(_read, version_store_url(ctx.config.version_store), service, max(1, args.limit))
    except VersionStoreError as exc:
        raise OperationFailed(f"cannot read the version store: {one_line(exc)}") from None
    if not found.versions:
        ctx.emit(found, f"no versions of {service} recorded yet")
        return 0
    rows = [[v.tag, short_digest(v.digest), v.state.value, ago(v.pushed_at), v.source or "-"] for v in found.versions]
    text = table(["TAG", "DIGEST", "STATE", "PUSHED", "SOURCE"], rows)
    if found.live:
        live_rows = [[r.target.key, r.tag, short_digest(r.digest), ago(r.since)] for r in found.live]
        text += "\n\nlive:\n" + table(["REGION", "TAG", "DIGEST", "SINCE"], live_rows)
    ctx.emit(found, text)
    return 0


async def run_unblock(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service).name
    if not is_digest(args.digest):
        raise UsageError(f"{args.digest!r} is not a sha256 digest (sha256: and 64 hex digits)")
    if not args.reason.strip():
        raise UsageError("--reason must say why")
    result = await operations(ctx).unblock(UnblockOrder(service=service, digest=args.digest, reason=args.reason))
    mark = result.cleared
    ctx.emit(
        result,
        f"cleared the bad mark on {service} {short_digest(args.digest)} (marked by {mark.actor}: {mark.reason})",
    )
    return 0
