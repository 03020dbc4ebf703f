"""One worker process of the memory bench (bench/memory.py starts it): one variant's workflows and its instant
activity doubles, on a main task queue and a Pulumi one, with the SDK's default worker settings for both variants.

    .venv/bin/python -m bench.memory_worker deployment|bare ADDRESS TASK_QUEUE PULUMI_TASK_QUEUE

Prints `ready` once both workers poll, and runs until SIGTERM. Each variant imports only what it needs, so the
process's peak RSS is that variant's whole footprint: the modules its workflows import included.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

DEPLOYMENT = "deployment"
BARE = "bare"
VARIANTS = (DEPLOYMENT, BARE)
READY = "ready"


def _deployment_parts() -> tuple[type, list[Callable[..., Any]], list[Callable[..., Any]]]:
    from bench.memory_doubles import instant_doubles
    from workflows.deployment import DeploymentWorkflow

    doubles = instant_doubles()
    return DeploymentWorkflow, doubles.light(), doubles.heavy()


def _bare_parts() -> tuple[type, list[Callable[..., Any]], list[Callable[..., Any]]]:
    from bench.bare import BareShapeWorkflow, bare_step

    return BareShapeWorkflow, [bare_step], [bare_step]


async def serve(variant: str, address: str, task_queue: str, pulumi_task_queue: str) -> None:
    workflow, light, heavy = _deployment_parts() if variant == DEPLOYMENT else _bare_parts()
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    main = Worker(client, task_queue=task_queue, workflows=[workflow], activities=light)
    pulumi = Worker(client, task_queue=pulumi_task_queue, activities=heavy)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with main, pulumi:
        print(READY, flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.memory_worker", description=__doc__)
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("address")
    parser.add_argument("task_queue")
    parser.add_argument("pulumi_task_queue")
    args = parser.parse_args(argv)
    # The SDK's warnings (a failed or timed-out workflow task) reach the bench's output.
    logging.basicConfig(level=logging.WARNING, format="  worker: %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args.variant, args.address, args.task_queue, args.pulumi_task_queue))


if __name__ == "__main__":
    main()
