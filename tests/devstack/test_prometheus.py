"""The canary analysis' metrics: the traffic simulator's counters, scraped by a real Prometheus and queried as the
AnalysisTemplate of a canary check would query them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from devstack.prometheus import run_prometheus
from devstack.traffic import ReplicaSet, run_traffic

CLEAN, BROKEN = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def replica_set(pod_hash: str, digest: str, ready: int) -> ReplicaSet:
    return ReplicaSet.model_validate(
        {
            "metadata": {
                "namespace": "prod-eu",
                "labels": {"rollouts-pod-template-hash": pod_hash, "app.kubernetes.io/name": "api"},
            },
            "spec": {"template": {"spec": {"containers": [{"image": f"reg/api@{digest}"}]}}},
            "status": {"readyReplicas": ready},
        }
    )


def success_rate(pod_hash: str) -> str:
    selector = f'service="api",pod_template_hash="{pod_hash}"'
    good = f'sum(rate(http_requests_total{{{selector},code!~"5.."}}[5s]))'
    return f"{good} / sum(rate(http_requests_total{{{selector}}}[5s]))"


async def test_prometheus_measures_the_error_ratio_the_simulator_was_given_per_digest(tmp_path: Path) -> None:
    # No cluster here: the simulator is fed the ReplicaSets a Rollout mid-canary would have (3 stable, 1 canary).
    async with run_traffic("http://127.0.0.1:9", "no-token") as traffic:
        traffic.fail(BROKEN, 0.2)
        async with (
            run_prometheus(tmp_path / "prometheus", [traffic.address]) as prometheus,
            httpx.AsyncClient(base_url=prometheus.url, timeout=5.0) as client,
        ):
            results: dict[str, float] = {}
            for _ in range(80):
                traffic.traffic.tick([replica_set("stable1", CLEAN, 3), replica_set("canary1", BROKEN, 1)], 0.5)
                await asyncio.sleep(0.25)
                for pod_hash in ("stable1", "canary1"):
                    answer = (await client.get("/api/v1/query", params={"query": success_rate(pod_hash)})).json()
                    vector = answer["data"]["result"]
                    if vector:
                        results[pod_hash] = float(vector[0]["value"][1])
                if len(results) == 2:
                    break

    assert results["stable1"] == 1.0
    assert abs(results["canary1"] - 0.8) < 0.01
