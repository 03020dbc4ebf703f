"""The whole system for a chaos run, as production runs it, with the real parts only: the Temporal dev server on a
database file, the registry notifying Rollwright's webhook receiver, the local cluster's real Argo CD and Argo
Rollouts (the session's cluster, shared: this run keeps to its own namespaces and Applications), real canary
analysis (simulated traffic measured by a real Prometheus), real Pulumi (file backend) and git (a bare remote), and
three workers as separate processes sharing one config file.

Two services, each with staging (one region) and prod (two waves), short canary pauses and bakes, and short
heartbeat timeouts and retry intervals (`limits:`), so a killed worker costs its step seconds. Every region's
canary is judged by a success-rate check; OWN_METRICS_REGION's users are measured apart (a Prometheus and traffic
of their own, through `region_prometheus`), so a version can fail there alone, as one region's dependency can.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from temporalio.client import Client

from devstack.cluster import LocalCluster
from devstack.dev_server import DevServer
from devstack.ports import free_port
from devstack.process import http_probe, managed_process
from devstack.prometheus import run_prometheus
from devstack.registry import RunningRegistry, run_registry
from devstack.traffic import RunningTraffic, run_traffic
from rollwright.domain.identity import RegionTarget
from tests.chaos.workers import ROOT, WorkerProcess, WorkerRole

SERVICES = ("cart-api", "search-api")
TAGS = ("v1.0.0", "v1.1.0")
STAGING_WAVES = [["local-a"]]
# The first wave has two regions, so a canary failing in one meets its sibling anywhere between provisioning and
# promotion (issue 12's first defect). Failing in the first wave, the rolled-back version stays off the second, which
# keeps the run within its budget: each region costs a Pulumi run, a commit and a real hand-off, forward and back.
PROD_WAVES = [["eu-west-1", "ap-south-1"], ["us-east-1"]]
REGIONS = [("staging", r) for wave in STAGING_WAVES for r in wave] + [("prod", r) for wave in PROD_WAVES for r in wave]
TASK_QUEUE = "rollwright-chaos"
OWN_METRICS_REGION = "ap-south-1"
# Short, since a run's path has seven hand-offs one after another, yet each canary runs long enough (about 7 s from its
# first step, more on a loaded machine) for its background analysis to measure it several times: a failing version's
# second measurement (about 2 s in) already fails it, with the second pause still ahead.
CANARY_STEPS = [{"weight": 25, "pause": "2s"}, {"weight": 50, "pause": "3s"}]
# The canary's own answers over the last 10 s (Prometheus scrapes every second), measured every second from its first
# step until it is promoted (`count` outlasts the canary). No data yet (fewer than two scrapes: an empty vector, which
# the controller would count as an Error and retry only 10 s later, after such a short canary ended) and 0/0 (no
# answer counted yet) read as NaN, no verdict, so they cannot fail a healthy version; failure_limit 0: the first bad
# measurement aborts the canary.
SUCCESS_RATE = {
    "name": "success-rate",
    "query": (
        '(sum(rate(http_requests_total{service="{{args.service}}",pod_template_hash="{{args.canary-hash}}",'
        'code!~"5.."}[10s])) / sum(rate(http_requests_total{service="{{args.service}}",'
        'pod_template_hash="{{args.canary-hash}}"}[10s]))) or vector(NaN)'
    ),
    "success_condition": "isNaN(result[0]) || result[0] >= 0.95",
    "interval": "1s",
    "count": 30,
    "failure_limit": 0,
    "initial_delay": "1s",
}

# Every deployment's limits (the workers' `limits:`): a worker killed under a step is noticed within the heartbeat
# timeout and the step retried 1-5 s later, so a kill costs it about 5 s, not the default 15 s (and retry intervals
# up to a minute). Activities beat three times per timeout, so one late beat on a loaded machine is no false death.
HEARTBEAT_TIMEOUT = 5.0
RETRY_INITIAL_INTERVAL = 1.0
RETRY_MAX_INTERVAL = 5.0
LIMITS = {
    "heartbeat_timeout": f"{HEARTBEAT_TIMEOUT:g}s",
    "retry_initial_interval": f"{RETRY_INITIAL_INTERVAL:g}s",
    "retry_max_interval": f"{RETRY_MAX_INTERVAL:g}s",
}

ARGOCD_TOKEN_ENV = "ROLLWRIGHT_CHAOS_ARGOCD_TOKEN"
REGISTRY_TOKEN_ENV = "ROLLWRIGHT_CHAOS_REGISTRY_TOKEN"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"


def repository(service: str) -> str:
    return f"shop/{service}"


@dataclass(frozen=True)
class ArgoPlacement:
    """Where this run's objects live in the shared cluster: its own Applications and namespaces, by template."""

    app: str
    namespace: str

    @classmethod
    def unique(cls) -> ArgoPlacement:
        run = f"chaos-{uuid.uuid4().hex[:6]}"
        return cls(app=f"{run}-{{service}}-{{env}}-{{region}}", namespace=f"{run}-{{env}}-{{region}}")

    def app_name(self, service: str, env: str, region: str) -> str:
        return RegionTarget(service=service, environment=env, region=region).app_name(self.app)

    def namespace_of(self, env: str, region: str) -> str:
        return self.namespace.format(env=env, region=region)


