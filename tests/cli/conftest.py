"""A service whose lanes and deployments run for real on the dev server (activities doubled), a config
file naming it, and a way to run `rollwright` in-process and capture what it prints."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.freezes import FreezeActivities
from activities.plans import ServicePlanActivities
from rollwright.cli.main import main
from rollwright.config.loader import load_config
from rollwright.domain.deployment import pipeline_workflow_id
from rollwright.versionstore import VersionStore
from tests.cli import doubles
from workflows.deployment import DeploymentWorkflow
from workflows.lane import LaneWorkflow
from workflows.pipeline import ServicePipelineWorkflow


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class CliStack:
    service: str
    config_path: Path
    version_store_url: str
    env: WorkflowEnvironment

    async def run(self, *argv: str) -> Result:
        """`rollwright --config <file> --actor alice ARGV…`, in a thread (the CLI runs its own event loop)."""
        out, err = io.StringIO(), io.StringIO()
        full = ["--config", str(self.config_path), "--actor", "alice", *argv]
        code = await asyncio.to_thread(main, full, out=out, err=err)
        return Result(code, out.getvalue(), err.getvalue())

    async def status(self) -> dict[str, Any]:
        """`status --json`, as {environment: lane view}."""
        result = await self.run("status", self.service, "--json")
        assert result.code == 0, result.err
        [item] = result.json()
        return {view["environment"]: view for view in item["lanes"]}

    async def wait_for(self, predicate: Any, what: str) -> dict[str, Any]:
        async with asyncio.timeout(30):
            while True:
                status = await self.status()
                if predicate(status):
                    return status
                await asyncio.sleep(0.2)
        raise AssertionError(what)  # pragma: no cover - the timeout raises first


def write_config(
    path: Path,
    service: str,
    task_queue: str,
    address: str,
    store_url: str,
    prod: dict[str, Any] | None = None,
    staging: dict[str, Any] | None = None,
) -> None:
    config = {
        "services": [
            {
                "name": service,
                "image": f"registry.local:5000/shop/{service}",
                "tags": r"^v\d+\.\d+\.\d+$",
                "environments": [
                    {"name": "staging", "waves": [["local-a"]], **(staging or {})},
                    {
                        "name": "prod",
                        "approval": "required",
                        "approval_timeout": "1h",
                        "waves": [["us-east"]],
                        **(prod or {}),
                    },
                ],
            }
        ],
        "gitops": {"repo": "file:///nonexistent/gitops.git"},
        "temporal": {"address": address, "task_queue": task_queue, "pulumi_task_queue": f"{task_queue}-pulumi"},
        "version_store": {"url": store_url},
    }
    path.write_text(yaml.safe_dump(config))


@pytest.fixture
async def cli(temporal_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[CliStack]:
    async with cli_stack(temporal_env, tmp_path) as stack:
        yield stack


@contextlib.asynccontextmanager
async def cli_stack(
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
    prod: dict[str, Any] | None = None,
    staging: dict[str, Any] | None = None,
) -> AsyncIterator[CliStack]:
    """`prod`, `staging`: keys merged into that environment's config."""
    suffix = uuid.uuid4().hex[:8]
    service = f"shop-{suffix}"
    task_queue = f"cli-{suffix}"
    client = temporal_env.client
    store_url = f"sqlite:///{tmp_path / 'versions.db'}"
    config_path = tmp_path / "rollwright.yaml"
    write_config(config_path, service, task_queue, client.service_client.config.target_host, store_url, prod, staging)
    store = VersionStore(store_url)
    async with (
        Worker(
            client,
            task_queue=task_queue,
            workflows=[LaneWorkflow, ServicePipelineWorkflow, DeploymentWorkflow],
            # The real plan activity, reading the same config file the CLI reads: the workers own the plan; and the
            # real freeze check, reading the store `rollwright freeze` writes.
            activities=[
                *doubles.LIGHT,
                ServicePlanActivities(load_config(config_path)).read_service_plan,
                FreezeActivities(store).check_freezes,
            ],
        ),
        Worker(client, task_queue=f"{task_queue}-pulumi", activities=doubles.HEAVY),
    ):
        yield CliStack(service, config_path, store_url, temporal_env)
        # Deployments outlive their lane (parent close policy ABANDON): stop all before the workers go.
        running = client.list_workflows(f"RollwrightService = '{service}' AND ExecutionStatus = 'Running'")
        async for execution in running:
            with contextlib.suppress(RPCError):
                await client.get_workflow_handle(execution.id).terminate("test finished")
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(pipeline_workflow_id(service)).terminate("test finished")
    store.close()
