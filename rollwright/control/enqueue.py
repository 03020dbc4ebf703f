"""The one way a pushed version reaches a service: signal-with-start of its first lane's entity workflow.

Used by the webhook receiver and by `rollwright deploy`. Signal-with-start needs no worker to be up:
Temporal records the signal (starting the lane if none runs) and the lane dedups and queues. Later lanes take
their versions from the lane before them, never from a push.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from rollwright.config.models import RollwrightConfig
from rollwright.domain.deployment import ENQUEUE_SIGNAL, PushEvent
from rollwright.domain.lane import LANE_WORKFLOW, LaneInput, lane_name, lane_workflow_id
from rollwright.domain.search_attributes import ENVIRONMENT, LANE, SERVICE


def intake_workflow_id(config: RollwrightConfig, service: str) -> str:
    """The workflow a push for `service` goes to: its first environment's lane (KeyError for an unknown one)."""
    return lane_workflow_id(service, config.service(service).environments[0].name)


async def enqueue_push(
    client: Client, config: RollwrightConfig, event: PushEvent, *, rpc_timeout: timedelta | None = None
) -> str:
    """Queue `event` in the service's first lane; the workflow id. The push alone travels: the workers own the
    plan."""
    environment = config.service(event.service).environments[0].name  # an unknown service: KeyError, no workflow
    workflow_id = lane_workflow_id(event.service, environment)
    await client.start_workflow(
        LANE_WORKFLOW,
        LaneInput(service=event.service, environment=environment),
        id=workflow_id,
        task_queue=config.temporal.task_queue,
        start_signal=ENQUEUE_SIGNAL,
        start_signal_args=[event],
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(SERVICE, event.service),
                SearchAttributePair(ENVIRONMENT, environment),
                SearchAttributePair(LANE, lane_name(event.service, environment)),
            ]
        ),
        static_summary=f"{event.service}/{environment}: lane (one deployment at a time, newest wins)",
        rpc_timeout=rpc_timeout,
    )
    return workflow_id
