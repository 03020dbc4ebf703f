"""unblock: clear a digest's bad mark in the version store, so it may be deployed again (nothing is deployed)."""

from __future__ import annotations

import asyncio

from rollwright.config.models import RollwrightConfig
from rollwright.config.secrets import version_store_url
from rollwright.control.acting import Acting
from rollwright.control.errors import Conflict, Invalid, Unavailable, one_line
from rollwright.control.models import Action, Unblocked, UnblockOrder
from rollwright.control.scope import plan_of
from rollwright.domain.digest import is_digest
from rollwright.versionstore import BadMark, NotMarkedBadError, VersionStore, VersionStoreError


def _clear(url: str, service: str, digest: str, reason: str, actor: str) -> BadMark:
    with VersionStore(url) as store:
        return store.clear_bad(service=service, digest=digest, reason=reason, actor=actor)


async def unblock(config: RollwrightConfig, acting: Acting, order: UnblockOrder) -> Unblocked:
    plan = plan_of(config, order.service)
    if not is_digest(order.digest):
        raise Invalid(f"{order.digest[:80]!r} is not a sha256 digest (sha256: and 64 hex digits)")
    # A bad mark is global: clearing it makes the version deployable in every lane.
    for env in plan.environments:
        acting.authorize(Action.UNBLOCK, env.name)
    try:
        mark = await asyncio.to_thread(
            _clear, version_store_url(config.version_store), plan.service, order.digest, order.reason, acting.actor
        )
    except NotMarkedBadError as exc:
        raise Conflict(str(exc)) from None
    except VersionStoreError as exc:
        raise Unavailable(f"cannot update the version store: {one_line(exc)}") from None
    return Unblocked(service=plan.service, digest=order.digest, cleared=mark, actor=acting.actor, reason=order.reason)
