"""The freezes table's reads and writes, as functions over an open connection (the store owns transactions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update

from rollwright.domain.freeze import Freeze, FreezeScope
from rollwright.versionstore import schema
from rollwright.versionstore.errors import InvalidFreezeError


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the store writes is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _freeze(row: Row[Any]) -> Freeze:
    services = tuple(json.loads(row.services)) if row.services is not None else ()
    created = _utc(row.created_at)
    assert created is not None
    return Freeze(
        id=row.id,
        scope=FreezeScope(services=services, environment=row.environment),
        reason=row.reason,
        actor=row.actor,
        verified=row.verified,
        created_at=created,
        until=_utc(row.until),
        let_running_finish=row.let_running_finish,
        lifted_at=_utc(row.lifted_at),
        lifted_by=row.lifted_by,
        lift_reason=row.lift_reason,
    )


def check_who_and_why(actor: str, reason: str, what: str) -> None:
    if not actor.strip() or not reason.strip():
        raise InvalidFreezeError(f"{what}: the audit needs who (actor) and why (reason)")


def insert(
    connection: Connection,
    scope: FreezeScope,
    *,
    reason: str,
    actor: str,
    verified: bool,
    until: datetime | None,
    let_running_finish: bool,
    now: datetime,
) -> Freeze:
    check_who_and_why(actor, reason, "freeze")
    if until is not None and (until.tzinfo is None or until <= now):
        raise InvalidFreezeError("freeze: until must be a time with a zone, after now")
    table = schema.freezes
    services = json.dumps(sorted(set(scope.services))) if scope.services else None
    result = connection.execute(
        table.insert().values(
            services=services,
            environment=scope.environment,
            reason=reason,
            actor=actor,
            verified=verified,
            created_at=now.astimezone(UTC),
            until=_utc(until),
            let_running_finish=let_running_finish,
        )
    )
    [key] = result.inserted_primary_key or [None]
    return by_id(connection, int(key))


def by_id(connection: Connection, freeze_id: int) -> Freeze:
    row = connection.execute(select(schema.freezes).where(schema.freezes.c.id == freeze_id)).one()
    return _freeze(row)


def active(connection: Connection, at: datetime) -> list[Freeze]:
    """Not lifted, not expired at `at`, oldest first."""
    table = schema.freezes
    at = at.astimezone(UTC)
    not_lifted_then = or_(table.c.lifted_at.is_(None), table.c.lifted_at > at)
    rows = connection.execute(select(table).where(not_lifted_then, table.c.created_at <= at).order_by(table.c.id))
    return [freeze for freeze in (_freeze(row) for row in rows) if freeze.active_at(at)]


def history(connection: Connection, limit: int) -> list[Freeze]:
    """Every freeze, lifted or not, newest first."""
    table = schema.freezes
    return [_freeze(row) for row in connection.execute(select(table).order_by(table.c.id.desc()).limit(limit))]


def lift(connection: Connection, freeze: Freeze, *, actor: str, reason: str, now: datetime) -> Freeze:
    table = schema.freezes
    connection.execute(
        update(table)
        .where(table.c.id == freeze.id, table.c.lifted_at.is_(None))
        .values(lifted_at=now.astimezone(UTC), lifted_by=actor, lift_reason=reason)
    )
    return by_id(connection, freeze.id)
