"""Operator controls: abort rolls back, pause holds and resume finishes, nonsense requests are refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName, ProvisionPurpose
from rollwright.domain.deployment import (
    ControlName,
    ControlRequest,
    DeploymentOutcome,
    DeploymentPhase,
    DeploymentResult,
    RegionPhase,
)
from tests.workflows.conftest import WorkersFactory
from tests.workflows.doubles import Doubles
from tests.workflows.harness import (
    NEW,
    OLD,
    Queues,
    check_replay,
    deployment_input,
    environment,
    eventually,
    plan,
    request,
    running_workers,
    status,
)
from workflows.deployment import DeploymentWorkflow

US, EU, AP = "checkout-api/prod/us-east-1", "checkout-api/prod/eu-west-1", "checkout-api/prod/ap-south-1"
PROD = plan(environment("prod", [["us-east-1"], ["eu-west-1", "ap-south-1"]]))


async def refused(
    handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult], control: ControlName, req: ControlRequest
) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(control.value, req, result_type=None)
    return str(failure.value.cause)


async def start_in_wave_two(
    client: Client, queues: Queues, kind: str
) -> WorkflowHandle[DeploymentWorkflow, DeploymentResult]:
    """Start a prod deployment and return once both wave-2 regions follow their (held) canaries."""
    handle = await client.start_workflow(
        DeploymentWorkflow.run,
        deployment_input(PROD, queues),
        id=f"deploy-{kind}-{uuid.uuid4().hex[:6]}",
        task_queue=queues.main,
    )

    async def wave_two_following() -> bool:
        phases = {r.region: r.phase for r in (await status(handle)).regions}
        return phases["eu-west-1"] is RegionPhase.SYNCING and phases["ap-south-1"] is RegionPhase.SYNCING

    await eventually(wave_two_following, what="both wave-2 regions following their canaries")
    return handle


async def test_abort_in_wave_two_rolls_back_and_invalid_requests_are_refused(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, hold={EU: NEW, AP: NEW})
    client = temporal_env.client
    async with workers(doubles) as queues:
        handle = await start_in_wave_two(client, queues, "abort")

        assert "not paused" in await refused(handle, ControlName.RESUME, request("carry on"))
        assert "nothing is waiting for approval" in await refused(handle, ControlName.APPROVE, request("lgtm"))
        assert "required" in await refused(handle, ControlName.ABORT, request("oops", actor=" "))
        answer = await handle.execute_update(DeploymentWorkflow.pause, request("look at the graphs"))
        assert answer.message == "paused: holding at the next safe point"
        assert (await status(handle)).phase is DeploymentPhase.PAUSED
        assert "already paused" in await refused(handle, ControlName.PAUSE, request("again"))
        await handle.execute_update(DeploymentWorkflow.resume, request("graphs fine"))
        await handle.execute_update(DeploymentWorkflow.abort, request("error rate up in eu", actor="bob"))

        result = await handle.result()
        await check_replay(handle, "deployment_abort")

    assert result.outcome is DeploymentOutcome.ABORTED
    assert result.reason == "aborted by bob: error rate up in eu"
    assert {r.region: (r.phase, r.digest) for r in result.regions} == {
        "us-east-1": (RegionPhase.ROLLED_BACK, OLD),
        "eu-west-1": (RegionPhase.ROLLED_BACK, OLD),
        "ap-south-1": (RegionPhase.ROLLED_BACK, OLD),
    }
    rollbacks = [
        c.key or "" for c in doubles.named(ActivityName.PROVISION_REGION) if c.arg.purpose is ProvisionPurpose.ROLLBACK
    ]
    assert rollbacks[-1] == US
    assert sorted(rollbacks[:2]) == sorted([EU, AP])
    assert [(c.arg.digest, c.arg.actor) for c in doubles.named(ActivityName.MARK_DIGEST_BAD)] == [(NEW, "bob")]
    assert [(e.action, e.actor) for e in result.audit] == [("pause", "alice"), ("resume", "alice"), ("abort", "bob")]

    # Refused requests never reached history; the three accepted ones did.
    history = await handle.fetch_history()
    accepted = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert len(accepted) == 3


async def test_cancelling_from_temporal_rolls_back_like_abort(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, hold={EU: NEW, AP: NEW})
    client = temporal_env.client
    async with workers(doubles) as queues:
        handle = await start_in_wave_two(client, queues, "cancel")
        await handle.cancel()  # what the UI's "Request Cancellation" and `temporal workflow cancel` send
        result = await handle.result()
        await check_replay(handle, "deployment_cancel")

    assert result.outcome is DeploymentOutcome.ABORTED
    assert result.reason == "cancellation requested in Temporal"
    assert {r.region: (r.phase, r.digest) for r in result.regions} == {
        "us-east-1": (RegionPhase.ROLLED_BACK, OLD),
        "eu-west-1": (RegionPhase.ROLLED_BACK, OLD),
        "ap-south-1": (RegionPhase.ROLLED_BACK, OLD),
    }
    assert [(c.arg.digest, c.arg.actor) for c in doubles.named(ActivityName.MARK_DIGEST_BAD)] == [(NEW, "temporal")]


async def test_pause_holds_before_the_next_wave_until_resumed(time_skipping_env: WorkflowEnvironment) -> None:
    # Signals, not updates: the Java time-skipping server handles updates poorly, and the UI sends signals too.
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, hold={US: NEW})
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(PROD, queues),
            id=f"deploy-pause-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )

        async def us_following() -> bool:
            return (await status(handle)).regions[0].phase is RegionPhase.SYNCING

        await eventually(us_following, what="us-east-1 following its canary")
        await handle.signal(ControlName.PAUSE.signal_name, request("hold before the next wave"))
        doubles.released.set()

        async def held() -> bool:
            current = await status(handle)
            return current.phase is DeploymentPhase.PAUSED and current.regions[0].phase is RegionPhase.LIVE

        await eventually(held, what="us-east-1 live and the deployment paused")
        calls_when_paused = len(doubles.calls)
        await time_skipping_env.sleep(timedelta(hours=6))
        assert len(doubles.calls) == calls_when_paused, "nothing may start while paused"
        assert [r.phase for r in (await status(handle)).regions[1:]] == [RegionPhase.PENDING, RegionPhase.PENDING]
        await handle.signal(ControlName.RESUME.signal_name, request("graphs look fine", actor="bob"))
        result = await handle.result()
        await check_replay(handle, "deployment_pause")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert [r.phase for r in result.regions] == [RegionPhase.LIVE] * 3
    assert [(e.action, e.actor) for e in result.audit] == [("pause", "alice"), ("resume", "bob")]
    wave_two = min(doubles.first(ActivityName.GET_REGION_BASELINE, key).scheduled for key in (EU, AP))
    us_live = doubles.named(ActivityName.RECORD_REGION_STATE)[1].scheduled
    assert wave_two - us_live >= timedelta(hours=6)


async def test_a_region_stopped_between_commit_and_hand_off_is_not_aborted_and_rolls_back_cleanly(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    # ap-south-1's commit is held until eu-west-1 follows its (held) canary; the deployment is paused meanwhile, so
    # ap-south-1 holds at the safe point right after its commit, before any sync. Then an abort: its Rollout still
    # runs the stable template, while eu-west-1's got the new version.
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, hold={EU: NEW}, held_commits={AP})
    client = temporal_env.client
    async with workers(doubles) as queues:
        handle = await client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(PROD, queues),
            id=f"deploy-before-handoff-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )

        async def ap_committing_and_eu_following() -> bool:
            phases = {r.region: r.phase for r in (await status(handle)).regions}
            return phases["ap-south-1"] is RegionPhase.COMMITTING and phases["eu-west-1"] is RegionPhase.SYNCING

        await eventually(ap_committing_and_eu_following, what="ap-south-1 committing while eu-west-1 follows")
        await handle.execute_update(DeploymentWorkflow.pause, request("hold after the commit"))
        doubles.commits_released.set()

        async def ap_committed() -> bool:
            return any(call.ended for call in doubles.named(ActivityName.COMMIT_MANIFESTS) if call.key == AP)

        await eventually(ap_committed, what="ap-south-1's commit returned")
        await handle.execute_update(DeploymentWorkflow.abort, request("eu looks wrong"))
        result = await handle.result()
        await check_replay(handle, "deployment_stopped_before_handoff")

    assert sorted(doubles.keys(ActivityName.ABORT_ROLLOUT)) == [EU], "only a Rollout that got the new version"
    assert doubles.stable_aborted == set()
    assert result.outcome is DeploymentOutcome.ABORTED
    assert {r.region: r.phase for r in result.regions} == dict.fromkeys(
        ("us-east-1", "eu-west-1", "ap-south-1"), RegionPhase.ROLLED_BACK
    )
