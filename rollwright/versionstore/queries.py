"""Read queries of the version store, as functions over an open connection (the store owns transactions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, exists, select

from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneActionKind
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import schema
from rollwright.versionstore.models import (
    AuditAction,
    AuditRecord,
    BadMark,
    DeploymentRecord,
    LaneActionRecord,
    LiveRegion,
    VersionRecord,
    VersionState,
)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the store writes is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _when(value: datetime | None) -> datetime:
    aware = _aware(value)
    assert aware is not None
    return aware


def same_target(table: Table, target: RegionTarget) -> list[Any]:
    return [
        table.c.service == target.service,
        table.c.environment == target.environment,
        table.c.region == target.region,
    ]


def _target(row: Row[Any]) -> RegionTarget:
    return RegionTarget(service=row.service, environment=row.environment, region=row.region)


def _version(row: Row[Any]) -> VersionRecord:
    return VersionRecord(
        service=row.service,
        tag=row.tag,
        digest=row.digest,
        image=row.image,
        state=VersionState(row.state),
        pushed_at=_aware(row.pushed_at),
        source=row.source,
        source_event_id=row.source_event_id,
        workflow_id=row.workflow_id,
        recorded_at=_when(row.recorded_at),
        updated_at=_when(row.updated_at),
    )


def _deployment(row: Row[Any]) -> DeploymentRecord:
    return DeploymentRecord(
        target=_target(row),
        digest=row.digest,
        tag=row.tag,
        workflow_id=row.workflow_id,
        state=RegionState(row.state),
        detail=row.detail,
        started_at=_when(row.started_at),
        updated_at=_when(row.updated_at),
        live_at=_aware(row.live_at),
        finished_at=_aware(row.finished_at),
    )


def version(connection: Connection, service: str, tag: str, digest: str) -> VersionRecord | None:
    table = schema.versions
    row = connection.execute(
        select(table).where(table.c.service == service, table.c.tag == tag, table.c.digest == digest)
    ).first()
    return _version(row) if row is not None else None


def versions(connection: Connection, service: str, limit: int) -> list[VersionRecord]:
    """Newest first: what the CLI lists for a service."""
    table = schema.versions
    rows = connection.execute(
        select(table)
        .where(table.c.service == service)
        .order_by(table.c.recorded_at.desc(), table.c.id.desc())
        .limit(limit)
    )
    return [_version(row) for row in rows]


def deployment(connection: Connection, deployment_id: int | None) -> DeploymentRecord | None:
    table = schema.deployments
    row = connection.execute(select(table).where(table.c.id == deployment_id)).first()
    return _deployment(row) if row is not None else None


def deployments(connection: Connection, service: str, limit: int) -> list[DeploymentRecord]:
    table = schema.deployments
    rows = connection.execute(
        select(table)
        .where(table.c.service == service)
        .order_by(table.c.updated_at.desc(), table.c.id.desc())
        .limit(limit)
    )
    return [_deployment(row) for row in rows]


def live_regions(connection: Connection, service: str) -> list[LiveRegion]:
    table = schema.region_current
    rows = connection.execute(
        select(table).where(table.c.service == service).order_by(table.c.environment, table.c.region)
    )
    return [
        LiveRegion(
            target=_target(row), digest=row.digest, tag=row.tag, workflow_id=row.workflow_id, since=_when(row.since)
        )
        for row in rows
    ]


def last_known_good(connection: Connection, target: RegionTarget) -> DeploymentRecord | None:
    """The digest most recently live in the target that nobody has marked bad: the rollback target."""
    table, bad = schema.deployments, schema.bad_digests
    marked = exists().where(bad.c.service == table.c.service, bad.c.digest == table.c.digest)
    row = connection.execute(
        select(table)
        .where(*same_target(table, target), table.c.state == RegionState.LIVE.value, ~marked)
        .order_by(table.c.live_at.desc(), table.c.id.desc())
        .limit(1)
    ).first()
    return _deployment(row) if row is not None else None


def bad_mark(connection: Connection, service: str, digest: str) -> BadMark | None:
    table = schema.bad_digests
    row = connection.execute(select(table).where(table.c.service == service, table.c.digest == digest)).first()
    if row is None:
        return None
    return BadMark(
        service=row.service,
        digest=row.digest,
        reason=row.reason,
        actor=row.actor,
        workflow_id=row.workflow_id,
        marked_at=_when(row.marked_at),
    )


def audit(connection: Connection, service: str, digest: str | None) -> list[AuditRecord]:
    table = schema.audit_log
    query = select(table).where(table.c.service == service)
    if digest is not None:
        query = query.where(table.c.digest == digest)
    rows = connection.execute(query.order_by(table.c.at, table.c.id))
    return [
        AuditRecord(
            at=_when(row.at),
            action=AuditAction(row.action),
            service=row.service,
            digest=row.digest,
            actor=row.actor,
            reason=row.reason,
            workflow_id=row.workflow_id,
        )
        for row in rows
    ]


def _lane_action(row: Row[Any]) -> LaneActionRecord:
    return LaneActionRecord(
        service=row.service,
        environment=row.environment,
        action=LaneActionKind(row.action),
        actor=row.actor,
        reason=row.reason,
        at=_when(row.at),
        workflow_id=row.workflow_id,
        tag=row.tag,
        digest=row.digest,
        recorded_at=_when(row.recorded_at),
        verified=row.verified,
    )


def lane_action(connection: Connection, workflow_id: str, action: LaneActionKind, at: datetime) -> LaneActionRecord:
    table = schema.lane_actions
    row = connection.execute(
        select(table).where(table.c.workflow_id == workflow_id, table.c.action == action.value, table.c.at == at)
    ).one()
    return _lane_action(row)


def lane_actions(connection: Connection, service: str, environment: str | None, limit: int) -> list[LaneActionRecord]:
    """Newest first, as `rollwright history` shows them."""
    table = schema.lane_actions
    query = select(table).where(table.c.service == service)
    if environment is not None:
        query = query.where(table.c.environment == environment)
    rows = connection.execute(query.order_by(table.c.at.desc(), table.c.id.desc()).limit(limit))
    return [_lane_action(row) for row in rows]
