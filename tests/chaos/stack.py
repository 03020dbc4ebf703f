"""The whole system for a chaos run, as production runs it, with the real parts only: the Temporal dev server on a
database file, the registry notifying Rollwright's webhook receiver, the Argo CD stand-in, real Pulumi (file
backend) and git (a bare remote), and three workers as separate processes sharing one config file.

Two services, each with staging (one region) and prod (two waves), short canary pauses and bakes: a rollout of
one version takes about a minute.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from temporalio.client import Client

from argocd_standin.process import RunningStandin, run_standin
from devstack.dev_server import DevServer
from devstack.ports import free_port
from devstack.process import http_probe, managed_process
from devstack.registry import RunningRegistry, run_registry
from tests.chaos.workers import ROOT, WorkerProcess, WorkerRole

SERVICES = ("cart-api", "search-api")
TAGS = ("v1.0.0", "v1.1.0")
STAGING_WAVES = [["local-a"]]
PROD_WAVES = [["us-east-1"], ["eu-west-1", "ap-south-1"]]
REGIONS = [("staging", r) for wave in STAGING_WAVES for r in wave] + [("prod", r) for wave in PROD_WAVES for r in wave]
TASK_QUEUE = "rollwright-chaos"
# The stand-in runs the canary's simulated pauses this many times faster (10 s pauses last 1 s).
STANDIN_SPEED = 10.0

ARGOCD_TOKEN_ENV = "ROLLWRIGHT_CHAOS_ARGOCD_TOKEN"
REGISTRY_TOKEN_ENV = "ROLLWRIGHT_CHAOS_REGISTRY_TOKEN"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"


def repository(service: str) -> str:
    return f"shop/{service}"


def chaos_config(
    *, workdir: Path, registry_host: str, argocd_url: str, temporal_address: str, webhook_port: int
) -> dict[str, Any]:
    def service(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "image": f"{registry_host}/{repository(name)}",
            "tags": r"^v\d+\.\d+\.\d+$",
            "pulumi": {"program": "rollwright.stacks.web_service:program", "config": {"replicas": 2}},
            "canary": {
                "steps": [{"weight": 25, "pause": "10s"}, {"weight": 50, "pause": "10s"}],
                "progress_deadline": "2m",
            },
            "environments": [
                {"name": "staging", "waves": STAGING_WAVES},
                {"name": "prod", "waves": PROD_WAVES, "bake": "3s", "config": {"replicas": 3}},
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
        "argocd": {"server": argocd_url, "token": {"env": ARGOCD_TOKEN_ENV}, "timeout": "5s", "poll_interval": "500ms"},
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
    }


@dataclass(frozen=True)
class ChaosStack:
    workdir: Path
    config_file: Path
    temporal: DevServer
    client: Client
    registry: RunningRegistry
    standin: RunningStandin
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
async def start_chaos_stack(workdir: Path) -> AsyncIterator[ChaosStack]:
    """Start every part (Temporal first, workers last) and stop them all in reverse, whatever happens."""
    logs = workdir / "logs"
    async with contextlib.AsyncExitStack() as stack:
        temporal = DevServer(port=free_port(), db_file=workdir / "temporal.db", log_file=logs / "temporal.log")
        await temporal.start()
        stack.push_async_callback(_stop_if_running, temporal)
        client = await temporal.client()

        gitops = workdir / "gitops.git"
        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(gitops)], check=True)
        argocd_token = secrets.token_urlsafe(16)
        standin = await stack.enter_async_context(
            run_standin(repo=gitops, workdir=workdir, token=argocd_token, speed=STANDIN_SPEED)
        )

        webhook_port, registry_port = free_port(), free_port()
        registry_host = f"127.0.0.1:{registry_port}"
        config_file = workdir / "rollwright.yaml"
        config = chaos_config(
            workdir=workdir,
            registry_host=registry_host,
            argocd_url=standin.url,
            temporal_address=temporal.address,
            webhook_port=webhook_port,
        )
        config_file.write_text(yaml.safe_dump(config, sort_keys=False))

        registry_token = secrets.token_urlsafe(16)
        env = {
            **os.environ,
            ARGOCD_TOKEN_ENV: argocd_token,
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
            await worker.start()

        yield ChaosStack(
            workdir=workdir,
            config_file=config_file,
            temporal=temporal,
            client=client,
            registry=registry,
            standin=standin,
            workers=workers,
        )


async def _stop_if_running(server: DevServer) -> None:
    if server.running:
        await server.stop()
