"""pause, resume, abort and approve: Temporal Updates on the deployment one of a service's lanes runs.

The workflow's validator accepts or rejects each before anything is written to history; its answer is returned.
"""

from __future__ import annotations

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from rollwright.config.models import RollwrightConfig
from rollwright.control.acting import Acting
from rollwright.control.errors import Conflict, Invalid, Unavailable, one_line
from rollwright.control.lanes import RPC_TIMEOUT, lane_status, lanes, update_refused
from rollwright.control.models import ControlResult, DeploymentOrder
from rollwright.control.scope import environment_of, plan_of
from rollwright.domain.deployment import STATUS_QUERY, ControlAnswer, ControlName, ControlRequest, DeploymentStatus


async def deployment_status(client: Client, workflow_id: str) -> DeploymentStatus:
    try:
        status: DeploymentStatus = await client.get_workflow_handle(workflow_id).query(
            STATUS_QUERY, result_type=DeploymentStatus, rpc_timeout=RPC_TIMEOUT
        )
    except RPCError as exc:
        raise Unavailable(f"cannot read {workflow_id}: {one_line(exc.message)}") from None
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        raise Unavailable(f"{workflow_id} did not answer its status query: {one_line(exc)}") from None
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
        raise Conflict(f"no deployment of {service} is running" + (f" in {environment}" if environment else ""))
    if len(running) > 1:
        raise Invalid(f"deployments run in {_and([where for where, _ in running])}; say --environment")
    return running[0]


async def control_deployment(
    client: Client, config: RollwrightConfig, acting: Acting, control: ControlName, order: DeploymentOrder
) -> ControlResult:
    plan = plan_of(config, order.service)
    if order.environment is not None:
        environment_of(plan, order.environment)
    if order.break_glass and control is not ControlName.APPROVE:
        raise Invalid(f"break_glass is for approve, not {control.value}")
    environments = [env.name for env in plan.environments]
    environment, workflow_id = await current_deployment(client, plan.service, environments, order.environment)
    acting.authorize(control.value, environment)
    approving = control is ControlName.APPROVE
    request = ControlRequest(
        actor=acting.actor,
        reason=order.reason,
        environment=order.environment if approving else None,
        break_glass=order.break_glass,
    )
    request = acting.attach(control.value, workflow_id, request)
    try:
        answer: ControlAnswer = await client.get_workflow_handle(workflow_id).execute_update(
            control.value, request, result_type=ControlAnswer, rpc_timeout=RPC_TIMEOUT
        )
    except (WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as exc:
        gone = f"{workflow_id} has finished; nothing to {control.value}"
        raise update_refused(exc, control.value, workflow_id, not_found=gone) from None
    return ControlResult(
        service=plan.service, environment=environment, workflow_id=workflow_id, control=control, message=answer.message
    )
