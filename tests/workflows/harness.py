"""Workers running the real workflows against activity doubles, plans to deploy, and history capture."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from rollwright.domain.deployment import (
    ControlRequest,
    DeploymentInput,
    DeploymentLimits,
    DeploymentResult,
    DeploymentStatus,
)
from rollwright.domain.plan import ApprovalDefault, ApprovalPlan, CanaryPlan, CanaryStep, EnvironmentPlan, ServicePlan
from rollwright.domain.source import SourceEvent
from tests.workflows.doubles import Doubles, digest_of
from workflows.deployment import DeploymentWorkflow
from workflows.lane import LaneWorkflow
from workflows.pipeline import ServicePipelineWorkflow

HISTORIES = Path(__file__).parent / "histories"
# `ROLLWRIGHT_RECORD_HISTORIES=1 pytest tests/workflows` rewrites the committed histories from fresh runs.
RECORD = os.environ.get("ROLLWRIGHT_RECORD_HISTORIES") == "1"
WORKFLOWS = [DeploymentWorkflow, ServicePipelineWorkflow, LaneWorkflow]

OLD = digest_of("v0.9.0")
NEW = digest_of("v1.0.0")

# Fast retries and heartbeats, so a cancel reaches a held activity within a second or two.
TEST_LIMITS = DeploymentLimits(
    retry_initial_interval=timedelta(milliseconds=100),
    retry_max_interval=timedelta(milliseconds=200),
    max_attempts=2,
    heartbeat_timeout=timedelta(seconds=2),
)


@dataclass(frozen=True)
class Queues:
    main: str
    pulumi: str


@contextlib.asynccontextmanager
async def running_workers(client: Client, doubles: Doubles) -> AsyncIterator[Queues]:
    """The workflows and light doubles on one task queue, the Pulumi double alone on its own."""
    queues = Queues(main=f"rw-{uuid.uuid4().hex[:8]}", pulumi=f"rw-pulumi-{uuid.uuid4().hex[:8]}")
    main = Worker(client, task_queue=queues.main, workflows=WORKFLOWS, activities=doubles.light())
    pulumi = Worker(client, task_queue=queues.pulumi, activities=doubles.heavy(), max_concurrent_activities=4)
    async with main, pulumi:
        yield queues


def plan(
    *environments: EnvironmentPlan, first_deploy_rollback: str = "remove", service: str = "checkout-api"
) -> ServicePlan:
    return ServicePlan.model_validate(
        {
            "service": service,
            "image": "registry.local:5000/shop/checkout-api",
            "pulumi_program": "rollwright.stacks.web_service:program",
            "canary": CanaryPlan(steps=[CanaryStep(weight=10), CanaryStep(weight=50)]),
            "environments": environments,
            "first_deploy_rollback": first_deploy_rollback,
        }
    )


def environment(
    name: str,
    waves: list[list[str]],
    *,
    bake: timedelta | None = None,
    approval: bool = False,
    timeout: timedelta = timedelta(hours=4),
    on_timeout: ApprovalDefault = ApprovalDefault.STOP,
) -> EnvironmentPlan:
    return EnvironmentPlan(
        name=name,
        waves=waves,
        bake=bake,
        approval=ApprovalPlan(required=approval, timeout=timeout, on_timeout=on_timeout),
    )


def deployment_input(service_plan: ServicePlan, queues: Queues, *, tag: str = "v1.0.0") -> DeploymentInput:
    return DeploymentInput(
        plan=service_plan,
        tag=tag,
        digest=digest_of(tag),
        source=SourceEvent(source="test", delivery_id=uuid.uuid4().hex),
        pulumi_task_queue=queues.pulumi,
        limits=TEST_LIMITS,
    )


async def check_replay(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Replay the run's history against today's code; with RECORD, keep it as a committed golden history."""
    history = await handle.fetch_history()
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
    if RECORD:
        HISTORIES.mkdir(exist_ok=True)
        compact = json.dumps(json.loads(history.to_json()), separators=(",", ":"))
        (HISTORIES / f"{name}.json").write_text(compact + "\n")


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 20.0, what: str = "condition") -> None:
    """Poll `check` until it holds; fail naming `what` otherwise."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def request(reason: str, actor: str = "alice") -> ControlRequest:
    return ControlRequest(actor=actor, reason=reason)


async def status(handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult]) -> DeploymentStatus:
    return await handle.query(DeploymentWorkflow.status)
