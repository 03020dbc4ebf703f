"""Alembic builds exactly schema.py's tables, on SQLite and PostgreSQL alike; running it again changes nothing;
workers starting together migrate once; stores made by the hand-written migrations are adopted with their data;
a batch-mode ALTER of a table others refer to keeps rows and foreign keys; a failing revision changes nothing; a
store a newer release migrated is refused by name."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from rollwright.domain.identity import RegionTarget
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import VersionStore, VersionStoreError, schema
from rollwright.versionstore.engine import create_store_engine
from rollwright.versionstore.migrations import LEGACY_TABLE, migrate
from tests.versionstore import legacy_schema

HEAD = "0006"
ALL_REVISIONS = ["0001", "0002", "0003", "0004", "0005", "0006"]
# What a store the hand-written migrations made still needs: all but the baseline it is stamped at.
AFTER_LEGACY = ALL_REVISIONS[1:]
D1 = "sha256:" + "1" * 64
EU = RegionTarget(service="api", environment="prod", region="eu-west-1")
WORKERS = 4


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    created = create_store_engine(store_url)
    yield created
    created.dispose()


def _revision(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(sqlalchemy.text("SELECT version_num FROM alembic_version")))


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), schema.metadata))


def _make_legacy_store(engine: Engine) -> None:
    """A store the old code created and used: one live version in one region."""
    now = datetime.now(UTC)
    region = {"service": "api", "environment": "prod", "region": "eu-west-1"}
    run = {"digest": D1, "tag": "v1", "workflow_id": "wf-1"}
    tables = legacy_schema.metadata.tables
    with engine.begin() as connection:
        legacy_schema.create_legacy_store(connection)
        connection.execute(
            tables["versions"].insert(),
            {"service": "api", "tag": "v1", "digest": D1, "image": "reg/api", "state": "live", "recorded_at": now,
             "updated_at": now},
        )  # fmt: skip
        deployment = connection.execute(
            tables["deployments"].insert(),
            {**region, **run, "state": "live", "started_at": now, "updated_at": now, "live_at": now},
        ).inserted_primary_key
        assert deployment is not None
        connection.execute(
            tables["region_current"].insert(), {**region, **run, "deployment_id": deployment[0], "since": now}
        )


def test_a_new_store_gets_exactly_the_tables_schema_py_describes(engine: Engine) -> None:
    assert migrate(engine) == ALL_REVISIONS
    assert _revision(engine) == [HEAD]
    assert _differences(engine) == []
    assert not inspect(engine).has_table(LEGACY_TABLE)


def test_migrating_again_is_a_no_op_and_data_survives_reopening(store_url: str, engine: Engine) -> None:
    with VersionStore(store_url) as first:
        first.record_version(service="api", tag="v1", digest=D1, image="reg/api")
    with VersionStore(store_url) as second:
        second.migrate()
        assert [v.tag for v in second.versions("api")] == ["v1"]
    assert migrate(engine) == []
    assert _revision(engine) == [HEAD]


def test_a_store_made_by_the_hand_written_migrations_is_adopted_with_its_data(store_url: str, engine: Engine) -> None:
    _make_legacy_store(engine)

    # Stamped at the baseline (its tables exist already), then upgraded from there.
    assert migrate(engine) == AFTER_LEGACY
    assert _revision(engine) == [HEAD]
    assert not inspect(engine).has_table(LEGACY_TABLE)
    assert _differences(engine) == []
    with VersionStore(store_url) as store:
        assert [(v.tag, v.digest) for v in store.versions("api")] == [("v1", D1)]
        assert [(live.target, live.digest) for live in store.live_regions("api")] == [(EU, D1)]
        store.record_region_state(EU, digest=D1, tag="v1", state=RegionState.ROLLED_BACK, workflow_id="wf-2")
        assert next(d.state for d in store.deployments("api")) is RegionState.ROLLED_BACK
    assert migrate(engine) == []


@pytest.mark.parametrize("existing", ["empty", "legacy"])
def test_workers_starting_together_migrate_once(store_url: str, engine: Engine, existing: str) -> None:
    if existing == "legacy":
        _make_legacy_store(engine)
    expected = ALL_REVISIONS if existing == "empty" else AFTER_LEGACY
    start = threading.Barrier(WORKERS)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        # Each worker has its own engine, as separate processes would.
        own = create_store_engine(store_url)
        try:
            start.wait()
            results.append(migrate(own))
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == sorted([expected] + [[]] * (WORKERS - 1))
    assert _revision(engine) == [HEAD]
    assert _differences(engine) == []


def _scripts_with(tmp_path: Path, revision: str) -> str:
    """The shipped revisions plus one more on top (as the next release might add)."""
    target = tmp_path / "migrations"
    with as_file(files("rollwright.versionstore.migrations")) as shipped:
        shutil.copytree(shipped, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "versions" / "9001_next.py").write_text(
        f'revision = "9001"\ndown_revision = "{HEAD}"\nbranch_labels = None\ndepends_on = None\n\n'
        f"import sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade() -> None:\n{revision}"
    )
    return str(target)


def test_batch_mode_alters_a_referenced_table_keeping_rows_and_foreign_keys(
    store_url: str, engine: Engine, tmp_path: Path
) -> None:
    with VersionStore(store_url) as store:
        store.record_version(service="api", tag="v1", digest=D1, image="reg/api")
        store.record_region_state(EU, digest=D1, tag="v1", state=RegionState.LIVE, workflow_id="wf-1")
    # On SQLite this rebuilds `deployments` (copy, drop, rename) while `region_current` refers to it.
    widen = (
        '    with op.batch_alter_table("deployments") as batch:\n'
        '        batch.alter_column("state", existing_type=sa.String(16), type_=sa.String(32),\n'
        "                           existing_nullable=False)\n"
    )

    assert migrate(engine, _scripts_with(tmp_path, widen)) == ["9001"]

    state = next(c for c in inspect(engine).get_columns("deployments") if c["name"] == "state")
    assert isinstance(state["type"], sqlalchemy.String)
    assert state["type"].length == 32
    with engine.connect() as connection:
        joined = connection.execute(
            sqlalchemy.select(schema.region_current.c.region, schema.deployments.c.state).join(
                schema.deployments, schema.region_current.c.deployment_id == schema.deployments.c.id
            )
        ).all()
        assert [tuple(row) for row in joined] == [("eu-west-1", "live")]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            # The migration's connection went back to the pool with foreign keys enforced again.
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_failing_revision_leaves_the_store_as_it_was(store_url: str, engine: Engine, tmp_path: Path) -> None:
    migrate(engine)
    half_done = (
        '    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    raise RuntimeError("revision 9001 failed")\n'
    )
    with pytest.raises(RuntimeError, match="revision 9001 failed"):
        migrate(engine, _scripts_with(tmp_path, half_done))
    assert _revision(engine) == [HEAD]
    assert not inspect(engine).has_table("half_done")


def test_a_store_migrated_by_a_newer_release_is_refused_by_name(store_url: str, engine: Engine, tmp_path: Path) -> None:
    migrate(engine, _scripts_with(tmp_path, "    pass\n"))
    store = VersionStore(store_url)
    try:
        with pytest.raises(VersionStoreError, match=f"revision 9001, which this Rollwright does not know .* {HEAD}\\)"):
            store.migrate()
    finally:
        store.close()
