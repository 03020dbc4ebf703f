"""Committed histories must replay against today's workflow code: a nondeterministic change fails here.

Regenerate them from fresh runs with `ROLLWRIGHT_RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows`
(only when a change is meant to be incompatible, i.e. guarded by `workflow.patched` or a new workflow name).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.workflows.harness import HISTORIES, WORKFLOWS

EXPECTED = {
    "deployment_happy",
    "deployment_rollback",
    "deployment_abort",
    "deployment_pause",
    "pipeline_continue_as_new",
}


def test_every_scenario_has_a_committed_history() -> None:
    assert {path.stem for path in HISTORIES.glob("*.json")} >= EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_committed_history_replays(name: str) -> None:
    path: Path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(name, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name} no longer replays: {result.replay_failure}"
