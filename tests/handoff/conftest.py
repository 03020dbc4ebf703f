"""The hand-off tests' measured traffic (the `region` fixture is the whole suite's, in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devstack.cluster import LocalCluster
from devstack.prometheus import run_prometheus
from devstack.traffic import RunningTraffic, run_traffic


@pytest.fixture
async def measured(local_cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[tuple[RunningTraffic, str]]:
    """Simulated traffic for every Rollout of the cluster, and the real Prometheus that scrapes it."""
    async with (
        run_traffic(local_cluster.kube_url, local_cluster.kube_token, ca_file=str(local_cluster.ca_file)) as traffic,
        run_prometheus(tmp_path / "prometheus", [traffic.address]) as prometheus,
    ):
        yield traffic, prometheus.url
