"""`freeze` and `unfreeze`: stop the line for some services or all, in one environment or every one, and start it
again. Each writes the version store first (the durable truth every deployment reads at its safe points), then tells
every running deployment of the services in scope through the freezes_changed signal, so one held re-checks at once:
an unfreeze releases within a second, not at the next fallback re-check.

Deployments are found by the RollwrightService search attribute only, not RollwrightEnvironment: a deployment that has
not reached its environment yet may not show it, and a signal too many costs one store read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError

from rollwright.config.models import RollwrightConfig
from rollwright.control.errors import Conflict, Invalid, NotFound
from rollwright.domain import search_attributes as sa
from rollwright.domain.deployment import DEPLOYMENT_WORKFLOW, FREEZES_CHANGED_SIGNAL, FreezesChanged
from rollwright.domain.freeze import Freeze, FreezeScope
from rollwright.observability.logging import get_logger
from rollwright.versionstore import InvalidFreezeError, NotFrozenError, VersionStore

log = get_logger(__name__)


class FreezeResult(BaseModel):
    freeze: Freeze
    # The running deployments told at once (the others see it at their next safe point anyway).
    signalled: list[str] = Field(default_factory=list)
    signal_error: str | None = None


class UnfreezeResult(BaseModel):
    lifted: list[Freeze]
    signalled: list[str] = Field(default_factory=list)
    signal_error: str | None = None


def configured_environments(config: RollwrightConfig) -> dict[str, list[str]]:
    """Service name -> its environments, as the config has them: what a freeze's scope is checked against."""
    return {service.name: [env.name for env in service.environments] for service in config.services}


def scope_of(
    configured: Mapping[str, Sequence[str]], services: Sequence[str], *, all_services: bool, environment: str | None
) -> FreezeScope:
    """The scope a request names, or Invalid/NotFound saying what is wrong with it."""
    if all_services and services:
        raise Invalid("name services or all services, not both")
    if not all_services and not services:
        raise Invalid("name the services to freeze, or all services")
    unknown = [name for name in services if name not in configured]
    if unknown:
        known = ", ".join(sorted(configured)) or "none"
        raise NotFound(f"unknown service {', '.join(unknown)} (configured: {known})")
    if environment is not None:
        scoped = services or list(configured)
        if not any(environment in configured[name] for name in scoped):
            raise NotFound(f"no service in scope has an environment {environment!r}")
        lacking = [name for name in services if environment not in configured[name]]
        if lacking:
            raise NotFound(f"{', '.join(lacking)} has no environment {environment!r}")
    return FreezeScope(services=tuple(dict.fromkeys(services)), environment=environment)


async def freeze(
    client: Client | None,
    store: VersionStore,
    configured: Mapping[str, Sequence[str]],
    *,
    services: Sequence[str] = (),
    all_services: bool = False,
    environment: str | None = None,
    reason: str,
    actor: str,
    verified: bool = False,
    until: datetime | None = None,
    let_running_finish: bool = False,
) -> FreezeResult:
    """Freeze the scope; `client` None records it without telling running deployments (they see it at their next
    safe point)."""
    scope = scope_of(configured, services, all_services=all_services, environment=environment)
    if not reason.strip() or not actor.strip():
        raise Invalid("a freeze needs who (actor) and why (reason)")
    if until is not None and (until.tzinfo is None or until <= datetime.now(UTC)):
        raise Invalid("until must be a time in the future, with a time zone")
    active = await asyncio.to_thread(store.active_freezes)
    same = next((f for f in active if f.scope.within(scope) and scope.within(f.scope)), None)
    if same is not None:
        raise Conflict(f"{scope.describe()} is already frozen (#{same.id}, {same.describe()})")
    try:
        added = await asyncio.to_thread(
            store.add_freeze,
            scope,
            reason=reason,
            actor=actor,
            verified=verified,
            until=until,
            let_running_finish=let_running_finish,
        )
    except InvalidFreezeError as exc:
        raise Invalid(str(exc)) from None
    log.info("frozen", freeze=added.id, scope=scope.describe(), actor=actor, verified=verified)
    change = FreezesChanged(actor=actor, change=f"froze #{added.id}")
    signalled, problem = await _tell_deployments(client, scope, change)
    return FreezeResult(freeze=added, signalled=signalled, signal_error=problem)


async def unfreeze(
    client: Client | None,
    store: VersionStore,
    configured: Mapping[str, Sequence[str]],
    *,
    services: Sequence[str] = (),
    all_services: bool = False,
    environment: str | None = None,
    freeze_id: int | None = None,
    reason: str,
    actor: str,
) -> UnfreezeResult:
    """Lift every active freeze within the scope (or the one `freeze_id`), then release what they held."""
    if not reason.strip() or not actor.strip():
        raise Invalid("an unfreeze needs who (actor) and why (reason)")
    try:
        if freeze_id is not None:
            if services or all_services or environment is not None:
                raise Invalid("unfreeze one freeze by its id, or a scope, not both")
            lifted = [await asyncio.to_thread(store.lift_freeze, freeze_id, actor=actor, reason=reason)]
        else:
            scope = scope_of(configured, services, all_services=all_services, environment=environment)
            lifted = await asyncio.to_thread(store.lift_freezes, scope, actor=actor, reason=reason)
    except NotFrozenError as exc:
        raise Conflict(str(exc)) from None
    except InvalidFreezeError as exc:
        raise Invalid(str(exc)) from None
    log.info("unfrozen", freezes=[f.id for f in lifted], actor=actor)
    widest = FreezeScope() if any(f.scope.all_services for f in lifted) else None
    told = widest or FreezeScope(services=tuple(sorted({name for f in lifted for name in f.scope.services})))
    change = FreezesChanged(actor=actor, change="lifted " + ", ".join(f"#{f.id}" for f in lifted))
    signalled, problem = await _tell_deployments(client, told, change)
    return UnfreezeResult(lifted=lifted, signalled=signalled, signal_error=problem)


async def _tell_deployments(
    client: Client | None, scope: FreezeScope, change: FreezesChanged
) -> tuple[list[str], str | None]:
    """Signal every running deployment of the scope's services; a failure here changes no freeze, so it is reported
    rather than raised (deployments re-check at their next safe point and every few minutes anyway)."""
    if client is None:
        return [], None
    query = f"WorkflowType = '{DEPLOYMENT_WORKFLOW}' AND ExecutionStatus = 'Running'"
    if not scope.all_services:
        names = ", ".join(f"'{name}'" for name in scope.services)
        query += f" AND {sa.SERVICE.name} IN ({names})"
    try:
        ids = [execution.id async for execution in client.list_workflows(query)]
    except RPCError as exc:
        log.warning("could not list the running deployments", problem=exc.message)
        return [], f"could not list the running deployments: {exc.message}"

    async def tell(workflow_id: str) -> None:
        # A deployment that finished since the listing has nothing to re-check.
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(workflow_id).signal(FREEZES_CHANGED_SIGNAL, change)

    await asyncio.gather(*(tell(workflow_id) for workflow_id in ids))
    return ids, None


async def active_freezes(store: VersionStore, at: datetime | None = None) -> list[Freeze]:
    """The freezes in force (now, or at `at`), oldest first: what `rollwright status` lists."""
    return await asyncio.to_thread(store.active_freezes, at)
