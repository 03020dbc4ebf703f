"""`rollwright pause|resume|abort|approve SERVICE --reason TEXT [--environment ENV]`.

Each is a Temporal Update on a deployment one of the service's lanes runs: ENV's lane, or without it the one lane
that runs a deployment (rollwright.control.deployments). The workflow's validator accepts or rejects it before
anything is written to history, and the CLI prints the workflow's own answer.
"""

from __future__ import annotations

import argparse

from rollwright.cli.context import Context
from rollwright.cli.errors import UsageError
from rollwright.cli.operations import operations
from rollwright.control.models import DeploymentOrder
from rollwright.domain.deployment import ControlName

_HELP = {
    ControlName.PAUSE: "hold the deployment at its next safe point (nothing rolls back)",
    ControlName.RESUME: "continue a paused deployment",
    ControlName.ABORT: "stop the deployment and roll back every region it changed",
    ControlName.APPROVE: "approve the environment the deployment is waiting for",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    for control, text in _HELP.items():
        parser = sub.add_parser(control.value, parents=[common], help=text, description=text)
        parser.add_argument("service")
        parser.add_argument("--reason", required=True, help="why (recorded in the deployment's audit trail)")
        parser.add_argument(
            "--environment",
            help="the lane whose deployment this is for (needed when deployments run in several lanes)",
        )
        if control is ControlName.APPROVE:
            parser.add_argument(
                "--break-glass",
                action="store_true",
                help="through a closed deploy window (members of the environment's break_glass_groups; audited)",
            )
        parser.set_defaults(func=run, control=control)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    control: ControlName = args.control
    service = ctx.service(args.service).name
    if not args.reason.strip():
        raise UsageError("--reason must say why")
    order = DeploymentOrder(
        service=service,
        reason=args.reason,
        environment=args.environment,
        break_glass=getattr(args, "break_glass", False),
    )
    result = await operations(ctx).control(control, order)
    ctx.emit(result, f"{result.workflow_id}: {result.message}")
    return 0
