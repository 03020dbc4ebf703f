"""worker.py as an operator runs it: a real process polling both task queues, stopping cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import yaml
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.workflows.harness import eventually

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, address: str, **temporal: str) -> Path:
    config = {
        "services": [
            {
                "name": "checkout-api",
                "image": "127.0.0.1:5000/shop/checkout-api",
                "environments": [{"name": "staging", "waves": [["local-a"]]}],
            }
        ],
        "temporal": {"address": address, **temporal},
        "gitops": {"repo": str(tmp_path / "gitops.git")},
        "version_store": {"url": f"sqlite:///{tmp_path / 'versions.db'}"},
        "pulumi": {"backend_url": f"file://{tmp_path / 'state'}", "work_root": str(tmp_path / "work")},
    }
    path = tmp_path / "rollwright.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def pollers(client: Client, queue: str, kind: TaskQueueType.ValueType) -> int:
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind)
    )
    return len(response.pollers)


async def test_all_in_one_worker_polls_both_queues_and_stops_on_sigterm(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    client = temporal_env.client
    address = client.service_client.config.target_host
    config = write_config(tmp_path, address, task_queue="wq-main", pulumi_task_queue="wq-pulumi")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "worker.py"),
        "--config",
        str(config),
        "--all",
        "--shutdown-grace",
        "5",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:

        async def polling() -> bool:
            workflows = await pollers(client, "wq-main", TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
            light = await pollers(client, "wq-main", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
            heavy = await pollers(client, "wq-pulumi", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
            return workflows > 0 and light > 0 and heavy > 0

        await eventually(polling, within=30, what="the worker polling the main and Pulumi task queues")
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stderr = (await process.stderr.read()).decode() if process.stderr else ""
    assert code == 0, stderr
    assert '"event": "worker stopped"' in stderr


async def test_a_bad_config_names_the_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("services: []\ngitops: {repo: /nowhere}\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "worker.py"),
        "--config",
        str(config),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert "services" in stderr.decode()
