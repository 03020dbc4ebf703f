"""Rollwright's worker: `python worker.py --config FILE [--pulumi | --all]`.

Without a flag it runs the workflows and the light (HTTP, git, database) activities on
`temporal.task_queue`; `--pulumi` runs only the Pulumi activities on `temporal.pulumi_task_queue`, at most
`pulumi.max_concurrent_operations` at a time; `--all` runs both in one process (demo, laptop).
Workers are stateless: start more of either kind to scale out. SIGTERM/SIGINT shut down gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
from collections.abc import Callable, Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from rollwright.config import ConfigError, RollwrightConfig, load_config
from rollwright.connections.temporal import TemporalSettingsError, connect_temporal, exit_without_finalizing
from rollwright.domain.attestation import install_control_key
from rollwright.observability.logging import configure_logging, get_logger
from rollwright.provisioning.cli_binary import PulumiCliMissingError
from rollwright.secrets import SecretUnavailableError, read_secret

log = get_logger("rollwright.worker")

# Imported only when a worker of that kind starts: their clients pull in HTTP, git, SQL and Pulumi code.
LIGHT_ACTIVITY_MODULES = (
    "activities.plans",
    "activities.publish",
    "activities.versions",
    "activities.gitops",
    "activities.handoff",
    "activities.notify",
    "activities.verify",
    "activities.lanes",
    "activities.freezes",
)
PULUMI_ACTIVITY_MODULES = ("activities.provision",)


class Role(StrEnum):
    LIGHT = "light"
    PULUMI = "pulumi"
    ALL = "all"


def load_activities(modules: Sequence[str], config: RollwrightConfig) -> list[Callable[..., Any]]:
    activities: list[Callable[..., Any]] = []
    for name in modules:
        module = importlib.import_module(name)
        activities.extend(module.create_activities(config))
    return activities


def build_workers(client: Client, config: RollwrightConfig, role: Role, shutdown_grace: timedelta) -> list[Worker]:
    workers = []
    if role in (Role.LIGHT, Role.ALL):
        from workflows.deployment import DeploymentWorkflow
        from workflows.lane import LaneWorkflow
        from workflows.pipeline import ServicePipelineWorkflow
        from workflows.preview import PreviewWorkflow

        workers.append(
            Worker(
                client,
                task_queue=config.temporal.task_queue,
                workflows=[DeploymentWorkflow, LaneWorkflow, ServicePipelineWorkflow, PreviewWorkflow],
                activities=load_activities(LIGHT_ACTIVITY_MODULES, config),
                graceful_shutdown_timeout=shutdown_grace,
            )
        )
    if role in (Role.PULUMI, Role.ALL):
        # Each Pulumi run is its own heavy process: bound how many this worker runs at once.
        workers.append(
            Worker(
                client,
                task_queue=config.temporal.pulumi_task_queue,
                activities=load_activities(PULUMI_ACTIVITY_MODULES, config),
                max_concurrent_activities=config.pulumi.max_concurrent_operations,
                graceful_shutdown_timeout=shutdown_grace,
            )
        )
    return workers


def install_key(config: RollwrightConfig) -> None:
    """The key the workflows' validators check the control API's attestations with; without one, every control
    counts as unverified. SecretUnavailableError when it is configured but cannot be read."""
    ref = config.api.control_key
    install_control_key(read_secret(ref).encode() if ref is not None else None)


async def serve(config: RollwrightConfig, role: Role, shutdown_grace: timedelta) -> None:
    """Run the workers until SIGTERM/SIGINT, then let running activities finish (up to the grace period)."""
    install_key(config)
    client = await connect_temporal(config.temporal)
    workers = build_workers(client, config, role, shutdown_grace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runs = [asyncio.create_task(worker.run()) for worker in workers]
    queues = [worker.task_queue for worker in workers]
    log.info("worker started", role=role.value, task_queues=queues, namespace=client.namespace)
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopped, *runs], return_when=asyncio.FIRST_COMPLETED)
    log.info("worker stopping", reason="signal" if stopped in done else "a worker ended")
    await asyncio.gather(*(worker.shutdown() for worker in workers))
    stopped.cancel()
    for run in runs:
        failure = run.exception() if run.done() else None
        if failure is not None:
            raise failure
    log.info("worker stopped", role=role.value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="worker.py", description="Run Rollwright's Temporal workers.")
    parser.add_argument("--config", required=True, help="path of the Rollwright config file")
    role = parser.add_mutually_exclusive_group()
    role.add_argument("--pulumi", action="store_true", help="run only the Pulumi activities on their task queue")
    role.add_argument("--all", action="store_true", help="run workflows, light and Pulumi activities together")
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=60.0,
        help="seconds running activities get to finish after SIGTERM/SIGINT (default 60)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(mode="json")
    role = Role.ALL if args.all else Role.PULUMI if args.pulumi else Role.LIGHT
    try:
        config = load_config(args.config)
        asyncio.run(serve(config, role, timedelta(seconds=args.shutdown_grace)))
    except (ConfigError, SecretUnavailableError, TemporalSettingsError, PulumiCliMissingError) as exc:
        log.error("worker cannot start", error=str(exc))
        return 2
    return 0


if __name__ == "__main__":
    exit_without_finalizing(main())
