"""Every part of the demo, started in order and stopped in reverse, from one config file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from demo import sample
from demo.narrator import Narrator
from devstack.cluster import LocalCluster, run_local_cluster
from devstack.ports import free_port
from devstack.process import ReadinessProbe, http_probe, managed_process
from devstack.prometheus import RunningPrometheus, run_prometheus
from devstack.registry import RunningRegistry, run_registry
from devstack.temporal import start_dev_server
from devstack.traffic import RunningTraffic, run_traffic
from rollwright.config import RollwrightConfig, load_config
from rollwright.domain.identity import RegionTarget

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DemoStack:
    workdir: Path
    config_file: Path
    config: RollwrightConfig
    client: Client
    registry: RunningRegistry
    cluster: LocalCluster
    # The simulated users of every region but prod's second wave, and those of that wave, measured by a Prometheus
    # of their own.
    traffic: RunningTraffic
    wave_two_traffic: RunningTraffic
    ui_url: str
    webhook_url: str
    notifications: list[dict[str, Any]]
    startup_seconds: float  # from nothing to every part ready, the local cluster included
    # The deployments the demo already followed, so each act follows the ones its push started.
    followed: set[str] = field(default_factory=set)


def _temporal_pollers_probe(client: Client, task_queue: str) -> ReadinessProbe:
    async def check() -> bool:
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return len(response.pollers) > 0

    return ReadinessProbe(check=check, timeout=60, description=f"polling task queue {task_queue}")


@contextlib.asynccontextmanager
async def _notification_sink(narrator: Narrator, received: list[dict[str, Any]]) -> AsyncIterator[str]:
    """Stands in for the team's Slack channel: prints what Rollwright would have posted."""
    app = FastAPI()

    @app.post("/notify")
    async def notify(request: Request) -> dict[str, bool]:
        message = json.loads(await request.body())
        received.append(message)
        narrator.detail(f"notification: {message.get('text', '')}")
        return {"ok": True}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/notify"
    finally:
        server.should_exit = True
        await task


def _fresh_workdir(workdir: Path) -> Path:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    return workdir.resolve()


def _init_gitops_remote(path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(path)], check=True)


async def _region_namespaces(cluster: LocalCluster) -> list[str]:
    """Each region's namespace, labelled with its region, before Argo CD syncs anything into it."""
    targets = [RegionTarget(service=sample.SERVICE, environment=env, region=r) for env, r in sample.ALL_REGIONS]
    return list(
        await asyncio.gather(*(cluster.create_namespace(t.fill(sample.NAMESPACE), region=t.region) for t in targets))
    )


async def _measured(
    stack: contextlib.AsyncExitStack, cluster: LocalCluster, workdir: Path
) -> tuple[RunningTraffic, RunningPrometheus]:
    """Simulated users of every Rollout in the cluster, and a Prometheus scraping their request counters."""
    traffic = await stack.enter_async_context(
        run_traffic(cluster.kube_url, cluster.kube_token, ca_file=str(cluster.ca_file))
    )
    prometheus = await stack.enter_async_context(run_prometheus(workdir, [traffic.address]))
    return traffic, prometheus


