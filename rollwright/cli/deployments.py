"""Finding a service's pipeline and its current deployment in Temporal, and asking them for status."""

from __future__ import annotations

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from rollwright.cli.context import RPC_TIMEOUT, one_line
from rollwright.cli.errors import OperationFailed
from rollwright.domain.deployment import STATUS_QUERY, DeploymentStatus, PipelineStatus, pipeline_workflow_id


async def pipeline_status(client: Client, service: str) -> PipelineStatus | None:
    """The pipeline's status, or None when nothing was ever pushed for the service."""
    workflow_id = pipeline_workflow_id(service)
    try:
        status: PipelineStatus = await client.get_workflow_handle(workflow_id).query(
            STATUS_QUERY, result_type=PipelineStatus, rpc_timeout=RPC_TIMEOUT
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise OperationFailed(f"cannot read {workflow_id}: {one_line(exc.message)}") from None
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        raise OperationFailed(f"{workflow_id} did not answer its status query: {one_line(exc)}") from None
    return status


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


async def current_deployment(client: Client, service: str) -> str:
    """The workflow id of the deployment the service's pipeline runs now."""
    pipeline = await pipeline_status(client, service)
    if pipeline is None or pipeline.current_workflow_id is None:
        raise OperationFailed(f"no deployment of {service} is running")
    return pipeline.current_workflow_id