def chaos_config(
    *,
    workdir: Path,
    registry_host: str,
    argocd_url: str,
    placement: ArgoPlacement,
    prometheus_url: str,
    own_region_prometheus_url: str,
    temporal_address: str,
    webhook_port: int,
) -> dict[str, Any]:
    def service(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "image": f"{registry_host}/{repository(name)}",
            "tags": r"^v\d+\.\d+\.\d+$",
            "pulumi": {"program": "rollwright.stacks.web_service:program", "config": {"replicas": 2}},
            "canary": {"steps": CANARY_STEPS, "progress_deadline": "2m", "checks": [SUCCESS_RATE]},
            "environments": [
                {"name": "staging", "waves": STAGING_WAVES, "prometheus": prometheus_url},
                {
                    "name": "prod",
                    "waves": PROD_WAVES,
                    "bake": "2s",
                    "config": {"replicas": 3},
                    "prometheus": prometheus_url,
                    "region_prometheus": {OWN_METRICS_REGION: own_region_prometheus_url},
                },
            ],
        }

    return {
        "services": [service(name) for name in SERVICES],
        "temporal": {
            "address": temporal_address,
            "namespace": "default",
            "task_queue": TASK_QUEUE,
            "pulumi_task_queue": f"{TASK_QUEUE}-pulumi",
        },
        "argocd": {
            "server": argocd_url,
            "token": {"env": ARGOCD_TOKEN_ENV},
            "poll_interval": "500ms",
            "app": placement.app,
            "namespace": placement.namespace,
            "manage_applications": True,
            "repo_url": f"file://{workdir / 'gitops.git'}",
        },
        "gitops": {"repo": str(workdir / "gitops.git"), "branch": "main"},
        "registry": {"insecure_hosts": [registry_host]},
        "version_store": {"url": f"sqlite:///{workdir / 'versions.db'}"},
        "pulumi": {
            "backend_url": f"file://{workdir / 'pulumi-state'}",
            "work_root": str(workdir / "pulumi-work"),
            "passphrase": {"env": PASSPHRASE_ENV},
            "max_concurrent_operations": 2,
        },
        "webhooks": {
            "listen": f"127.0.0.1:{webhook_port}",
            "sources": {"distribution": {"token": {"env": REGISTRY_TOKEN_ENV}}},
        },
        "limits": LIMITS,
    }


@dataclass(frozen=True)
class ChaosStack:
    workdir: Path
    config_file: Path
    temporal: DevServer
    client: Client
    registry: RunningRegistry
    cluster: LocalCluster
    placement: ArgoPlacement
    # What the users of OWN_METRICS_REGION see (a version may fail there alone); every other region's users share one.
    own_region_traffic: RunningTraffic
    workers: list[WorkerProcess]

    @property
    def gitops_remote(self) -> Path:
        return self.workdir / "gitops.git"

    @property
    def pulumi_backend(self) -> Path:
        return self.workdir / "pulumi-state"

    @property
    def version_store_url(self) -> str:
        return f"sqlite:///{self.workdir / 'versions.db'}"


