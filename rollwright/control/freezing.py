"""freeze and unfreeze as an operator's orders: the scope checked against the config and the operator's roles in
every environment it reaches, then freezes.py's store-first operation under the operator's name (verified when
the control API vouched for them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from temporalio.client import Client

from rollwright.config.models import RollwrightConfig
from rollwright.config.secrets import version_store_url
from rollwright.control import freezes
from rollwright.control.acting import Acting
from rollwright.control.errors import Unavailable, one_line
from rollwright.control.models import Action, FreezeOrder, UnfreezeOrder
from rollwright.domain.freeze import FreezeScope
from rollwright.versionstore import VersionStore, VersionStoreError


def _authorize(config: RollwrightConfig, acting: Acting, action: Action, scope: FreezeScope) -> None:
    """The operator must hold the action in every environment the scope stops."""
    configured = freezes.configured_environments(config)
    names = scope.services or tuple(configured)
    reached = {env for name in names for env in configured.get(name, []) if scope.environment in (None, env)}
    for environment in sorted(reached):
        acting.authorize(action, environment)


async def freeze(client: Client, config: RollwrightConfig, acting: Acting, order: FreezeOrder) -> freezes.FreezeResult:
    configured = freezes.configured_environments(config)
    scope = freezes.scope_of(configured, order.services, all_services=order.all_services, environment=order.environment)
    _authorize(config, acting, Action.FREEZE, scope)
    with _opened_store(config, "cannot write the freeze to the version store") as store:
        return await freezes.freeze(
            client,
            store,
            configured,
            services=order.services,
            all_services=order.all_services,
            environment=order.environment,
            reason=order.reason,
            actor=acting.actor,
            verified=acting.verified,
            until=order.until,
            let_running_finish=order.let_running_finish,
        )


async def unfreeze(
    client: Client, config: RollwrightConfig, acting: Acting, order: UnfreezeOrder
) -> freezes.UnfreezeResult:
    configured = freezes.configured_environments(config)
    with _opened_store(config, "cannot lift the freeze in the version store") as store:
        if order.freeze_id is None:
            scope = freezes.scope_of(
                configured, order.services, all_services=order.all_services, environment=order.environment
            )
            _authorize(config, acting, Action.UNFREEZE, scope)
        else:
            # The one freeze's own scope decides; an id not in force is the operation's to refuse (Conflict).
            found = [f for f in await freezes.active_freezes(store) if f.id == order.freeze_id]
            for lifted in found:
                _authorize(config, acting, Action.UNFREEZE, lifted.scope)
        return await freezes.unfreeze(
            client,
            store,
            configured,
            services=order.services,
            all_services=order.all_services,
            environment=order.environment,
            freeze_id=order.freeze_id,
            reason=order.reason,
            actor=acting.actor,
        )


@contextlib.contextmanager
def _opened_store(config: RollwrightConfig, failing: str) -> Iterator[VersionStore]:
    """The version store for one operation; a store that cannot be reached is Unavailable, saying `failing`."""
    try:
        with VersionStore(version_store_url(config.version_store)) as store:
            yield store
    except VersionStoreError as exc:
        raise Unavailable(f"{failing}: {one_line(exc)}") from None