@contextlib.asynccontextmanager
async def start_stack(
    narrator: Narrator, *, workdir: Path, temporal_port: int, ui_port: int
) -> AsyncIterator[DemoStack]:
    workdir = _fresh_workdir(workdir)
    started = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        narrator.chapter("Starting the parts (all local, all real)")
        env = await start_dev_server(port=temporal_port, ui_port=ui_port, db_file=workdir / "temporal.db")
        stack.push_async_callback(env.shutdown)
        ui_url = f"http://localhost:{ui_port}"
        narrator.say(f"Temporal dev server on 127.0.0.1:{temporal_port}, UI at {ui_url}")

        gitops = workdir / "gitops.git"
        _init_gitops_remote(gitops)
        narrator.say(f"GitOps remote: bare repository {gitops}")

        narrator.say(
            "starting the local cluster: a Kubernetes control plane with one kwok node per region "
            f"({', '.join(sample.CLUSTER_REGIONS)}), the real Argo Rollouts controller and the real Argo CD"
        )
        cluster = await stack.enter_async_context(
            run_local_cluster(workdir / "cluster", regions=sample.CLUSTER_REGIONS)
        )
        narrator.say(f"local cluster up in {cluster.startup_seconds:.0f}s; Argo CD at {cluster.argocd_url}")
        namespaces = await _region_namespaces(cluster)
        narrator.say(f"namespaces, one per region: {', '.join(namespaces)}")

        traffic, prometheus = await _measured(stack, cluster, workdir / "prometheus")
        wave_two_traffic, wave_two_prometheus = await _measured(stack, cluster, workdir / "prometheus-wave-two")
        narrator.say(
            f"simulated users of every Rollout, scraped by Prometheus at {prometheus.url}; prod's second wave "
            f"({', '.join(sample.PROD_WAVES[1])}) has users and a Prometheus of its own at {wave_two_prometheus.url}"
        )

        notifications: list[dict[str, Any]] = []
        notify_url = await stack.enter_async_context(_notification_sink(narrator, notifications))

        ports = sample.DemoPorts(temporal=temporal_port, webhook=free_port())
        registry_port = free_port()
        registry_host = f"127.0.0.1:{registry_port}"
        task_queue = "rollwright-demo"
        config_file = sample.write_config(
            workdir / "rollwright.yaml",
            sample.demo_config(
                workdir=workdir,
                registry_host=registry_host,
                argocd_url=cluster.argocd_url,
                metrics=sample.DemoMetrics(prometheus=prometheus.url, wave_two_prometheus=wave_two_prometheus.url),
                ports=ports,
                task_queue=task_queue,
            ),
        )
        config = load_config(config_file)
        narrator.say(f"config: {config_file}")

        registry_token = secrets.token_urlsafe(16)
        child_env = {
            **os.environ,
            sample.ARGOCD_TOKEN_ENV: cluster.argocd_token,
            sample.REGISTRY_TOKEN_ENV: registry_token,
            sample.PASSPHRASE_ENV: "rollwright-demo-passphrase",
            sample.NOTIFY_URL_ENV: notify_url,
            "ROLLWRIGHT_LOG_LEVEL": "INFO",
        }
        python = sys.executable
        webhook_url = f"http://127.0.0.1:{ports.webhook}"
        await stack.enter_async_context(
            managed_process(
                "webhook receiver",
                [python, str(ROOT / "starter.py"), "--config", str(config_file), "webhook"],
                log_file=workdir / "logs" / "webhook.log",
                probe=http_probe(f"{webhook_url}/healthz"),
                env=child_env,
                cwd=ROOT,
            )
        )
        narrator.say(f"webhook receiver at {webhook_url}/webhooks/distribution")

        registry = await stack.enter_async_context(
            run_registry(
                workdir / "registry",
                port=registry_port,
                notify_url=f"{webhook_url}/webhooks/distribution",
                notify_headers={"X-Rollwright-Token": registry_token},
            )
        )
        narrator.say(f"CNCF Distribution registry at {registry.url}, notifying the webhook")

        await stack.enter_async_context(
            managed_process(
                "worker",
                [python, str(ROOT / "worker.py"), "--config", str(config_file), "--all"],
                log_file=workdir / "logs" / "worker.log",
                probe=_temporal_pollers_probe(env.client, task_queue),
                env=child_env,
                cwd=ROOT,
                grace=20,
            )
        )
        narrator.say(f"worker polling task queues {task_queue} and {task_queue}-pulumi (logs in {workdir / 'logs'})")
        startup_seconds = time.monotonic() - started
        narrator.say(
            f"set-up took {startup_seconds:.0f}s, {cluster.startup_seconds:.0f}s of it the local cluster (building "
            "or checking the tools came before, in `make tools`, which prints its own times)"
        )

        yield DemoStack(
            workdir=workdir,
            config_file=config_file,
            config=config,
            client=env.client,
            registry=registry,
            cluster=cluster,
            traffic=traffic,
            wave_two_traffic=wave_two_traffic,
            ui_url=ui_url,
            webhook_url=webhook_url,
            notifications=notifications,
            startup_seconds=startup_seconds,
        )
        narrator.chapter("Stopping every part")


async def until(condition: Callable[[], Awaitable[bool]], *, timeout: float, interval: float = 0.5) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return True
        await asyncio.sleep(interval)
    return False
