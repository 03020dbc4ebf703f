"""`rollwright preview SERVICE ENV TAG`: what Pulumi would change in each of the environment's regions.

Runs as a short workflow on the workers (PreviewWorkflow): the workers' plan, the digest the workers' registry
resolves now, `pulumi preview` on the Pulumi task queue with the same stack config and policy packs a deployment
would use. Nothing is changed and nothing is committed; no Pulumi backend or passphrase is needed here.
"""

from __future__ import annotations

import argparse
import uuid

from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from activities.contracts import ErrorType
from rollwright.cli.context import RPC_TIMEOUT, Context, one_line
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.domain.preview import PREVIEW_WORKFLOW, PreviewReport, PreviewRequest
from rollwright.domain.tags import valid_tag


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "preview", parents=[common], help="preview the cloud changes a version would make", description=__doc__
    )
    parser.add_argument("service")
    parser.add_argument("environment")
    parser.add_argument("tag")
    parser.set_defaults(func=run)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service)
    known = [env.name for env in service.environments]
    if args.environment not in known:
        raise UsageError(f"{service.name} has no environment {args.environment!r} (configured: {', '.join(known)})")
    if not valid_tag(args.tag):
        raise UsageError(f"{args.tag!r} is not a tag")
    client = await ctx.client()
    try:
        report = await client.execute_workflow(
            PREVIEW_WORKFLOW,
            PreviewRequest(service=service.name, environment=args.environment, tag=args.tag),
            id=f"preview-{service.name}-{args.environment}-{uuid.uuid4().hex[:8]}",
            task_queue=ctx.config.temporal.task_queue,
            result_type=PreviewReport,
            static_summary=f"preview {service.name} {args.tag} in {args.environment}",
            rpc_timeout=RPC_TIMEOUT,
        )
    except (WorkflowFailureError, RPCError) as exc:
        raise OperationFailed(
            f"preview failed: {one_line(exc.cause if isinstance(exc, WorkflowFailureError) else exc)}"
        ) from None
    if report.problem is not None:
        raise OperationFailed(report.problem)
    for region in report.regions:
        if region.error is None:
            continue
        what = "refused by policy" if region.error_type == ErrorType.GUARDRAIL_VIOLATION else "preview failed"
        raise OperationFailed(f"{region.target.key}: {what}: {one_line(region.error)}")
    digest = report.digest or ""
    human = "\n".join(f"{r.target.key}:\n{r.result.table}" for r in report.regions if r.result is not None)
    ctx.emit(report, f"preview of {service.name} {args.tag} ({digest[:19]}) in {args.environment}\n\n{human}".rstrip())
    return 0
