"""The rendered_manifests table's reads and writes, as functions over an open connection (the store owns
transactions). Content-addressed: a key names exactly one set of files, so writing it again changes nothing but
its time, and any worker may read what another rendered."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select

from rollwright.versionstore import schema
from rollwright.versionstore.errors import RenderedManifestsMissingError
from rollwright.versionstore.standing import insert_for

# A commit follows its Pulumi run within seconds unless the deployment is paused between them; a month outlasts
# any pause worth resuming, and a rollback renders its files afresh.
RETENTION = timedelta(days=30)


def keep(connection: Connection, content_hash: str, files: dict[str, str], now: datetime) -> None:
    table = schema.rendered_manifests
    statement = insert_for(connection, table).values(
        content_hash=content_hash, files=json.dumps(files, sort_keys=True), stored_at=now
    )
    connection.execute(statement.on_conflict_do_update(index_elements=["content_hash"], set_={"stored_at": now}))
    connection.execute(delete(table).where(table.c.stored_at < now - RETENTION))


def files(connection: Connection, content_hash: str) -> dict[str, str]:
    table = schema.rendered_manifests
    stored = connection.execute(select(table.c.files).where(table.c.content_hash == content_hash)).scalar()
    if stored is None:
        raise RenderedManifestsMissingError(
            f"no rendered manifests {content_hash} in the version store (pruned after {RETENTION.days} days "
            "unused, or rendered against another store); provision the region again"
        )
    loaded: dict[str, str] = json.loads(stored)
    return loaded
