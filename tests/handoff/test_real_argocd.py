"""The hand-off against the real thing: Rollwright's own activity syncs a Rollwright commit through the real Argo CD
(the Application created by Rollwright itself) and follows the real Argo Rollouts canary; a canary whose traffic
fails is judged by a real AnalysisRun on a real Prometheus measurement."""

from __future__ import annotations

import asyncio

from temporalio.testing import ActivityEnvironment

from activities.contracts import HandoffOutcome, HandoffResult, RolloutActionInput
from devstack.traffic import RunningTraffic
from rollwright.argocd import ArgoCDClient
from rollwright.domain.plan import CanaryAnalysis, CanaryStep
from tests.handoff.regions import SUCCESS_RATE, Region, digest_of

STEPS = [CanaryStep(weight=25, pause="4s"), CanaryStep(weight=50, pause="4s")]
# Long enough that only an operator's action ends it within the test.
LONG_PAUSE = [CanaryStep(weight=25, pause="10m"), CanaryStep(weight=50)]


async def test_a_rollwright_commit_synced_by_real_argo_cd_walks_its_canary_to_healthy(region: Region) -> None:
    first = await region.hand_off("v1", STEPS)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason

    second = await region.hand_off("v2", STEPS)

    assert second.outcome is HandoffOutcome.HEALTHY, second.reason
    assert second.step_index == 4
    assert second.weight == 100


async def test_a_real_abort_turns_the_rollout_degraded(region: Region) -> None:
    first = await region.hand_off("v1", STEPS)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    # An abort of a Rollout that runs its stable version is refused by Rollwright (it would stay Degraded).
    await ActivityEnvironment().run(
        region.acts["abort_rollout"], RolloutActionInput(target=region.target, app_name=region.app, reason="test")
    )
    again = await region.hand_off("v1", STEPS)
    assert again.outcome is HandoffOutcome.HEALTHY, again.reason


async def test_a_canary_answering_20_percent_5xx_fails_its_real_analysis_with_the_metric_in_the_reason(
    region: Region, measured: tuple[RunningTraffic, str]
) -> None:
    traffic, prometheus = measured
    region.analysis = CanaryAnalysis(checks=[SUCCESS_RATE], prometheus_address=prometheus)
    first = await region.hand_off("v1", STEPS)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    good = await region.hand_off("v2", STEPS)
    assert good.outcome is HandoffOutcome.HEALTHY, good.reason

    traffic.fail(digest_of("v3"), 0.2)
    bad = await region.hand_off("v3", STEPS)

    assert bad.outcome is HandoffOutcome.CANARY_FAILED
    assert bad.reason is not None
    # The controller's verdict, then what the real AnalysisRun measured and what it needed.
    assert 'Metric "success-rate" assessed Failed' in bad.reason
    assert "AnalysisRun " in bad.reason
    assert "success-rate measured 0.8" in bad.reason, bad.reason
    assert "needs result[0] >= 0.95" in bad.reason


async def _paused_mid_canary(region: Region, tag: str) -> asyncio.Task[HandoffResult]:
    """Hand `tag` off with a long first pause; return once the real canary sits in it."""
    follow = asyncio.create_task(region.hand_off(tag, LONG_PAUSE))
    async with ArgoCDClient(region.client_config) as client:
        for _ in range(300):
            tree = await client.resource_tree(region.app)
            rollouts = tree.managed("argoproj.io", "Rollout")
            if rollouts:
                live = await client.get_resource(region.app, rollouts[0].ref())
                status = live.get("status") or {}
                if status.get("pauseConditions") and digest_of(tag) in str(live["spec"]):
                    return follow
            await asyncio.sleep(0.2)
    follow.cancel()
    raise AssertionError(f"{tag} never paused in its canary")


async def test_a_real_abort_mid_canary_degrades_the_rollout_and_ends_the_hand_off(region: Region) -> None:
    first = await region.hand_off("v1", STEPS)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    follow = await _paused_mid_canary(region, "v2")

    await ActivityEnvironment().run(
        region.acts["abort_rollout"], RolloutActionInput(target=region.target, app_name=region.app, reason="test")
    )

    result = await asyncio.wait_for(follow, 60)
    assert result.outcome is HandoffOutcome.CANARY_FAILED
    assert result.reason is not None
    assert result.reason.startswith("RolloutAborted"), result.reason


async def test_promote_full_completes_a_paused_real_canary(region: Region) -> None:
    first = await region.hand_off("v1", STEPS)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    follow = await _paused_mid_canary(region, "v2")

    async with ArgoCDClient(region.client_config) as client:
        rollout = (await client.resource_tree(region.app)).managed("argoproj.io", "Rollout")[0]
        await client.run_resource_action(region.app, rollout.ref(), "promote-full")

    result = await asyncio.wait_for(follow, 60)
    assert result.outcome is HandoffOutcome.HEALTHY, result.reason
    assert result.weight == 100
