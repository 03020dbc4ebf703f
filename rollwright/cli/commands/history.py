"""`rollwright history SERVICE`: past deployments, from Temporal's visibility store."""

from __future__ import annotations

import argparse
from datetime import datetime

from pydantic import BaseModel, Field

from rollwright.cli.context import RPC_TIMEOUT, Context, one_line
from rollwright.cli.errors import OperationFailed
from rollwright.cli.render import ago, short_digest, table
from rollwright.domain import search_attributes as sa
from rollwright.domain.deployment import DEPLOYMENT_WORKFLOW


class PastDeployment(BaseModel):
    workflow_id: str
    run_id: str
    status: str
    tag: str | None = None
    digest: str | None = None
    outcome: str | None = None
    phase: str | None = None
    started_at: datetime
    closed_at: datetime | None = None


class History(BaseModel):
    service: str
    deployments: list[PastDeployment] = Field(default_factory=list)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("history", parents=[common], help="list past deployments of a service")
    parser.add_argument("service")
    parser.add_argument("--limit", type=int, default=20, help="how many, newest first (default 20)")
    parser.set_defaults(func=run)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service).name
    client = await ctx.client()
    # Service names are validated against the config (and its name pattern): safe inside the query.
    query = f"{sa.SERVICE.name} = '{service}' AND WorkflowType = '{DEPLOYMENT_WORKFLOW}'"
    history = History(service=service)
    try:
        async for execution in client.list_workflows(query, limit=max(1, args.limit), rpc_timeout=RPC_TIMEOUT):
            attributes = execution.typed_search_attributes
            history.deployments.append(
                PastDeployment(
                    workflow_id=execution.id,
                    run_id=execution.run_id,
                    status=execution.status.name.lower() if execution.status else "unknown",
                    tag=attributes.get(sa.TAG),
                    digest=attributes.get(sa.DIGEST),
                    outcome=attributes.get(sa.OUTCOME) or None,
                    phase=attributes.get(sa.PHASE),
                    started_at=execution.start_time,
                    closed_at=execution.close_time,
                )
            )
    except Exception as exc:  # RPC failures, or a server without Rollwright's search attributes
        raise OperationFailed(f"cannot list deployments of {service}: {one_line(exc)}") from None
    if not history.deployments:
        ctx.emit(history, f"no deployments of {service} yet")
        return 0
    rows = [
        [
            item.tag or "-",
            short_digest(item.digest),
            item.outcome or item.status,
            ago(item.started_at),
            ago(item.closed_at),
            item.workflow_id,
        ]
        for item in history.deployments
    ]
    ctx.emit(history, table(["TAG", "DIGEST", "OUTCOME", "STARTED", "FINISHED", "WORKFLOW"], rows))
    return 0
