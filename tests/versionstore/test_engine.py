"""The store's URL: `~` in SQLite paths, unsupported databases named, an unreachable server is "unavailable";
workers opening a new SQLite file together all get in."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from devstack.ports import free_port
from rollwright.versionstore import VersionStore, VersionStoreError, VersionStoreUnavailableError
from rollwright.versionstore.engine import create_store_engine


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


def test_workers_opening_a_new_sqlite_file_together_all_get_in(tmp_path: Path) -> None:
    """The first connections race to switch a new file to WAL; none may fail with "database is locked"."""
    workers, rounds = 4, 100
    failures: list[BaseException] = []

    def connect(url: str, start: threading.Barrier) -> None:
        engine = create_store_engine(url)
        try:
            start.wait()
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        except BaseException as exc:
            failures.append(exc)
        finally:
            engine.dispose()

    for n in range(rounds):
        start = threading.Barrier(workers)
        url = f"sqlite:///{tmp_path}/new-{n}.db"
        threads = [threading.Thread(target=connect, args=(url, start)) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
