"""A traffic simulator for canary analysis: a test and demo aid, not the product.

Pods do not run under kwok, so nothing answers requests. This stands in for a service's users: every tick it
reads the live ReplicaSets of each Rollout from the cluster (which pod-template hash runs which image digest, how
many replicas are ready), sends a constant request rate split in proportion to ready replicas (what a plain
Service does for a canary without traffic routing), and counts the answers as
`http_requests_total{service, namespace, pod_template_hash, code}`. The error ratio per digest is set by the test
or the demo. Prometheus scrapes `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from devstack.ports import free_port

HASH_LABEL = "rollouts-pod-template-hash"
NAME_LABEL = "app.kubernetes.io/name"
TICK_SECONDS = 0.5


class ErrorRatio(BaseModel):
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    ratio: float = Field(ge=0, le=1)


class _Meta(BaseModel):
    namespace: str = ""
    labels: dict[str, str] = Field(default_factory=dict)


class _Container(BaseModel):
    image: str = ""


class _PodSpec(BaseModel):
    containers: list[_Container] = Field(default_factory=list)


class _Template(BaseModel):
    spec: _PodSpec = _PodSpec()


class _ReplicaSetSpec(BaseModel):
    template: _Template = _Template()


class _ReplicaSetStatus(BaseModel):
    ready_replicas: int = Field(default=0, alias="readyReplicas")


class ReplicaSet(BaseModel):
    """The parts of a live ReplicaSet the simulator reads."""

    metadata: _Meta = _Meta()
    spec: _ReplicaSetSpec = _ReplicaSetSpec()
    status: _ReplicaSetStatus = _ReplicaSetStatus()

    @property
    def digest(self) -> str:
        image = self.spec.template.spec.containers[0].image if self.spec.template.spec.containers else ""
        return image.rpartition("@")[2] if "@" in image else ""


@dataclass
class Traffic:
    """The counters, and what fails how often."""

    requests_per_second: float = 100.0
    error_ratios: dict[str, float] = field(default_factory=dict)  # digest -> share of 5xx answers
    counts: dict[tuple[str, str, str, str], float] = field(default_factory=lambda: defaultdict(float))

    def tick(self, replica_sets: list[ReplicaSet], seconds: float) -> None:
        ready: dict[tuple[str, str], list[tuple[str, str, int]]] = defaultdict(list)
        for rs in replica_sets:
            pod_hash, service = rs.metadata.labels.get(HASH_LABEL), rs.metadata.labels.get(NAME_LABEL)
            if not pod_hash or not service:
                continue
            namespace = rs.metadata.namespace
            for code in ("200", "500"):  # both series from the start: a clean version reads exactly 1, not NaN
                self.counts[(service, namespace, pod_hash, code)] += 0.0
            ready[(service, namespace)].append((pod_hash, rs.digest, rs.status.ready_replicas))
        for (service, namespace), sets in ready.items():
            total = sum(count for _, _, count in sets)
            if total == 0:
                continue
            for pod_hash, digest, count in sets:
                requests = self.requests_per_second * seconds * count / total
                errors = requests * self.error_ratios.get(digest, 0.0)
                self.counts[(service, namespace, pod_hash, "500")] += errors
                self.counts[(service, namespace, pod_hash, "200")] += requests - errors

    def exposition(self) -> str:
        lines = ["# TYPE http_requests_total counter"]
        for (service, namespace, pod_hash, code), value in sorted(self.counts.items()):
            labels = f'service="{service}",namespace="{namespace}",pod_template_hash="{pod_hash}",code="{code}"'
            lines.append(f"http_requests_total{{{labels}}} {value:.3f}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RunningTraffic:
    traffic: Traffic
    address: str  # host:port, for Prometheus' scrape config

    def fail(self, digest: str, ratio: float) -> None:
        self.traffic.error_ratios[ErrorRatio(digest=digest, ratio=ratio).digest] = ratio


def _app(traffic: Traffic) -> FastAPI:
    app = FastAPI(title="Rollwright traffic simulator (test and demo aid)")

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> str:
        return traffic.exposition()

    @app.post("/errors")
    async def set_errors(body: ErrorRatio) -> dict[str, float]:
        traffic.error_ratios[body.digest] = body.ratio
        return traffic.error_ratios

    return app


async def _follow_cluster(traffic: Traffic, kube_url: str, token: str, ca_file: str | None) -> None:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    async with httpx.AsyncClient(
        base_url=kube_url, headers={"Authorization": f"Bearer {token}"}, verify=verify, timeout=5.0
    ) as kube:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                answer = await kube.get("/apis/apps/v1/replicasets", params={"labelSelector": HASH_LABEL})
                if answer.status_code == 200:
                    items = [ReplicaSet.model_validate(item) for item in answer.json().get("items", [])]
                    traffic.tick(items, TICK_SECONDS)
            await asyncio.sleep(TICK_SECONDS)


@contextlib.asynccontextmanager
async def run_traffic(
    kube_url: str, token: str, *, ca_file: str | None = None, requests_per_second: float = 100.0
) -> AsyncIterator[RunningTraffic]:
    """Serve simulated traffic counters for every Rollout in the cluster until the block ends."""
    traffic = Traffic(requests_per_second=requests_per_second)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(traffic), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    following = asyncio.create_task(_follow_cluster(traffic, kube_url, token, ca_file))
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.02)
        yield RunningTraffic(traffic=traffic, address=f"127.0.0.1:{port}")
    finally:
        following.cancel()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await serving
