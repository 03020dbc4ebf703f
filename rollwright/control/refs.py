"""Turning what an engineer typed (a tag or a digest) into a version a lane can act on, and asking the version
store whether it is marked bad.

A lane knows the versions that went live in it (its `good` list); the version store knows every version recorded
for the service. The lane's own record wins: it is what the lane would return to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rollwright.config.models import RollwrightConfig
from rollwright.config.secrets import version_store_url
from rollwright.control.errors import Conflict, Invalid, NotFound, Unavailable, one_line
from rollwright.domain.deployment import VersionRef
from rollwright.domain.digest import is_digest, short
from rollwright.domain.lane import LiveVersion
from rollwright.domain.tags import valid_tag
from rollwright.versionstore import BadMark, VersionRecord, VersionStore, VersionStoreError

# How far back an operation looks in the version store for a tag or digest.
STORE_LOOKBACK = 1000


def check_ref(ref: str) -> None:
    """Invalid unless `ref` is a tag or a sha256 digest."""
    if ref.startswith("sha256:"):
        if not is_digest(ref):
            raise Invalid(f"{ref[:80]!r} is not a sha256 digest (sha256: and 64 hex digits)")
    elif not valid_tag(ref):
        raise Invalid(f"{ref[:80]!r} is neither a tag nor a sha256 digest")


def _recorded(url: str, service: str) -> list[VersionRecord]:
    with VersionStore(url) as store:
        return store.versions(service, limit=STORE_LOOKBACK)


def _bad_mark(url: str, service: str, digest: str) -> BadMark | None:
    with VersionStore(url) as store:
        return store.bad_mark(service, digest)


async def recorded_versions(config: RollwrightConfig, service: str) -> list[VersionRecord]:
    """The service's recorded versions, newest first."""
    try:
        return await asyncio.to_thread(_recorded, version_store_url(config.version_store), service)
    except VersionStoreError as exc:
        raise Unavailable(f"cannot read the version store: {one_line(exc)}") from None


def find_version(ref: str, known: Sequence[LiveVersion], recorded: Sequence[VersionRecord]) -> VersionRef | None:
    """The version `ref` names: the newest match in the lane's own list, else the newest recorded one."""
    field = "digest" if ref.startswith("sha256:") else "tag"
    for version in reversed(known):
        if getattr(version, field) == ref:
            return VersionRef(tag=version.tag, digest=version.digest)
    for record in recorded:
        if getattr(record, field) == ref:
            return VersionRef(tag=record.tag, digest=record.digest)
    return None


async def resolve(config: RollwrightConfig, service: str, ref: str, known: Sequence[LiveVersion] = ()) -> VersionRef:
    """Tag and digest of `ref`, which must have gone live in the lane or be recorded in the version store."""
    check_ref(ref)
    found = find_version(ref, known, [])
    if found is None:
        found = find_version(ref, [], await recorded_versions(config, service))
    if found is None:
        what = f"digest {short(ref)}…" if ref.startswith("sha256:") else f"tag {ref}"
        raise NotFound(f"no version of {service} with {what} is recorded")
    return found


async def refuse_if_bad(config: RollwrightConfig, service: str, version: VersionRef) -> None:
    """A bad mark is global: no lane is sent a version any lane marked bad."""
    try:
        mark = await asyncio.to_thread(_bad_mark, version_store_url(config.version_store), service, version.digest)
    except VersionStoreError as exc:
        raise Unavailable(f"cannot read the version store: {one_line(exc)}") from None
    if mark is not None:
        raise Conflict(
            f"{service} {version.tag} ({short(version.digest)}) is marked bad ({mark.actor}: {one_line(mark.reason)}); "
            f"`rollwright unblock {service} {version.digest} --reason TEXT` first"
        )
