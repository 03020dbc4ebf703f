"""The one way a pushed version reaches a service's pipeline: signal-with-start of its entity workflow.

Used by the webhook receiver and by `rollwright deploy`. Signal-with-start needs no worker to be up:
Temporal records the signal (starting the pipeline if none runs) and the pipeline dedups and queues.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from rollwright.config.models import RollwrightConfig
from rollwright.domain.deployment import (
    ENQUEUE_SIGNAL,
    PIPELINE_WORKFLOW,
    PipelineInput,
    PushEvent,
    pipeline_workflow_id,
)
from rollwright.domain.search_attributes import SERVICE


async def enqueue_push(
    client: Client, config: RollwrightConfig, event: PushEvent, *, rpc_timeout: timedelta | None = None
) -> str:
    """Queue `event` in its pipeline; the workflow id. The push alone travels: the workers own the plan."""
    config.service(event.service)  # an unknown service is a KeyError here, never a workflow
    workflow_id = pipeline_workflow_id(event.service)
    await client.start_workflow(
        PIPELINE_WORKFLOW,
        PipelineInput(service=event.service),
        id=workflow_id,
        task_queue=config.temporal.task_queue,
        start_signal=ENQUEUE_SIGNAL,
        start_signal_args=[event],
        search_attributes=TypedSearchAttributes([SearchAttributePair(SERVICE, event.service)]),
        static_summary=f"{event.service}: version pipeline (one deployment at a time, newest wins)",
        rpc_timeout=rpc_timeout,
    )
    return workflow_id
