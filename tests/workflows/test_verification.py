"""Rollwright's own checks after the canary: checked bakes, the post-deploy watch, comparison with the regions not
changed yet, and `on_failure: halt`. Prometheus is the double (tests/workflows/doubles.py `measure`); the verdicts
come from the real judgement, and the workflows run on Temporal's time-skipping server, so bakes and watch windows
of minutes pass in seconds."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName, ProvisionPurpose
from rollwright.domain.deployment import (
    NEWER_VERSION_SIGNAL,
    ControlName,
    DeploymentOutcome,
    DeploymentPhase,
    DeploymentResult,
    NewerVersion,
    RegionPhase,
)
from rollwright.domain.notification import NotificationKind
from rollwright.domain.plan import EnvironmentPlan
from rollwright.domain.verification import BaselineComparison, OnFailure, VerificationCheck, VerificationPlan
from tests.workflows.doubles import Doubles, digest_of
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
ERROR_RATIO = VerificationCheck(
    name="error-ratio", query="errors{region='{{region}}'}", success_condition="result <= 0.05"
)
COMPARED = ERROR_RATIO.model_copy(update={"compare_to_baseline": BaselineComparison(max_degradation=0.02)})


def prod(
    check: VerificationCheck = ERROR_RATIO,
    *,
    bake: timedelta | None = timedelta(minutes=10),
    watch: timedelta | None = None,
    on_failure: OnFailure = OnFailure.ROLLBACK,
) -> EnvironmentPlan:
    env = environment("prod", [["us-east-1"], ["eu-west-1", "ap-south-1"]], bake=bake)
    verification = VerificationPlan(checks=[check], interval=timedelta(seconds=5), watch=watch, on_failure=on_failure)
    return env.model_copy(update={"prometheus_address": "http://prometheus:9090", "verification": verification})


async def start(
    client: Client, queues: Queues, env: EnvironmentPlan, name: str
) -> WorkflowHandle[DeploymentWorkflow, DeploymentResult]:
    return await client.start_workflow(
        DeploymentWorkflow.run,
        deployment_input(plan(env), queues),
        id=f"{name}-{uuid.uuid4().hex[:6]}",
        task_queue=queues.main,
    )


def halted(handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await status(handle)).halted is not None

    return check


def measured(values: dict[str, Callable[[int], float | None]]) -> Callable[[str, int], float | None]:
    """Each region key's answer by round; a region not named answers a healthy 0.01."""
    return lambda key, round_: values[key](round_) if key in values else 0.01


async def test_a_failing_check_ends_the_bake_early_and_rolls_back_with_the_check_region_and_value(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # us-east-1 is fine for its first round of the bake, then answers 9% errors.
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, measure=measured({US: lambda n: 0.01 if n == 0 else 0.09}))
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(), "deploy-checked-bake")
        result = await handle.result()
        await check_replay(handle, "deployment_checked_bake_rollback")

    assert result.outcome is DeploymentOutcome.ROLLED_BACK
    assert result.reason == "prod: error-ratio in us-east-1 measured 0.09, needs result <= 0.05"
    # Two rounds, five seconds apart, out of a ten-minute bake: it ended at the failure.
    assert len(doubles.named(ActivityName.RUN_CHECKS)) == 2
    assert doubles.keys(ActivityName.PROVISION_REGION) == [US, US], "wave 2 never started"
    assert doubles.named(ActivityName.PROVISION_REGION)[1].arg.purpose is ProvisionPurpose.ROLLBACK
    # The untouched regions were measured as the baseline, but only the changed one was judged.
    checked = doubles.named(ActivityName.RUN_CHECKS)[0].arg
    assert {(r.target.region, r.changed) for r in checked.regions} == {
        ("us-east-1", True),
        ("eu-west-1", False),
        ("ap-south-1", False),
    }
    assert NEW in doubles.bad_digests
    rolled_back = [c.arg for c in doubles.named(ActivityName.NOTIFY) if c.arg.kind is NotificationKind.ROLLED_BACK]
    assert rolled_back
    assert rolled_back[0].reason == result.reason


