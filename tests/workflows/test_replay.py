"""The replay guard: committed histories must replay against today's workflow code.

Each history walks one path of a workflow (EXPECTED below). A change that alters the commands a path issues
(an activity added, removed or reordered, a timer moved, a child started differently) fails here with a
nondeterminism error, because a workflow already running in production would fail the same way.

When such a change is meant:
1. Guard it with `workflow.patched("some-id")` (old branch kept), then keep the old history under a new name
   (e.g. `pipeline_before_plan_from_workers.json`, added to EXPECTED) so the old branch stays replayable, and
2. record fresh histories from the tests that write them:
   `ROLLWRIGHT_RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows -p no:randomly`, and commit them.
Re-recording alone, without a patch, is only right when no run of the old code can still be open.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.workflows.harness import HISTORIES, WORKFLOWS

# Every path of both workflows, and the committed history that walks it.
EXPECTED = {
    "deployment_happy": "environments in order, waves, bakes, an approval that times out and proceeds",
    "deployment_happy_inline_manifests": "a deployment from before the manifests went by reference: they are inline in "
    "each provision result and commit input",
    "deployment_approval": "an engineer approves the guarded environment",
    "deployment_approval_timeout": "nobody approves in time and the default is stop",
    "deployment_pause": "pause at a safe point, then resume",
    "deployment_abort": "an engineer aborts in wave two; every changed region rolls back",
    "deployment_cancel": "cancellation from Temporal means abort",
    "deployment_step_failure": "a step fails for good (guardrail); roll back, mark bad",
    "deployment_rollback": "a canary fails; rollback wave by wave, newest first, a first deploy removed",
    "deployment_rollback_one_by_one": "a rollback before the rollback-by-wave patch: one region after another",
    "deployment_stopped_before_handoff": "a region stopped after its commit, before its hand-off: not aborted",
    "deployment_checked_bake_rollback": "a check fails during a bake; it ends early and rolls back",
    "deployment_watch_rollback": "a check fails inside the post-deploy watch; everything rolls back",
    "deployment_watch_succeeded": "the watch window closes with every check passing",
    "deployment_watch_initial_delay": "the watch's first check round waits out the initial delay",
    "deployment_watch_ended_by_newer": "a newer version waits; the watch ends early",
    "deployment_halt_abort": "on_failure halt: a failed check holds the deployment, then an abort rolls back",
    "deployment_halt_resume": "on_failure halt: a failed check holds the deployment, then a resume goes on",
    "deployment_deliberate_rollback": "a deliberate rollback: waves newest first, no canary steps; replaced marked bad",
    "deployment_deliberate_rollback_keep_good": "a rollback that keeps the replaced good, one region already on it",
    "deployment_deliberate_rollback_failed": "a region's rollback fails: its wave finishes, later waves never start",
    "deployment_deliberate_rollback_controls": "a rollback paused between waves, a cancel refused, then resumed",
    "deployment_superseded_at_approval": "a newer version ends the approval wait before any region changed",
    "deployment_newer_keeps_approval_after_change": "a newer version after a region changed: the approval wait goes on",
    "deployment_approval_policy": "prod needs two verified approvers from its groups, not the pusher: refusals never "
    "reach history, one approval keeps it waiting, the second lets it go on",
    "deployment_approval_verified": "require_verified: the UI's signals are refused and audited, a verified approval "
    "is audited under the attested subject",
    "deployment_frozen_then_released": "a freeze mid-wave holds before the next wave; the unfreeze signal releases it",
    "deployment_window_wait": "prod reached outside its deploy window: a timer to the opening, then the rollout",
    "pipeline_continue_as_new": "newest wins, supersede, dedup, continue-as-new; plan read from the workers",
    "pipeline_before_newer_ends_watch": "a pipeline started before the newer-version-ends-watch patch",
    "pipeline_watch_ended_by_newer": "a newer push ends the running deployment's post-deploy watch",
    "pipeline_before_plan_from_workers": "a pipeline started before the plan-from-workers patch (plan from pushes)",
    "pipeline_hand_over_to_lanes": "a pipeline on the lanes' code hands what it is pushed to the first lane and ends",
    "lane_continue_as_new": "the first lane: newest wins, supersede, dedup, bad refused; continue-as-new keeps state",
    "lane_watch_ended_by_newer": "a newer push ends the first lane's running deployment's post-deploy watch",
    "pipeline_drained_after_upgrade": "an old-shape pipeline, deploying when the lanes' code came, finishes its "
    "deployment, hands the version waiting to the first lane and ends",
    "lane_superseded_while_waiting_for_approval": "prod's lane: a newer version due from staging ends the deployment "
    "waiting for prod's approval, and waits for the approval itself",
    "lane_rollback_hold_release": "a deliberate rollback of prod, its hold, a version queued behind it, the release",
    "lane_pin": "staging pinned on an older version through the normal rollout; a newer push waits behind the hold",
    "lane_bad_elsewhere_rollback": "staging rolls back a version prod marked bad (on_bad_elsewhere: rollback)",
    "lane_rollback_announced": "prod's deployment tells its lane it began rolling back; the lane tells staging "
    "at once, before the rollback ends",
    "deployment_rollback_announced": "a lane's deployment fails its canary and signals its lane before rolling back",
    "deployment_rollback_own_first": "a lane's deployment fails its canary and schedules its own rollback in the "
    "workflow task that signals its lane",
}


def test_every_scenario_has_a_committed_history() -> None:
    assert {path.stem for path in HISTORIES.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_committed_history_replays(name: str) -> None:
    path: Path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(name, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name} no longer replays: {result.replay_failure}"
