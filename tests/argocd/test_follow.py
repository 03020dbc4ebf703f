"""The follower's two waits against the real Argo CD: each rides out what passes by itself, and only for its budget."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from activities.contracts import HandoffOutcome
from devstack.cluster import LocalCluster
from devstack.ports import free_port
from rollwright.argocd import (
    ArgoCDClient,
    ArgoCDClientConfig,
    ArgoCDRequestError,
    ArgoCDUnavailableError,
    ConnectRetries,
    FollowProgress,
    FollowSettings,
    OperationInProgressError,
    RolloutFollower,
    WaitBudget,
)
from rollwright.argocd.models import ResourceRef
from rollwright.domain.plan import CanaryStep
from tests.handoff.regions import Region
from tests.support.held_sync import sync_held

QUICK = FollowSettings(
    poll_interval=0.05,
    unavailable=WaitBudget(seconds=0.5, max_wait=0.1),
    operation_in_progress=WaitBudget(seconds=30, max_wait=0.2),
)
UNPAUSED = [CanaryStep(weight=50)]


async def test_a_sync_waits_its_turn_while_another_operation_runs(region: Region, local_cluster: LocalCluster) -> None:
    async with sync_held(region, local_cluster) as held, ArgoCDClient(region.client_config) as argocd:
        sha = await region.commit("v1", UNPAUSED)
        waiting = asyncio.create_task(RolloutFollower(argocd, QUICK).sync(region.app, sha, []))
        await asyncio.sleep(1.5)
        assert not waiting.done(), "the sync was accepted while another operation ran"

        await held.release()

        accepted = await asyncio.wait_for(waiting, 30)
    assert accepted.operation is not None
    assert accepted.operation.sync is not None
    assert accepted.operation.sync.revision == sha


async def test_an_operation_that_outlasts_its_budget_is_an_error_that_says_so(
    region: Region, local_cluster: LocalCluster
) -> None:
    impatient = QUICK.model_copy(update={"operation_in_progress": WaitBudget(seconds=0.3, max_wait=0.1)})
    async with sync_held(region, local_cluster), ArgoCDClient(region.client_config) as argocd:
        sha = await region.commit("v1", UNPAUSED)
        started = time.monotonic()
        with pytest.raises(OperationInProgressError, match=r"already in progress \(still so after 0.3 s\)"):
            await RolloutFollower(argocd, impatient).sync(region.app, sha, [])
        waited = time.monotonic() - started
    # The budget, one more wait of at most max_wait, and one more request.
    assert 0.3 <= waited < 1.5


async def test_argocd_down_past_its_budget_ends_the_hand_off_with_an_error() -> None:
    # Nothing listens there: argocd-server is down. (No connection retries, so each try fails at once.)
    down = ArgoCDClientConfig(server=f"http://127.0.0.1:{free_port()}", connect_retries=ConnectRetries(count=0))
    beats: list[FollowProgress] = []
    async with ArgoCDClient(down) as argocd:
        started = time.monotonic()
        with pytest.raises(ArgoCDUnavailableError, match=r"\(still so after 0.5 s\)"):
            await RolloutFollower(argocd, QUICK, beats.append).sync_and_follow(
                "api-staging-local-a", "0" * 40, digest=None, deadline_seconds=60
            )
        waited = time.monotonic() - started
    assert 0.5 <= waited < 2.0
    waiting = [beat.message for beat in beats if beat.message and beat.message.startswith("waiting: ")]
    # It asked again while its budget lasted, and said so each time, so a heartbeat timeout does not end it.
    assert len(waiting) > 2, waiting


async def test_a_rollout_argo_cd_lists_before_its_cache_has_it_is_waited_for_not_failed(
    region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen on the real Argo CD 3.2 right after a first sync: the tree names the Rollout, GetResource answers 400.
    # It does not happen on every run, so two such answers are made sure of.
    original = ArgoCDClient.get_resource
    refusals = [2]

    async def lagging(self: ArgoCDClient, name: str, ref: ResourceRef) -> dict[str, Any]:
        if refusals[0] > 0:
            refusals[0] -= 1
            raise ArgoCDRequestError(
                f"Rollout argoproj.io {ref.name} not found as part of application {name}", status=400
            )
        return await original(self, name, ref)

    monkeypatch.setattr(ArgoCDClient, "get_resource", lagging)

    outcome = await region.hand_off("v1", UNPAUSED)

    assert outcome.outcome is HandoffOutcome.HEALTHY, outcome.reason
    assert refusals == [0]
