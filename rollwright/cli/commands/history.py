"""`rollwright history SERVICE`: past deployments, from Temporal's visibility store, and beside them the deliberate
acts on the service's lanes (rollback, pin, hold, release, promote: who, why, when), from the version store."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from rollwright.cli.context import RPC_TIMEOUT, Context, one_line
from rollwright.cli.errors import OperationFailed
from rollwright.cli.render import ago, short_digest, table
from rollwright.config.secrets import version_store_url
from rollwright.domain import search_attributes as sa
from rollwright.domain.deployment import DEPLOYMENT_WORKFLOW
from rollwright.versionstore import LaneActionRecord, VersionStore, VersionStoreError

# A reason is free text: the table shows its start, `--json` all of it.
_REASON_WIDTH = 60


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
    lane_actions: list[LaneActionRecord] = Field(default_factory=list, description="newest first")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "history", parents=[common], help="list past deployments of a service and the deliberate acts on its lanes"
    )
    parser.add_argument("service")
    parser.add_argument("--limit", type=int, default=20, help="how many of each, newest first (default 20)")
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
    history.lane_actions = await _lane_actions(ctx, service, max(1, args.limit))
    if not history.deployments and not history.lane_actions:
        ctx.emit(history, f"no deployments of {service} yet")
        return 0
    ctx.emit(history, "\n\n".join(_render(history)))
    return 0


def _read_lane_actions(url: str, service: str, limit: int) -> list[LaneActionRecord]:
    with VersionStore(url) as store:
        return store.lane_actions(service, limit=limit)


async def _lane_actions(ctx: Context, service: str, limit: int) -> list[LaneActionRecord]:
    url = version_store_url(ctx.config.version_store)
    try:
        return await asyncio.to_thread(_read_lane_actions, url, service, limit)
    except VersionStoreError as exc:
        raise OperationFailed(
            f"cannot read the lane actions of {service} from the version store: {one_line(exc)}"
        ) from None


def _render(history: History) -> list[str]:
    sections = []
    if history.deployments:
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
        sections.append(table(["TAG", "DIGEST", "OUTCOME", "STARTED", "FINISHED", "WORKFLOW"], rows))
    else:
        sections.append(f"no deployments of {history.service} yet")
    if history.lane_actions:
        rows = [
            [
                f"{act.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z",
                act.environment,
                act.action.value,
                act.actor if act.verified else f"{act.actor} (unverified)",
                one_line(act.reason, _REASON_WIDTH),
                _version(act),
                act.workflow_id,
            ]
            for act in history.lane_actions
        ]
        sections.append(
            "lane actions:\n" + table(["AT", "ENV", "ACTION", "ACTOR", "REASON", "VERSION", "WORKFLOW"], rows)
        )
    return sections


def _version(act: LaneActionRecord) -> str:
    if act.tag and act.digest:
        return f"{act.tag} ({short_digest(act.digest)})"
    return act.tag or short_digest(act.digest)
