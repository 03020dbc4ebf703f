"""`on_failure: halt` on the real thing: Rollwright's pause action holds a real canary where it is (no step is taken
while paused, the hand-off keeps following without failing it), and its resume action lets it finish."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities.contracts import HandoffOutcome, RolloutActionInput
from rollwright.argocd import ArgoCDClient
from rollwright.domain.plan import CanaryStep
from tests.handoff.regions import Region, digest_of

STEPS = [CanaryStep(weight=25, pause="3s"), CanaryStep(weight=50, pause="3s")]


async def live_rollout(region: Region) -> dict[str, Any]:
    async with ArgoCDClient(region.client_config) as client:
        rollout = (await client.resource_tree(region.app)).managed("argoproj.io", "Rollout")[0]
        return await client.get_resource(region.app, rollout.ref())


async def test_a_paused_real_canary_takes_no_step_until_resumed_then_goes_healthy(region: Region) -> None:
    first = await region.hand_off("v1", STEPS)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    follow = asyncio.create_task(region.hand_off("v2", STEPS))
    action = RolloutActionInput(target=region.target, app_name=region.app, reason="halted: check failed")

    for _ in range(300):
        live = await live_rollout(region)
        status = live.get("status") or {}
        if digest_of("v2") in str(live.get("spec")) and status.get("currentStepIndex") == 1:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("v2 never reached its first canary step")
    await ActivityEnvironment().run(region.acts["pause_rollout"], action)

    held = await live_rollout(region)
    await asyncio.sleep(8)  # longer than both canary pauses together
    still = await live_rollout(region)
    assert still["spec"].get("paused") is True
    assert still["status"].get("currentStepIndex") == held["status"].get("currentStepIndex")
    assert not follow.done(), "the hand-off must keep following a paused canary, not end it"

    await ActivityEnvironment().run(region.acts["resume_rollout"], action)

    result = await asyncio.wait_for(follow, 90)
    assert result.outcome is HandoffOutcome.HEALTHY, result.reason
    assert result.weight == 100
