"""Shared fixtures: the real parts (Temporal, registry, PostgreSQL, Pulumi CLI), each started here and stopped
when the test (or session) ends. Area-specific fixtures live in each area's own conftest."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from devstack.cluster import LocalCluster, run_local_cluster
from devstack.leftovers import SESSION_MARKER, processes_with_marker
from devstack.postgres import run_postgres
from devstack.registry import RunningRegistry, run_registry
from devstack.temporal import start_dev_server, start_time_skipping
from rollwright.provisioning.cli_binary import pulumi_bin_dir
from tests.handoff.regions import Region, open_region

_session_id = uuid.uuid4().hex
# Inherited by every process the tests start, so the session can prove it left none behind.
os.environ[SESSION_MARKER] = _session_id


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    deadline = time.monotonic() + 10
    left = processes_with_marker(_session_id)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = processes_with_marker(_session_id)
    if left:
        lines = "\n".join(f"  pid {pid}: {cmd[:160]}" for pid, cmd in left)
        print(f"\nprocesses started by the tests are still running:\n{lines}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_time_skipping()
    try:
        yield env
    finally:
        await env.shutdown()


RegistryFactory = Callable[..., contextlib.AbstractAsyncContextManager[RunningRegistry]]


@pytest.fixture
def registry_factory(tmp_path: Path) -> RegistryFactory:
    """`async with registry_factory(notify_url=..., htpasswd=(user, pw)) as reg:` — a real registry per call."""
    counter = iter(range(1000))

    def factory(
        *,
        notify_url: str | None = None,
        notify_headers: Mapping[str, str] | None = None,
        htpasswd: tuple[str, str] | None = None,
    ) -> contextlib.AbstractAsyncContextManager[RunningRegistry]:
        return run_registry(
            tmp_path / f"registry-{next(counter)}",
            notify_url=notify_url,
            notify_headers=notify_headers,
            htpasswd=htpasswd,
        )

    return factory


@pytest.fixture
async def registry(registry_factory: RegistryFactory) -> AsyncIterator[RunningRegistry]:
    async with registry_factory() as reg:
        yield reg


@pytest.fixture(scope="session")
async def postgres_server() -> AsyncIterator[str]:
    async with run_postgres() as pg:
        yield pg.url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL server for each test."""
    import sqlalchemy

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
async def local_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalCluster]:
    """The local Kubernetes control plane with the real Argo Rollouts and Argo CD (one fake node per region of
    devstack.cluster.DEFAULT_REGIONS), started once for the session. Tests share it, so each makes its own
    namespaces (`create_namespace`, `namespaces_per_region`) and Applications under unique names."""
    async with run_local_cluster(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


@pytest.fixture
async def region(local_cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[Region]:
    """A fresh service in one region of the local cluster, with its own GitOps repository; Rollwright's hand-off
    activities create its Application in the real Argo CD (tests/handoff/regions.py)."""
    async with open_region(local_cluster, tmp_path) as opened:
        yield opened


@pytest.fixture(scope="session")
def pulumi_dir() -> Path:
    """The real pulumi CLI's directory (built and cached by tools/ensure-tools.sh)."""
    return pulumi_bin_dir()
