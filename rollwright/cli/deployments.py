"""Finding the deployment a service's lanes run now, and asking it for status."""

from __future__ import annotations

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError

from rollwright.cli.context import RPC_TIMEOUT, one_line
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.cli.lanes import lane_status, lanes
from rollwright.domain.deployment import STATUS_QUERY, DeploymentStatus


async def deployment_status(client: Client, workflow_id: str) -> DeploymentStatus:
    try:
        status: DeploymentStatus = await client.get_workflow_handle(workflow_id).query(
            STATUS_QUERY, result_type=DeploymentStatus, rpc_timeout=RPC_TIMEOUT
        )
    except RPCError as exc:
        raise OperationFailed(f"cannot read {workflow_id}: {one_line(exc.message)}") from None
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        raise OperationFailed(f"{workflow_id} did not answer its status query: {one_line(exc)}") from None
    return status


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


async def current_deployment(
    client: Client, service: str, environments: list[str], environment: str | None
) -> tuple[str, str]:
    """The environment and workflow id of the deployment a control is for: `environment`'s lane's, or the one
    lane's that runs a deployment."""
    found = (
        [await lane_status(client, service, environment)] if environment else await lanes(client, service, environments)
    )
    running = [
        (lane.environment, lane.status.current_workflow_id)
        for lane in found
        if lane.status is not None and lane.status.current_workflow_id is not None
    ]
    if not running:
        raise OperationFailed(f"no deployment of {service} is running" + (f" in {environment}" if environment else ""))
    if len(running) > 1:
        raise UsageError(f"deployments run in {_and([where for where, _ in running])}; say --environment")
    return running[0]
