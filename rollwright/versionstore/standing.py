"""Derived standing kept in step with each write: which digest runs in each region, and each version's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, case, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from rollwright.domain.identity import RegionTarget
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import queries, schema
from rollwright.versionstore.models import VersionState


def insert_for(connection: Connection, table: Table) -> Any:
    """An INSERT with ON CONFLICT support in the connection's dialect (both spell it the same way)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def update_current(
    connection: Connection,
    target: RegionTarget,
    deployment_id: int | None,
    digest: str,
    tag: str,
    state: RegionState,
    workflow_id: str,
    now: datetime,
) -> set[str]:
    """Keep `region_current` (what runs in each region) in step; return digests whose standing changed."""
    current = schema.region_current
    where = queries.same_target(current, target)
    previous = connection.scalar(select(current.c.digest).where(*where))
    if state is RegionState.LIVE:
        insert = insert_for(connection, current).values(
            service=target.service,
            environment=target.environment,
            region=target.region,
            deployment_id=deployment_id,
            digest=digest,
            tag=tag,
            workflow_id=workflow_id,
            since=now,
        )
        same = current.c.digest == insert.excluded.digest
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=["service", "environment", "region"],
                set_={
                    "deployment_id": insert.excluded.deployment_id,
                    "digest": insert.excluded.digest,
                    "tag": insert.excluded.tag,
                    "workflow_id": insert.excluded.workflow_id,
                    "since": case((same, current.c.since), else_=insert.excluded.since),
                },
            )
        )
    elif state is RegionState.REMOVED:
        connection.execute(delete(current).where(*where, current.c.digest == digest))
    return {previous} if previous is not None else set()


def refresh_version_state(connection: Connection, service: str, digest: str, now: datetime) -> None:
    deployments, current = schema.deployments, schema.region_current
    of_digest = and_(deployments.c.service == service, deployments.c.digest == digest)

    def any_deployment(*states: RegionState) -> Any:
        return exists().where(of_digest, deployments.c.state.in_([s.value for s in states]))

    bad = exists().where(schema.bad_digests.c.service == service, schema.bad_digests.c.digest == digest)
    live_now = exists().where(current.c.service == service, current.c.digest == digest)
    state = case(
        (bad, VersionState.BAD.value),
        (live_now, VersionState.LIVE.value),
        (any_deployment(RegionState.DEPLOYING), VersionState.DEPLOYING.value),
        (
            any_deployment(RegionState.ROLLED_BACK, RegionState.FAILED, RegionState.REMOVED),
            VersionState.ROLLED_BACK.value,
        ),
        (any_deployment(RegionState.LIVE), VersionState.SUPERSEDED.value),
        else_=VersionState.PENDING.value,
    )
    versions = schema.versions
    connection.execute(
        update(versions)
        .where(versions.c.service == service, versions.c.digest == digest, versions.c.state != state)
        .values(state=state, updated_at=now)
    )
