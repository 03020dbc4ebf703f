"""The version store's schema migrations: Alembic revisions shipped in this package, applied at start.

`migrate` runs them on the store's own engine, so a user's machine needs no alembic.ini. Many workers may start
at once: PostgreSQL serialises them with an advisory lock, SQLite with its write lock (the engine begins every
transaction IMMEDIATE); whoever comes second finds the schema at head and applies nothing.

Stores created before Alembic carry the hand-written mechanism's `schema_migrations` table; its only migration
created exactly what revision 0001 does, so such a store is stamped at 0001 and upgraded from there (0002 drops
the old table).

Revisions are forward only (the store is never downgraded) and never change once shipped. To add one, change
schema.py, then from a checkout (the configuration is in pyproject.toml) bring a scratch store to head and let
Alembic write the difference: `alembic -x url=sqlite:///scratch.db upgrade head`, then
`alembic -x url=sqlite:///scratch.db revision --autogenerate --rev-id 0003 -m "what changed"`; read, trim and
`ruff format` what it wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from rollwright.observability.logging import get_logger
from rollwright.versionstore.errors import VersionStoreError

log = get_logger(__name__)

SCRIPT_LOCATION = "rollwright.versionstore:migrations"
LEGACY_TABLE = "schema_migrations"
# The revision that creates what the hand-written migration 1 created.
LEGACY_BASELINE = "0001"

# Arbitrary constant: the PostgreSQL advisory lock that serialises workers migrating at the same moment.
_PG_MIGRATION_LOCK = 0x526F6C6C


def _config(connection: Connection, applied: list[str], script_location: str) -> Config:
    """Alembic's configuration for one run on `connection`; env.py appends each revision it applies to `applied`."""
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["connection"] = connection
    config.attributes["applied"] = applied
    return config


def migrate(engine: Engine, script_location: str = SCRIPT_LOCATION) -> list[str]:
    """Bring the schema to head in one transaction; return the revisions applied now (none if it was at head).

    `script_location` is where the revisions are: this package's, unless a test brings its own on top.
    """
    applied: list[str] = []
    with engine.connect() as connection, _foreign_keys_off_on_sqlite(connection), connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config = _config(connection, applied, script_location)
        _refuse_unknown_revisions(connection, ScriptDirectory.from_config(config))
        if _made_by_legacy_migrations(connection):
            command.stamp(config, LEGACY_BASELINE)
            log.info("version_store_legacy_schema_adopted", stamped=LEGACY_BASELINE)
        command.upgrade(config, "head")
        if connection.dialect.name == "sqlite":
            _check_foreign_keys(connection)
    if applied:
        log.info("version_store_migrated", revisions=applied)
    return applied


def _refuse_unknown_revisions(connection: Connection, scripts: ScriptDirectory) -> None:
    current = MigrationContext.configure(connection).get_current_heads()
    known = {script.revision for script in scripts.walk_revisions()}
    unknown = sorted(set(current) - known)
    if unknown:
        raise VersionStoreError(
            f"the version store's schema is at revision {', '.join(unknown)}, which this Rollwright does not know "
            f"(its newest is {scripts.get_current_head()}): a newer release migrated it; run that release or newer"
        )


def _made_by_legacy_migrations(connection: Connection) -> bool:
    inspector = inspect(connection)
    if inspector.has_table("alembic_version") or not inspector.has_table(LEGACY_TABLE):
        return False
    versions = set(connection.scalars(text(f"SELECT version FROM {LEGACY_TABLE}")))
    return 1 in versions


@contextmanager
def _foreign_keys_off_on_sqlite(connection: Connection) -> Iterator[None]:
    """SQLite alters a table in batch mode by copying it to a new one, dropping the old and renaming the copy;
    with foreign keys enforced, dropping a table others refer to deletes (or refuses) their rows. The pragma is a
    no-op inside a transaction, so it is set on the bare DB-API connection before ours begins; the foreign keys
    are checked before commit instead."""
    if connection.dialect.name != "sqlite":
        yield
        return
    _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    # Through SQLAlchemy the statement would autobegin a transaction first, where SQLite ignores it.
    dbapi_connection: Any = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(pragma)
    finally:
        cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise VersionStoreError(f"version store migration would break foreign keys in {', '.join(tables)}; rolled back")
