"""An environment's database, locally a real SQLite file, managed by a Python dynamic provider.

The file is stamped with the environment that owns it; adopting a file stamped for another environment is
refused, so a mis-pointed stack fails loudly instead of sharing data. Deleting the resource never deletes
the data: the database outlives every stack that references it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class DatabaseOwnedElsewhereError(RuntimeError):
    """The SQLite file exists but belongs to another environment or service."""


def _stamp(path: Path, environment: str, service: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS rollwright_owner (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.executemany(
            "INSERT OR IGNORE INTO rollwright_owner (key, value) VALUES (?, ?)",
            [("environment", environment), ("service", service)],
        )
        owner = dict(conn.execute("SELECT key, value FROM rollwright_owner").fetchall())
    if owner != {"environment": environment, "service": service}:
        raise DatabaseOwnedElsewhereError(
            f"{path} belongs to service {owner.get('service')!r} in environment {owner.get('environment')!r}, "
            f"not {service!r} in {environment!r}"
        )


class SqliteDatabaseProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        path = Path(props["path"])
        _stamp(path, props["environment"], props["service"])
        return CreateResult(id_=str(path), outs={**_clean(props), "url": sqlite_url(path)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = [key for key in ("path", "environment", "service") if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(moved), replaces=moved)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # The data stays: other regions of the environment share it, and losing it is never automatic.
        return None


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in props.items() if not key.startswith("__")}


class SqliteDatabase(Resource, module="rollwright", name="SqliteDatabase"):
    url: pulumi.Output[str]
    path: pulumi.Output[str]
    environment: pulumi.Output[str]

    def __init__(
        self, name: str, *, path: str, environment: str, service: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Known before the resource exists: what points at the database is rendered (and judged by the policy
        # packs) in the preview already, instead of being unknown until `up`.
        self.known_url = sqlite_url(Path(path))
        super().__init__(
            SqliteDatabaseProvider(),
            name,
            {"path": path, "environment": environment, "service": service, "url": None},
            opts,
        )
