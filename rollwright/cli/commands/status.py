"""`rollwright status [SERVICE]`: what runs where, in which phase and canary step, since when."""

from __future__ import annotations

import argparse

from pydantic import BaseModel

from rollwright.cli.context import Context
from rollwright.cli.deployments import deployment_status, pipeline_status
from rollwright.cli.errors import OperationFailed
from rollwright.cli.render import ago, short_digest, table
from rollwright.domain.deployment import DeploymentStatus, PipelineStatus


class ServiceStatus(BaseModel):
    service: str
    pipeline: PipelineStatus | None = None
    deployment: DeploymentStatus | None = None
    error: str | None = None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("status", parents=[common], help="show what is deploying where")
    parser.add_argument("service", nargs="?", help="one service (default: every configured service)")
    parser.set_defaults(func=run)


def _deployment_lines(status: DeploymentStatus, workflow_id: str) -> list[str]:
    phase = status.phase.value + (" (paused)" if status.paused and status.phase.value != "paused" else "")
    where = status.current_environment or "-"
    if status.current_wave is not None:
        where += f" wave {status.current_wave}"
    lines = [
        f"  deploying {status.tag} ({short_digest(status.digest)}) in {workflow_id}",
        f"  phase: {phase}, at {where}",
    ]
    if status.awaiting_approval:
        lines.append(f"  waiting for approval to enter {status.awaiting_approval}")
    if status.halted:
        lines.append(f"  halted: {status.halted} (abort rolls back, resume goes on)")
    if status.watching_until is not None:
        lines.append(f"  watching until {status.watching_until:%Y-%m-%d %H:%M:%S} UTC")
    if status.failure_reason:
        lines.append(f"  failure: {status.failure_reason}")
    failed = [check for check in status.checks if check.failed]
    if failed:
        lines += [f"  check failed: {check.environment}: {check.detail}" for check in failed]
    if status.regions:
        rows = [
            [
                region.environment,
                region.region,
                region.phase.value,
                "-" if region.canary_step is None else str(region.canary_step),
                short_digest(region.digest),
                ago(region.started_at),
            ]
            for region in status.regions
        ]
        body = table(["ENVIRONMENT", "REGION", "PHASE", "STEP", "DIGEST", "SINCE"], rows)
        lines += ["  " + line for line in body.splitlines()]
    if status.audit:
        last = status.audit[-1]
        lines.append(f"  last control: {last.action} by {last.actor} ({last.reason}) {ago(last.at)}")
    return lines


def _human(item: ServiceStatus) -> str:
    lines = [item.service]
    if item.error:
        return f"{item.service}\n  error: {item.error}"
    pipeline = item.pipeline
    if pipeline is None:
        return f"{item.service}\n  no pipeline yet: nothing has been pushed"
    lines.append(f"  live: {pipeline.live_tag or '-'} ({short_digest(pipeline.live_digest)})")
    if item.deployment is not None and pipeline.current_workflow_id:
        lines += _deployment_lines(item.deployment, pipeline.current_workflow_id)
    else:
        lines.append("  idle: no deployment running")
    if pipeline.next_up is not None:
        lines.append(f"  next: {pipeline.next_up.tag}")
    if pipeline.queue:
        lines.append(f"  queued: {', '.join(version.tag for version in pipeline.queue)}")
    if pipeline.recent:
        last = pipeline.recent[-1]
        outcome = last.outcome.value if last.outcome else "running"
        lines.append(f"  last deployment: {last.tag} {outcome} ({last.workflow_id})")
    for reason in pipeline.ignored[-3:]:
        lines.append(f"  ignored: {reason}")
    return "\n".join(lines)


async def _one(ctx: Context, service: str) -> ServiceStatus:
    client = await ctx.client()
    try:
        pipeline = await pipeline_status(client, service)
        deployment = None
        if pipeline is not None and pipeline.current_workflow_id is not None:
            deployment = await deployment_status(client, pipeline.current_workflow_id)
    except OperationFailed as exc:
        return ServiceStatus(service=service, error=str(exc))
    return ServiceStatus(service=service, pipeline=pipeline, deployment=deployment)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    names = [ctx.service(args.service).name] if args.service else [service.name for service in ctx.config.services]
    statuses = [await _one(ctx, name) for name in names]
    ctx.emit(statuses, "\n\n".join(_human(item) for item in statuses))
    failed = [item for item in statuses if item.error]
    if failed:
        raise OperationFailed(f"could not read the status of {', '.join(item.service for item in failed)}")
    return 0
