"""The follower's two waits against the stand-in: each rides out what passes by itself, and only for its budget."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import SecretStr

from argocd_standin.process import RunningStandin, run_standin
from rollwright.argocd import (
    ArgoCDClient,
    ArgoCDClientConfig,
    ArgoCDRequestError,
    ArgoCDUnavailableError,
    FollowProgress,
    FollowSettings,
    OperationInProgressError,
    RolloutFollower,
    WaitBudget,
)
from rollwright.argocd.models import ResourceRef
from tests.argocd_standin.gitops_repo import GitOpsRepo

APP = "api-staging-local-a"
QUICK = FollowSettings(
    poll_interval=0.05,
    unavailable=WaitBudget(seconds=0.5, max_wait=0.1),
    operation_in_progress=WaitBudget(seconds=10, max_wait=0.1),
)


def client(standin: RunningStandin) -> ArgoCDClient:
    return ArgoCDClient(ArgoCDClientConfig(server=standin.url, token=SecretStr(standin.token)))


async def test_a_sync_waits_its_turn_while_another_operation_runs(gitops: GitOpsRepo) -> None:
    first = gitops.deploy("staging", "local-a", "api", "v1")
    second = gitops.deploy("staging", "local-a", "api", "v2")
    # At speed 2 a sync runs for half a second, so the second request surely meets the first one running.
    async with run_standin(repo=gitops.bare, workdir=gitops.bare.parent, speed=2) as slow, client(slow) as argocd:
        await argocd.sync(APP, first)
        started = time.monotonic()
        accepted = await RolloutFollower(argocd, QUICK).sync(APP, second, [])
        waited = time.monotonic() - started
    assert waited > 0.2
    assert accepted.operation is not None
    assert accepted.operation.sync is not None
    assert accepted.operation.sync.revision == second


async def test_an_operation_that_outlasts_its_budget_is_an_error_that_says_so(gitops: GitOpsRepo) -> None:
    first = gitops.deploy("staging", "local-a", "api", "v1")
    second = gitops.deploy("staging", "local-a", "api", "v2")
    impatient = QUICK.model_copy(update={"operation_in_progress": WaitBudget(seconds=0.3, max_wait=0.1)})
    # At speed 0.5 the first sync runs for about two seconds: longer than the budget.
    async with run_standin(repo=gitops.bare, workdir=gitops.bare.parent, speed=0.5) as slow, client(slow) as argocd:
        await argocd.sync(APP, first)
        started = time.monotonic()
        with pytest.raises(OperationInProgressError, match=r"already in progress \(still so after 0.3 s\)"):
            await RolloutFollower(argocd, impatient).sync(APP, second, [])
        waited = time.monotonic() - started
    # The budget, one more wait of at most max_wait, and one more request.
    assert 0.3 <= waited < 1.5


async def test_argocd_unavailable_past_its_budget_ends_the_hand_off_with_an_error(
    gitops: GitOpsRepo, standin: RunningStandin
) -> None:
    sha = gitops.deploy("staging", "local-a", "api", "v1")
    await standin.set_faults(error_rate=1.0, seed=5)
    beats: list[FollowProgress] = []
    async with client(standin) as argocd:
        started = time.monotonic()
        with pytest.raises(ArgoCDUnavailableError, match=r"\(still so after 0.5 s\)"):
            await RolloutFollower(argocd, QUICK, beats.append).sync_and_follow(
                APP, sha, digest=None, deadline_seconds=60
            )
        waited = time.monotonic() - started
    assert (await standin.stats())["injected_faults"] > 2, "the follower asked again while its budget lasted"
    assert 0.5 <= waited < 2.0
    waiting = [beat.message for beat in beats if beat.message and beat.message.startswith("waiting: ")]
    assert waiting, "the follower reports progress while it waits, so a heartbeat timeout does not end it"


async def test_a_rollout_argo_cd_lists_before_its_cache_has_it_is_waited_for_not_failed(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen on the real Argo CD 3.2 right after a first sync: the tree names the Rollout, GetResource answers 400.
    sha = gitops.deploy("staging", "local-a", "api", "v1")
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
    async with client(standin) as argocd:
        outcome = await RolloutFollower(argocd, QUICK).sync_and_follow(APP, sha, digest=None, deadline_seconds=60)

    assert outcome.healthy, outcome.reason
    assert refusals == [0]