async def test_a_version_that_turns_bad_inside_the_watch_is_rolled_back_everywhere_and_marked_bad(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # eu-west-1 goes bad on its fifth round of the watch: 20 s after the last wave went live.
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, measure=measured({EU: lambda n: 0.01 if n < 4 else 0.3}))
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(bake=None, watch=timedelta(seconds=60)), "deploy-watch-bad")
        result = await handle.result()
        await check_replay(handle, "deployment_watch_rollback")

    assert result.outcome is DeploymentOutcome.ROLLED_BACK
    assert result.reason == "prod: error-ratio in eu-west-1 measured 0.3, needs result <= 0.05"
    assert {r.region: (r.phase, r.digest) for r in result.regions} == {
        region: (RegionPhase.ROLLED_BACK, OLD) for region in ("us-east-1", "eu-west-1", "ap-south-1")
    }
    watch_rounds = doubles.named(ActivityName.RUN_CHECKS)
    assert len(watch_rounds) == 5
    # Five seconds apart, plus each round's own few milliseconds.
    assert timedelta(seconds=20) <= watch_rounds[-1].scheduled - watch_rounds[0].scheduled < timedelta(seconds=21)
    assert NEW in doubles.bad_digests


async def test_a_version_that_stays_good_succeeds_when_the_watch_closes(time_skipping_env: WorkflowEnvironment) -> None:
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD})
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(bake=None, watch=timedelta(seconds=60)), "deploy-watch-good")
        result = await handle.result()
        await check_replay(handle, "deployment_watch_succeeded")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    rounds = doubles.named(ActivityName.RUN_CHECKS)
    # A round every 5 s from the window's opening (just before the first was scheduled) to its close.
    assert timedelta(seconds=59) <= rounds[-1].scheduled - rounds[0].scheduled < timedelta(seconds=62)
    assert 12 <= len(rounds) <= 13
    # Every region of the last wave is live: all three measured, none as a baseline.
    assert {(r.target.region, r.changed) for r in rounds[-1].arg.regions} == {
        ("us-east-1", True),
        ("eu-west-1", True),
        ("ap-south-1", True),
    }
    assert NEW not in doubles.bad_digests


async def test_the_first_check_round_waits_out_the_initial_delay(time_skipping_env: WorkflowEnvironment) -> None:
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD})
    env = prod(bake=None, watch=timedelta(seconds=60))
    delayed = env.verification.model_copy(update={"initial_delay": timedelta(seconds=15)})
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, env.model_copy(update={"verification": delayed}), "deploy-watch-delay")
        result = await handle.result()
        await check_replay(handle, "deployment_watch_initial_delay")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    rounds = doubles.named(ActivityName.RUN_CHECKS)
    last_hand_off = doubles.named(ActivityName.SYNC_AND_FOLLOW)[-1].scheduled
    # The last wave went live just after its hand-off was scheduled; nothing was measured in the next 15 s.
    assert timedelta(seconds=15) <= rounds[0].scheduled - last_hand_off < timedelta(seconds=16)
    # Then a round every 5 s until the 60 s window closed.
    assert 9 <= len(rounds) <= 10


async def test_the_comparison_fails_a_region_worse_than_its_untouched_neighbours_though_under_the_threshold(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # 4% errors is under the absolute 5%, but 3 points above the 1% of the regions still on the old version.
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, measure=measured({US: lambda n: 0.04}))
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(COMPARED), "deploy-compared")
        result = await handle.result()

    assert result.outcome is DeploymentOutcome.ROLLED_BACK
    assert result.reason == (
        "prod: error-ratio in us-east-1 measured 0.04, 0.03 worse than 0.01 in the untouched regions "
        "(ap-south-1, eu-west-1); at most 0.02 allowed"
    )


async def test_the_comparison_passes_a_region_as_good_as_its_neighbours(time_skipping_env: WorkflowEnvironment) -> None:
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, measure=measured({US: lambda n: 0.015}))
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(COMPARED, watch=timedelta(seconds=10)), "deploy-compared-good")
        result = await handle.result()
        last = await status(handle)

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    # In the watch no region is left on the old version: the status says the absolute condition decided alone.
    details = {c.region: c.detail for c in last.checks}
    assert details["us-east-1"] == (
        "error-ratio in us-east-1 measured 0.015 (result <= 0.05); no baseline region: the absolute condition alone "
        "decides"
    )