@contextlib.asynccontextmanager
async def start_chaos_stack(workdir: Path, cluster: LocalCluster) -> AsyncIterator[ChaosStack]:
    """Start every part (Temporal first, workers last) on `cluster` and stop them all in reverse, whatever happens;
    the run's Applications and namespaces are removed from the cluster last."""
    logs = workdir / "logs"
    async with contextlib.AsyncExitStack() as stack:
        temporal = DevServer(port=free_port(), db_file=workdir / "temporal.db", log_file=logs / "temporal.log")
        await temporal.start()
        stack.push_async_callback(_stop_if_running, temporal)
        client = await temporal.client()

        gitops = workdir / "gitops.git"
        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(gitops)], check=True)
        placement = ArgoPlacement.unique()
        stack.push_async_callback(_remove_from_cluster, cluster, placement)
        await asyncio.gather(
            *(cluster.create_namespace(placement.namespace_of(env, region), region=region) for env, region in REGIONS)
        )
        _, prometheus_url = await _measured(stack, cluster, workdir / "prometheus")
        own_region_traffic, own_region_prometheus_url = await _measured(
            stack, cluster, workdir / f"prometheus-{OWN_METRICS_REGION}"
        )

        webhook_port, registry_port = free_port(), free_port()
        registry_host = f"127.0.0.1:{registry_port}"
        config_file = workdir / "rollwright.yaml"
        config = chaos_config(
            workdir=workdir,
            registry_host=registry_host,
            argocd_url=cluster.argocd_url,
            placement=placement,
            prometheus_url=prometheus_url,
            own_region_prometheus_url=own_region_prometheus_url,
            temporal_address=temporal.address,
            webhook_port=webhook_port,
        )
        config_file.write_text(yaml.safe_dump(config, sort_keys=False))

        registry_token = secrets.token_urlsafe(16)
        env = {
            **os.environ,
            ARGOCD_TOKEN_ENV: cluster.argocd_token,
            REGISTRY_TOKEN_ENV: registry_token,
            PASSPHRASE_ENV: "rollwright-chaos-passphrase",
            "ROLLWRIGHT_LOG_LEVEL": "INFO",
        }
        webhook_url = f"http://127.0.0.1:{webhook_port}"
        await stack.enter_async_context(
            managed_process(
                "webhook receiver",
                [sys.executable, str(ROOT / "starter.py"), "--config", str(config_file), "webhook"],
                log_file=logs / "webhook.log",
                probe=http_probe(f"{webhook_url}/healthz"),
                env=env,
                cwd=ROOT,
            )
        )
        registry = await stack.enter_async_context(
            run_registry(
                workdir / "registry",
                port=registry_port,
                notify_url=f"{webhook_url}/webhooks/distribution",
                notify_headers={"X-Rollwright-Token": registry_token},
            )
        )

        workers = [
            WorkerProcess(role, config_file=config_file, log_dir=logs, env=env)
            for role in (WorkerRole.LIGHT, WorkerRole.PULUMI, WorkerRole.ALL)
        ]
        for worker in workers:
            stack.push_async_callback(worker.stop)
        # At once: each start is mostly a Python interpreter importing the worker, seconds apiece on a loaded machine.
        async with asyncio.TaskGroup() as starting:
            for worker in workers:
                starting.create_task(worker.start())

        yield ChaosStack(
            workdir=workdir,
            config_file=config_file,
            temporal=temporal,
            client=client,
            registry=registry,
            cluster=cluster,
            placement=placement,
            own_region_traffic=own_region_traffic,
            workers=workers,
        )


async def _measured(
    stack: contextlib.AsyncExitStack, cluster: LocalCluster, workdir: Path
) -> tuple[RunningTraffic, str]:
    """Simulated users of every Rollout in the cluster and a Prometheus scraping them; its URL."""
    traffic = await stack.enter_async_context(
        run_traffic(cluster.kube_url, cluster.kube_token, ca_file=str(cluster.ca_file))
    )
    prometheus = await stack.enter_async_context(run_prometheus(workdir, [traffic.address]))
    return traffic, prometheus.url


async def _remove_from_cluster(cluster: LocalCluster, placement: ArgoPlacement) -> None:
    """The run's Applications (their objects go with the namespaces) and namespaces."""
    await cluster.delete_applications(
        [placement.app_name(service, env, region) for service in SERVICES for env, region in REGIONS]
    )
    for env, region in REGIONS:
        await cluster.delete_namespace(placement.namespace_of(env, region))


async def _stop_if_running(server: DevServer) -> None:
    if server.running:
        await server.stop()
