"""Ordered schema migrations, applied once each and recorded in `schema_migrations`.

Append new migrations to MIGRATIONS; never edit one that has shipped (write ALTERs in a new one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select, text

from rollwright.versionstore import schema

# Arbitrary constant: the PostgreSQL advisory lock that serialises workers migrating at the same moment.
_PG_MIGRATION_LOCK = 0x526F6C6C


def _initial(connection: Connection) -> None:
    schema.metadata.create_all(
        connection,
        tables=[
            schema.versions,
            schema.deployments,
            schema.region_current,
            schema.bad_digests,
            schema.audit_log,
        ],
    )


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "versions, deployments, current regions, bad marks, audit log", _initial),
]


def migrate(engine: Engine) -> list[int]:
    """Apply pending migrations in order; return the versions applied now. Safe from many workers at once."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        schema.schema_migrations.create(connection, checkfirst=True)
        done = set(connection.scalars(select(schema.schema_migrations.c.version)))
        applied = []
        for version, name, apply in MIGRATIONS:
            if version in done:
                continue
            apply(connection)
            connection.execute(
                insert(schema.schema_migrations).values(version=version, name=name, applied_at=datetime.now(UTC))
            )
            applied.append(version)
        return applied
