"""Fixtures for the workflow tests: worker pairs on the session's dev server."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.workflows.doubles import Doubles
from tests.workflows.harness import Queues, running_workers

WorkersFactory = Callable[[Doubles], contextlib.AbstractAsyncContextManager[Queues]]


@pytest.fixture
def workers(temporal_env: WorkflowEnvironment) -> WorkersFactory:
    """`async with workers(doubles) as queues:` — workflows and doubles running on fresh task queues."""
    return lambda doubles: running_workers(temporal_env.client, doubles)