async def test_halt_pauses_and_waits_then_abort_rolls_back(time_skipping_env: WorkflowEnvironment) -> None:
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, measure=measured({US: lambda n: 0.2}))
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(on_failure=OnFailure.HALT), "deploy-halt-abort")
        await eventually(halted(handle), what="the deployment halted")
        await time_skipping_env.sleep(timedelta(hours=2))
        held = await status(handle)
        assert held.phase is DeploymentPhase.PAUSED
        assert held.halted == "prod: error-ratio in us-east-1 measured 0.2, needs result <= 0.05"
        assert held.outcome is None
        assert [c.arg.purpose for c in doubles.named(ActivityName.PROVISION_REGION)] == [ProvisionPurpose.DEPLOY]
        kinds = [c.arg.kind for c in doubles.named(ActivityName.NOTIFY)]
        assert NotificationKind.HALTED in kinds

        await handle.signal(ControlName.ABORT.signal_name, request("the migration is reversible after all"))
        result = await handle.result()
        await check_replay(handle, "deployment_halt_abort")

    assert result.outcome is DeploymentOutcome.ABORTED
    assert {r.region: r.phase for r in result.regions}["us-east-1"] is RegionPhase.ROLLED_BACK
    assert [(e.action, e.actor) for e in result.audit] == [("halt", "rollwright"), ("abort", "alice")]


async def test_halt_then_resume_goes_on_without_rolling_back(time_skipping_env: WorkflowEnvironment) -> None:
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, measure=measured({US: lambda n: 0.2 if n == 0 else 0.01}))
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(on_failure=OnFailure.HALT), "deploy-halt-resume")
        await eventually(halted(handle), what="the deployment halted")
        await handle.signal(ControlName.RESUME.signal_name, request("known noisy neighbour", actor="bob"))
        result = await handle.result()
        await check_replay(handle, "deployment_halt_resume")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert [r.phase for r in result.regions] == [RegionPhase.LIVE] * 3
    assert ProvisionPurpose.ROLLBACK not in [c.arg.purpose for c in doubles.named(ActivityName.PROVISION_REGION)]
    assert [(e.action, e.actor) for e in result.audit] == [("halt", "rollwright"), ("resume", "bob")]


async def test_a_canary_failing_under_halt_pauses_its_in_flight_neighbour_and_resume_lets_it_go_on(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # Wave 2: eu-west-1's canary fails while ap-south-1's is still held in flight.
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD}, canary_fails={EU: NEW}, hold={AP: NEW})
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(bake=None, on_failure=OnFailure.HALT), "deploy-halt-canary")

        async def ap_paused() -> bool:
            return AP in doubles.keys(ActivityName.PAUSE_ROLLOUT)

        await eventually(ap_paused, what="ap-south-1's canary paused")
        held = await status(handle)
        assert held.halted is not None
        assert "eu-west-1" in held.halted
        await handle.signal(ControlName.RESUME.signal_name, request("eu-west-1 is being drained anyway"))

        async def ap_resumed() -> bool:
            return AP in doubles.keys(ActivityName.RESUME_ROLLOUT)

        await eventually(ap_resumed, what="ap-south-1's canary resumed")
        doubles.released.set()
        result = await handle.result()

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert {r.region: r.phase for r in result.regions} == {
        "us-east-1": RegionPhase.LIVE,
        "eu-west-1": RegionPhase.FAILED,
        "ap-south-1": RegionPhase.LIVE,
    }
    assert not doubles.named(ActivityName.ABORT_ROLLOUT)


async def test_a_newer_version_waiting_ends_the_watch(time_skipping_env: WorkflowEnvironment) -> None:
    doubles = Doubles(baselines={US: OLD, EU: OLD, AP: OLD})
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, queues, prod(bake=None, watch=timedelta(hours=1)), "deploy-watch-newer")

        async def watching() -> bool:
            current = await status(handle)
            return current.phase is DeploymentPhase.WATCHING and current.watching_until is not None

        await eventually(watching, what="the deployment watching")
        await handle.signal(NEWER_VERSION_SIGNAL, NewerVersion(tag="v1.1.0", digest=digest_of("v1.1.0")))
        result = await handle.result()
        await check_replay(handle, "deployment_watch_ended_by_newer")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    rounds = doubles.named(ActivityName.RUN_CHECKS)
    assert rounds[-1].scheduled - rounds[0].scheduled < timedelta(hours=1)
