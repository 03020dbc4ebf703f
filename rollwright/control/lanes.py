"""A service's lanes in Temporal: reading their status, sending them controls, starting one that never ran.

Every environment of a service is a lane (one LaneWorkflow, id from service and environment). A control that may
reach a lane before anything was ever pushed there (a pin, a promotion) goes as update-with-start: Temporal starts
the lane if none runs (id conflict policy USE_EXISTING, so never two) and delivers the update in the same call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from rollwright.control.acting import Acting
from rollwright.control.errors import Conflict, Unavailable, one_line
from rollwright.domain.deployment import STATUS_QUERY
from rollwright.domain.lane import (
    LANE_WORKFLOW,
    LaneAnswer,
    LaneControl,
    LaneInput,
    LaneStatus,
    lane_name,
    lane_workflow_id,
)
from rollwright.domain.search_attributes import ENVIRONMENT, LANE, SERVICE

# How long one Temporal call may take before the operation gives up and says so.
RPC_TIMEOUT = timedelta(seconds=15)


@dataclass(frozen=True)
class Lane:
    """One environment's lane and what it said (None: it never started)."""

    environment: str
    workflow_id: str
    status: LaneStatus | None


async def lane_status(client: Client, service: str, environment: str, *, timeout: timedelta = RPC_TIMEOUT) -> Lane:
    workflow_id = lane_workflow_id(service, environment)
    try:
        status: LaneStatus = await client.get_workflow_handle(workflow_id).query(
            STATUS_QUERY, result_type=LaneStatus, rpc_timeout=timeout
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return Lane(environment, workflow_id, None)
        raise Unavailable(f"cannot read {workflow_id}: {one_line(exc.message)}") from None
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        raise Unavailable(f"{workflow_id} did not answer its status query: {one_line(exc)}") from None
    return Lane(environment, workflow_id, status)


async def lanes(client: Client, service: str, environments: list[str]) -> list[Lane]:
    """Every lane of the service, in plan order."""
    return [await lane_status(client, service, environment) for environment in environments]


def start_operation(service: str, environment: str, task_queue: str) -> WithStartWorkflowOperation[None, None]:
    """How a control starts a lane that does not run yet; USE_EXISTING: a running lane takes the update."""
    return WithStartWorkflowOperation(
        LANE_WORKFLOW,
        LaneInput(service=service, environment=environment),
        id=lane_workflow_id(service, environment),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(SERVICE, service),
                SearchAttributePair(ENVIRONMENT, environment),
                SearchAttributePair(LANE, lane_name(service, environment)),
            ]
        ),
        # As the push intake starts one (rollwright.control.enqueue), so the UI shows every lane alike.
        static_summary=f"{service}/{environment}: lane (one deployment at a time, newest wins)",
    )


async def send_control(
    client: Client,
    service: str,
    environment: str,
    control: LaneControl,
    request: BaseModel,
    acting: Acting,
    *,
    start_on: str | None = None,
) -> LaneAnswer:
    """Send `control` to the lane (signed for it when `acting` was verified) and return its answer; `start_on`
    (a task queue) starts the lane if needed.

    A rejection is the lane's validator speaking (an ApplicationError whose message says why): it is passed on
    as one line (Conflict).
    """
    workflow_id = lane_workflow_id(service, environment)
    request = acting.attach(control.value, workflow_id, request)
    try:
        if start_on is None:
            answer: LaneAnswer = await client.get_workflow_handle(workflow_id).execute_update(
                control.value, request, result_type=LaneAnswer, rpc_timeout=RPC_TIMEOUT
            )
        else:
            answer = await client.execute_update_with_start_workflow(
                control.value,
                request,
                start_workflow_operation=start_operation(service, environment, start_on),
                result_type=LaneAnswer,
                rpc_timeout=RPC_TIMEOUT,
            )
    except (WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as exc:
        gone = f"{service} has no {environment} lane yet: nothing was ever deployed there"
        raise update_refused(exc, control.value, workflow_id, not_found=gone) from None
    return answer


def update_refused(
    exc: WorkflowUpdateFailedError | WorkflowUpdateRPCTimeoutOrCancelledError | RPCError,
    update: str,
    workflow_id: str,
    *,
    not_found: str,
) -> Conflict | Unavailable:
    """What an update that did not go through means to the caller: the workflow's validator refused it, or the
    workflow is not there (`not_found`), both Conflict; or Temporal or the workers did not answer, Unavailable."""
    if isinstance(exc, WorkflowUpdateFailedError):
        reason = getattr(exc.cause, "message", None) or str(exc.cause or exc)
        return Conflict(f"{update} rejected by {workflow_id}: {one_line(reason)}")
    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError):
        return Unavailable(
            f"{update}: {workflow_id} did not answer within {RPC_TIMEOUT.seconds} s (are the workers up?)"
        )
    if exc.status == RPCStatusCode.NOT_FOUND:
        return Conflict(not_found)
    return Unavailable(f"{update} not delivered to {workflow_id}: {one_line(exc.message)}")
