"""Prometheus (Debian package `prometheus`) on a free loopback port, scraping the given targets every second.

A test and demo aid: the canary analysis of the local cluster's Rollouts queries it, as production's Rollouts
controller queries the team's Prometheus.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from devstack.ports import free_port
from devstack.process import http_probe, managed_process

PROMETHEUS_BINARY = "prometheus"
# Every second: a canary step of a few seconds must see several samples (two before its first measurement).
SCRAPE_INTERVAL = "1s"


class PrometheusUnavailableError(RuntimeError):
    """The prometheus binary is not installed."""


@dataclass(frozen=True)
class RunningPrometheus:
    url: str
    pid: int


def prometheus_binary() -> str:
    path = shutil.which(PROMETHEUS_BINARY)
    if path is None:
        raise PrometheusUnavailableError("prometheus is not installed: run `make tools` (apt-get install prometheus)")
    return path


@contextlib.asynccontextmanager
async def run_prometheus(workdir: Path, targets: Sequence[str]) -> AsyncIterator[RunningPrometheus]:
    """Prometheus scraping `targets` (host:port each) at /metrics, its data under `workdir`."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
                "scrape_configs": [{"job_name": "traffic", "static_configs": [{"targets": list(targets)}]}],
            }
        )
    )
    argv = [
        prometheus_binary(),
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    url = f"http://127.0.0.1:{port}"
    async with managed_process(
        "prometheus", argv, log_file=workdir / "prometheus.log", probe=http_probe(f"{url}/-/ready")
    ) as proc:
        yield RunningPrometheus(url=url, pid=proc.pid)
