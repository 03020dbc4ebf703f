"""`rollwright pause|resume|abort|approve SERVICE --reason TEXT [--environment ENV]`.

Each is a Temporal Update on a deployment one of the service's lanes runs: ENV's lane, or without it the one lane
that runs a deployment. The workflow's validator accepts or rejects it before anything is written to history, and
the CLI prints the workflow's own answer.
"""

from __future__ import annotations

import argparse

from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from rollwright.cli.context import RPC_TIMEOUT, Context, one_line
from rollwright.cli.deployments import current_deployment
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.domain.deployment import ControlAnswer, ControlName, ControlRequest

_HELP = {
    ControlName.PAUSE: "hold the deployment at its next safe point (nothing rolls back)",
    ControlName.RESUME: "continue a paused deployment",
    ControlName.ABORT: "stop the deployment and roll back every region it changed",
    ControlName.APPROVE: "approve the environment the deployment is waiting for",
}


class ControlResult(BaseModel):
    service: str
    environment: str
    workflow_id: str
    control: ControlName
    message: str


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    for control, text in _HELP.items():
        parser = sub.add_parser(control.value, parents=[common], help=text, description=text)
        parser.add_argument("service")
        parser.add_argument("--reason", required=True, help="why (recorded in the deployment's audit trail)")
        parser.add_argument(
            "--environment",
            help="the lane whose deployment this is for (needed when deployments run in several lanes)",
        )
        parser.set_defaults(func=run, control=control)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    control: ControlName = args.control
    service = ctx.service(args.service).name
    if not args.reason.strip():
        raise UsageError("--reason must say why")
    environments = [env.name for env in ctx.config.plan_for(service).environments]
    if args.environment is not None and args.environment not in environments:
        raise UsageError(f"{service} has no environment {args.environment!r} (configured: {', '.join(environments)})")
    client = await ctx.client()
    environment, workflow_id = await current_deployment(client, service, environments, args.environment)
    request = ControlRequest(
        actor=ctx.actor,
        reason=args.reason,
        environment=args.environment if control is ControlName.APPROVE else None,
    )
    try:
        answer: ControlAnswer = await client.get_workflow_handle(workflow_id).execute_update(
            control.value, request, result_type=ControlAnswer, rpc_timeout=RPC_TIMEOUT
        )
    except WorkflowUpdateFailedError as exc:
        reason = exc.cause.message if hasattr(exc.cause, "message") else str(exc.cause or exc)
        raise OperationFailed(f"{control.value} rejected by {workflow_id}: {one_line(reason)}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise OperationFailed(f"{workflow_id} has finished; nothing to {control.value}") from None
        raise OperationFailed(f"{control.value} not delivered to {workflow_id}: {one_line(exc.message)}") from None
    result = ControlResult(
        service=service, environment=environment, workflow_id=workflow_id, control=control, message=answer.message
    )
    ctx.emit(result, f"{workflow_id}: {answer.message}")
    return 0
