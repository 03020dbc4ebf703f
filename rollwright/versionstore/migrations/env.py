"""Alembic's entry point for the version store's revisions.

At start `migrate` hands over its connection (already in a transaction, holding the migration lock) and a list
to record applied revisions in. Run by the `alembic` command from a checkout (to write a revision), it opens the
store named by `-x url=...`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection

from rollwright.versionstore import schema
from rollwright.versionstore.engine import create_store_engine


def _run(connection: Connection, applied: list[str]) -> None:
    def record(ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]) -> None:
        if not step.is_stamp and step.up_revision_id is not None:
            applied.append(step.up_revision_id)

    context.configure(
        connection=connection,
        target_metadata=schema.metadata,
        # SQLite cannot ALTER most of a table: batch operations rebuild it, and are plain ALTERs elsewhere.
        render_as_batch=True,
        on_version_apply=record,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    attributes = context.config.attributes
    connection = attributes.get("connection")
    if connection is not None:
        _run(connection, attributes["applied"])
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("name the version store to compare with: alembic -x url=sqlite:///scratch.db ...")
    engine = create_store_engine(url)
    try:
        with engine.connect() as opened:
            _run(opened, [])
            opened.commit()
    finally:
        engine.dispose()


_main()
