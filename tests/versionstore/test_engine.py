"""The store's URL: `~` in SQLite paths, unsupported databases named, an unreachable server is "unavailable"."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.ports import free_port
from rollwright.versionstore import VersionStore, VersionStoreError, VersionStoreUnavailableError


def test_sqlite_path_expands_home_and_creates_parents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with VersionStore("sqlite:///~/state/rollwright/versions.db") as store:
        store.record_version(service="api", tag="v1", digest="sha256:" + "a" * 64, image="reg/api")
    assert (tmp_path / "state" / "rollwright" / "versions.db").is_file()


def test_unsupported_database_is_named() -> None:
    with pytest.raises(VersionStoreError, match="unsupported database 'mysql'"):
        VersionStore("mysql://localhost/x")


def test_unreachable_server_is_unavailable() -> None:
    store = VersionStore(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2")
    with pytest.raises(VersionStoreUnavailableError, match="version store unavailable"):
        store.versions("api")
    store.close()
