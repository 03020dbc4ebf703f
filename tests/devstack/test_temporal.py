"""A workflow runs on the launched Temporal dev server, with Rollwright's search attributes registered."""

from __future__ import annotations

import uuid
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from rollwright.domain import search_attributes


class Greeting(BaseModel):
    name: str


@activity.defn
async def greet(request: Greeting) -> str:
    return f"hello {request.name}"


@workflow.defn
class GreetWorkflow:
    @workflow.run
    async def run(self, request: Greeting) -> str:
        result: str = await workflow.execute_activity(greet, request, start_to_close_timeout=timedelta(seconds=10))
        return result


async def test_workflow_runs_on_dev_server_and_is_searchable(temporal_env: WorkflowEnvironment) -> None:
    queue = f"devstack-{uuid.uuid4()}"
    workflow_id = f"greet-{uuid.uuid4()}"
    async with Worker(temporal_env.client, task_queue=queue, workflows=[GreetWorkflow], activities=[greet]):
        result = await temporal_env.client.execute_workflow(
            GreetWorkflow.run,
            Greeting(name="rollwright"),
            id=workflow_id,
            task_queue=queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(search_attributes.SERVICE, "greeter")]),
        )
    assert result == "hello rollwright"
    description = await temporal_env.client.get_workflow_handle(workflow_id).describe()
    assert description.typed_search_attributes.get(search_attributes.SERVICE) == "greeter"
