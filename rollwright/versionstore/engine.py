"""One engine factory for every backend the store runs on: a SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import stamina
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from rollwright.versionstore.errors import VersionStoreError

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def _database_locked(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc)


def _use_wal(cursor: Any) -> None:
    """Switching a new file to WAL needs it alone for a moment, and SQLite answers a connection that races
    another's switch (workers starting together on a new store) "database is locked" at once instead of waiting
    out the busy timeout: so we wait here, within the same budget. Once the file is in WAL this returns at once."""
    for attempt in stamina.retry_context(
        on=_database_locked, attempts=None, timeout=SQLITE_BUSY_TIMEOUT_SECONDS, wait_initial=0.01, wait_max=0.2
    ):
        with attempt:
            cursor.execute("PRAGMA journal_mode=WAL")


def _sqlite_engine(url: Any) -> Engine:
    database = url.database
    if not database or database == ":memory:":
        raise VersionStoreError("the version store needs a SQLite file, not an in-memory database")
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url.set(database=str(path)),
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it otherwise).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        # Durable across application crashes in WAL mode, and far fewer fsyncs than FULL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction that upgrades to a writer can fail with
        # "database is locked" without waiting, which would lose a concurrent write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_store_engine(url: str) -> Engine:
    """`sqlite:///~/rollwright/versions.db` (the `~` is expanded, parents created) or `postgresql+psycopg://…`."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise VersionStoreError(f"version_store.url: unsupported database {backend!r} (use sqlite or postgresql)")
