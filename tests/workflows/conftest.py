"""Fixtures for the workflow tests: worker pairs on the session's dev server, and the time-skipping server
with Rollwright's search attributes registered."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from tests.workflows.doubles import Doubles
from tests.workflows.harness import Queues, running_workers
from workflows.search_attributes import ALL

WorkersFactory = Callable[[Doubles], contextlib.AbstractAsyncContextManager[Queues]]


@pytest.fixture
def workers(temporal_env: WorkflowEnvironment) -> WorkersFactory:
    """`async with workers(doubles) as queues:` — workflows and doubles running on fresh task queues."""
    return lambda doubles: running_workers(temporal_env.client, doubles)


@pytest.fixture(scope="session")
async def skipping_env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The Java time-skipping server rejects unknown search attributes; register ours like the dev server does."""
    client = time_skipping_env.client
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in ALL},
        )
    )
    return time_skipping_env
