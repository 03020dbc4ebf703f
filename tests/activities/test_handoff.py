"""The hand-off activities against the real Argo CD and Argo Rollouts: how a hand-off follows a canary, how one
that never finishes ends, the region's Application kept by Rollwright, and each failure as Temporal sees it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import ErrorType, HandoffInput, HandoffOutcome, HandoffResult
from activities.handoff import HandoffActivities, create_activities
from devstack.cluster import LocalCluster
from devstack.ports import free_port
from rollwright.argocd import (
    ArgoCDClient,
    ArgoCDClientConfig,
    ArgoCDNotFoundError,
    ArgoCDPermissionError,
    ConnectRetries,
    FollowProgress,
    FollowSettings,
    WaitBudget,
)
from rollwright.argocd.client import ApplicationPlacement
from rollwright.argocd.follow import Stage
from rollwright.config.models import ArgoCDConfig, EnvironmentConfig, GitOpsConfig, RollwrightConfig, ServiceConfig
from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryStep
from rollwright.gitops.message import CommitIdentity
from rollwright.secrets import SecretRef
from tests.handoff.regions import Region, digest_of

TARGET = RegionTarget(service="api", environment="staging", region="us-east-1")
APP = TARGET.app_name("{service}-{env}-{region}")
TOKEN_ENV = "TEST_HANDOFF_ARGOCD_TOKEN"
# No pause: straight on. (Not `[]`: Argo Rollouts drops an empty `steps`, so Argo CD would compare OutOfSync.)
UNPAUSED = [CanaryStep(weight=50)]
# Paused until an action moves it on: a canary that never finishes by itself.
PAUSED = [CanaryStep(weight=25, pause="10m"), CanaryStep(weight=75)]
# Each pause long enough for several polls (200 ms) even though the controller may end it up to 1 s early.
WALKED = [CanaryStep(weight=20, pause="2s"), CanaryStep(weight=50, pause="2s"), CanaryStep(weight=80, pause="2s")]


def activities(server: str, *, manage_applications: bool = True) -> dict[str, Any]:
    """The hand-off activities as a worker builds them, its token read from TOKEN_ENV at each call."""
    config = RollwrightConfig(
        services=[
            ServiceConfig(
                name="api",
                image="registry.local:5000/shop/api",
                environments=[EnvironmentConfig(name="staging", waves=[["us-east-1"]])],
            )
        ],
        # Never reached: each test using this ends before Argo CD would read the repository.
        gitops=GitOpsConfig(repo="/nonexistent/gitops.git"),
        argocd=ArgoCDConfig(
            server=server,
            token=SecretRef(env=TOKEN_ENV),
            poll_interval="200ms",
            manage_applications=manage_applications,
        ),
    )
    return {fn.__name__: fn for fn in create_activities(config)}


def request_for(region: Region, revision: str, tag: str, deadline: float) -> HandoffInput:
    return HandoffInput(
        target=region.target,
        app_name=region.app,
        revision=revision,
        digest=digest_of(tag),
        progress_deadline_seconds=deadline,
    )


async def test_a_healthy_canary_is_followed_step_by_step(region: Region) -> None:
    first = await region.hand_off("v1", WALKED)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    sha = await region.commit("v2", WALKED)

    result = await region.follow("v2", sha)

    assert result == HandoffResult(outcome=HandoffOutcome.HEALTHY, revision=sha, step_index=6, weight=100)
    beats = [beat.progress for beat in region.beats]
    assert beats[0].stage is Stage.SYNCING
    following = [beat for beat in beats if beat.stage is Stage.FOLLOWING]
    steps = [beat.step_index for beat in following if beat.step_index is not None]
    weights = [beat.weight for beat in following if beat.weight is not None]
    assert steps == sorted(steps), "steps only move forward"
    assert weights == sorted(weights)
    assert len(set(steps)) >= 4, f"followed too coarsely: {steps}"
    assert {20, 50, 80} <= set(weights), weights
    assert following[-1].phase == "Healthy"


async def test_a_canary_that_never_finishes_ends_at_our_deadline_across_attempts_and_at_once_when_cancelled(
    region: Region,
) -> None:
    first = await region.hand_off("v1", PAUSED)  # a first version goes straight to stable: nothing to pause
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    sha = await region.commit("v2", PAUSED)

    late = await region.follow("v2", sha, deadline=8.0)

    assert late.outcome is HandoffOutcome.CANARY_FAILED
    assert late.reason is not None
    assert "progress deadline passed at step 1/3" in late.reason, late.reason

    # A third attempt whose first was scheduled 55 s ago gets what is left of a 60 s deadline, not a fresh 60 s.
    retry = ActivityEnvironment()
    now = datetime.now(UTC)
    retry.info = dataclasses.replace(
        retry.info, attempt=3, scheduled_time=now - timedelta(seconds=55), current_attempt_scheduled_time=now
    )
    started = time.monotonic()
    retried: HandoffResult = await retry.run(region.acts["sync_and_follow"], request_for(region, sha, "v2", 60.0))
    spent = time.monotonic() - started
    assert retried.outcome is HandoffOutcome.CANARY_FAILED
    assert retried.reason is not None
    assert "progress deadline" in retried.reason, retried.reason
    assert 5 <= spent < 15, f"the third attempt got {spent:.1f} s"

    # Cancelled (the workflow aborts, or the worker shuts down) while it follows: it stops at once.
    cancelled = ActivityEnvironment()
    beats: list[FollowProgress] = []
    cancelled.on_heartbeat = lambda *details: beats.append(FollowProgress.model_validate(details[0]))
    following = asyncio.create_task(
        cancelled.run(region.acts["sync_and_follow"], request_for(region, sha, "v2", 900.0))
    )
    for _ in range(300):
        if any((b.stage, b.step_index, b.phase) == (Stage.FOLLOWING, 1, "Paused") for b in beats):
            break
        await asyncio.sleep(0.2)
    else:
        following.cancel()
        raise AssertionError(f"never followed the paused canary; last: {beats[-3:]}")

    cancelled.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(following, 1.0)


async def test_the_hand_off_creates_the_regions_application_and_puts_a_drifted_one_right(
    region: Region, local_cluster: LocalCluster
) -> None:
    async with ArgoCDClient(region.client_config) as client:
        with pytest.raises(ArgoCDPermissionError):  # Argo CD's answer for an application that is not there
            await client.get_application(region.app)

        first = await region.hand_off("v1", UNPAUSED)

        assert first.outcome is HandoffOutcome.HEALTHY, first.reason
        spec = (await client.get_application(region.app)).spec
        assert spec.source is not None
        assert spec.destination is not None
        assert spec.source.repo_url.startswith("file://")
        assert (spec.source.path, spec.source.target_revision) == (region.target.gitops_path, "main")
        assert (spec.destination.server, spec.destination.namespace) == (
            local_cluster.argocd_destination,
            region.namespace,
        )
        assert spec.sync_policy is None, "Rollwright syncs to exactly its commit: no automated sync"

        # Someone points the Application elsewhere; the next hand-off puts it right before it syncs, or the sync
        # would go to a namespace that does not exist and fail.
        drifted = ApplicationPlacement(
            repo_url=spec.source.repo_url,
            path=region.target.gitops_path,
            target_revision="main",
            server=local_cluster.argocd_destination,
            namespace="somewhere-else",
        )
        await client.upsert_application(region.app, drifted)

        again = await region.hand_off("v1", UNPAUSED)

        assert again.outcome is HandoffOutcome.HEALTHY, again.reason
        destination = (await client.get_application(region.app)).spec.destination
        assert destination is not None
        assert destination.namespace == region.namespace


async def test_argocd_down_past_the_followers_budget_is_a_retryable_failure_for_temporal() -> None:
    # Nothing listens there: argocd-server is down. (No connection retries, so each try fails at once.)
    down = ArgoCDClientConfig(server=f"http://127.0.0.1:{free_port()}", connect_retries=ConnectRetries(count=0))
    budget = FollowSettings(poll_interval=0.05, unavailable=WaitBudget(seconds=0.5, max_wait=0.1))
    handoff_activity = HandoffActivities(lambda: down, budget).sync_and_follow
    request = HandoffInput(target=TARGET, app_name=APP, revision="0" * 40)

    with pytest.raises(ApplicationError) as caught:
        await asyncio.wait_for(ActivityEnvironment().run(handoff_activity, request), 5.0)

    assert (caught.value.type, caught.value.non_retryable) == ("ArgoCDUnavailableError", False)
    assert "still so after 0.5 s" in caught.value.message


async def test_wrong_token_is_a_non_retryable_auth_failure(
    local_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "stolen-and-revoked")
    acts = activities(local_cluster.argocd_url)

    request = HandoffInput(target=TARGET, app_name=APP, revision="0" * 40)

    with pytest.raises(ApplicationError) as caught:
        await asyncio.wait_for(ActivityEnvironment().run(acts["sync_and_follow"], request), 5.0)

    assert caught.value.type == ErrorType.ARGOCD_AUTH
    assert caught.value.non_retryable
    assert "rejected the token" in caught.value.message


async def test_an_unknown_application_is_a_non_retryable_failure_that_says_it_may_not_exist(
    local_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Applications that Rollwright does not keep must exist already; Argo CD answers 403 for one that does not.
    monkeypatch.setenv(TOKEN_ENV, local_cluster.argocd_token)
    acts = activities(local_cluster.argocd_url, manage_applications=False)
    app = f"api-staging-nowhere-{uuid.uuid4().hex[:6]}"

    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            acts["sync_and_follow"], HandoffInput(target=TARGET, app_name=app, revision="0" * 40)
        )

    assert caught.value.type == ErrorType.ARGOCD_AUTH
    assert caught.value.non_retryable
    assert app in caught.value.message
    assert "the application does not exist" in caught.value.message


async def test_unset_token_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    acts = activities(f"http://127.0.0.1:{free_port()}")  # never asked: the token is read first

    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            acts["sync_and_follow"], HandoffInput(target=TARGET, app_name=APP, revision="0" * 40)
        )

    assert caught.value.type == ErrorType.CONFIG_INVALID
    assert caught.value.non_retryable
    assert TOKEN_ENV in caught.value.message


async def test_a_region_whose_manifests_were_removed_syncs_to_nothing(region: Region) -> None:
    assert (await region.hand_off("v1", UNPAUSED)).outcome is HandoffOutcome.HEALTHY
    identity = CommitIdentity(workflow_id="test-remove", target=region.target, purpose="remove")
    sha = (await region.repository.commit_region(identity, {})).sha  # what a first deploy's rollback commits
    removal = HandoffInput(target=region.target, app_name=region.app, revision=sha, progress_deadline_seconds=120)

    result: HandoffResult = await ActivityEnvironment().run(region.acts["sync_and_follow"], removal)

    assert result.outcome is HandoffOutcome.HEALTHY, result.reason
    assert result.reason == "synced; the application has no Rollout"
    async with ArgoCDClient(region.client_config) as client:
        state = (await client.get_application(region.app)).status.operation_state
        # The sync itself says it deleted the Rollout: the follower need not wait for the tree to agree.
        assert state is not None
        assert state.sync_result is not None
        assert state.sync_result.pruned("argoproj.io", "Rollout") == {(region.namespace, region.target.service)}
        for rollout in (await client.resource_tree(region.app)).managed("argoproj.io", "Rollout"):
            with contextlib.suppress(ArgoCDNotFoundError):  # the tree may list it a moment after it is gone
                live = await client.get_resource(region.app, rollout.ref())
                assert live["metadata"].get("deletionTimestamp"), "a removed region's Rollout must be on its way out"
