"""The hand-off activities against the Argo CD stand-in and a real GitOps repository."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import ErrorType, HandoffInput, HandoffOutcome, HandoffResult, RolloutActionInput
from activities.handoff import HandoffActivities, create_activities
from argocd_standin.process import RunningStandin, run_standin
from rollwright.argocd import ArgoCDClient, ArgoCDClientConfig, FollowSettings, WaitBudget
from rollwright.argocd.client import ApplicationPlacement
from rollwright.config.models import (
    ArgoCDConfig,
    EnvironmentConfig,
    GitOpsConfig,
    RollwrightConfig,
    ServiceConfig,
)
from rollwright.domain.identity import RegionTarget
from rollwright.secrets import SecretRef
from tests.argocd_standin.gitops_repo import GitOpsRepo, digest_for

TARGET = RegionTarget(service="api", environment="staging", region="local-a")
APP = TARGET.app_name("{service}-{env}-{region}")
TOKEN_ENV = "TEST_HANDOFF_ARGOCD_TOKEN"
MANUAL_STEPS: list[dict[str, Any]] = [{"setWeight": 25}, {"pause": {}}, {"setWeight": 75}]


def activities(standin: RunningStandin, monkeypatch: pytest.MonkeyPatch, token: str | None = None) -> dict[str, Any]:
    monkeypatch.setenv(TOKEN_ENV, token or standin.token)
    config = RollwrightConfig(
        services=[
            ServiceConfig(
                name="api",
                image="registry.local:5000/shop/api",
                environments=[EnvironmentConfig(name="staging", waves=[["local-a"]])],
            )
        ],
        gitops=GitOpsConfig(repo=str(standin.state_file)),
        argocd=ArgoCDConfig(server=standin.url, token=SecretRef(env=TOKEN_ENV), poll_interval=0.02),
    )
    return {fn.__name__: fn for fn in create_activities(config)}


def handoff(revision: str, tag: str, deadline: float = 60.0) -> HandoffInput:
    return HandoffInput(
        target=TARGET, app_name=APP, revision=revision, digest=digest_for(tag), progress_deadline_seconds=deadline
    )


async def run_handoff(
    acts: dict[str, Any], request: HandoffInput, beats: list[dict[str, Any]] | None = None
) -> HandoffResult:
    env = ActivityEnvironment()
    if beats is not None:
        env.on_heartbeat = lambda *details: beats.append(details[0])
    result: HandoffResult = await env.run(acts["sync_and_follow"], request)
    return result


async def live_rollout(standin: RunningStandin) -> dict[str, Any]:
    config = ArgoCDClientConfig(server=standin.url, token=SecretStr(standin.token))
    async with ArgoCDClient(config) as client:
        ref = (await client.resource_tree(APP)).managed("argoproj.io", "Rollout")[0].ref()
        return await client.get_resource(APP, ref)


async def first_version(acts: dict[str, Any], gitops: GitOpsRepo) -> None:
    """The first version of a Rollout goes straight to stable (as in Argo Rollouts); canaries start after it."""
    result = await run_handoff(acts, handoff(gitops.deploy("staging", "local-a", "api", "v1"), "v1"))
    assert result.outcome is HandoffOutcome.HEALTHY


async def wait_for(beats: list[dict[str, Any]], predicate: Callable[[dict[str, Any]], bool]) -> None:
    for _ in range(500):
        if any(predicate(beat) for beat in beats):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no heartbeat matched; last: {beats[-3:]}")


def paused_at_manual_step(beat: dict[str, Any]) -> bool:
    return (beat["stage"], beat["step_index"], beat["phase"]) == ("following", 1, "Paused")


async def test_healthy_canary_is_followed_step_by_step(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)
    # Pauses of 60 simulated seconds (300 ms here) leave room for several polls per step, even on a busy machine.
    minute: dict[str, Any] = {"pause": {"duration": "60s"}}
    canary = [{"setWeight": 20}, minute, {"setWeight": 50}, minute, {"setWeight": 80}, minute]
    sha = gitops.deploy("staging", "local-a", "api", "v2", steps=canary)
    beats: list[dict[str, Any]] = []

    result = await run_handoff(acts, handoff(sha, "v2"), beats)

    assert result == HandoffResult(outcome=HandoffOutcome.HEALTHY, revision=sha, step_index=6, weight=100)
    assert beats[0]["stage"] == "syncing"
    following = [b for b in beats if b["stage"] == "following"]
    steps: list[int] = [b["step_index"] for b in following]
    weights: list[int] = [b["weight"] for b in following]
    assert steps == sorted(steps), "steps only move forward"
    assert weights == sorted(weights)
    assert len(set(steps)) >= 4, f"followed too coarsely: {steps}"
    assert {20, 50, 80} <= set(weights)
    assert following[-1]["phase"] == "Healthy"


async def test_version_set_to_fail_ends_canary_failed_with_the_analysis_message(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)
    await standin.fail_versions(digests=[digest_for("v2")])

    result = await run_handoff(acts, handoff(gitops.deploy("staging", "local-a", "api", "v2"), "v2"))

    assert result.outcome is HandoffOutcome.CANARY_FAILED
    assert result.reason is not None
    assert 'Metric "success-rate" assessed Failed' in result.reason
    live = await live_rollout(standin)
    assert (live["status"]["phase"], live["status"]["abort"]) == ("Degraded", True)


async def test_version_matching_a_tag_rule_fails_only_in_its_region(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)
    await standin.fail_versions(tag_pattern=r"-bad$", regions=["eu-west-1"])
    elsewhere = await run_handoff(acts, handoff(gitops.deploy("staging", "local-a", "api", "v2-bad"), "v2-bad"))

    await standin.fail_versions(tag_pattern=r"-bad$", regions=["local-a"])
    here = await run_handoff(acts, handoff(gitops.deploy("staging", "local-a", "api", "v3-bad"), "v3-bad"))

    assert elsewhere.outcome is HandoffOutcome.HEALTHY
    assert here.outcome is HandoffOutcome.CANARY_FAILED


async def test_abort_action_turns_the_rollout_degraded(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)
    sha = gitops.deploy("staging", "local-a", "api", "v2", steps=MANUAL_STEPS)
    beats: list[dict[str, Any]] = []
    follow = asyncio.create_task(run_handoff(acts, handoff(sha, "v2"), beats))
    await wait_for(beats, paused_at_manual_step)

    await ActivityEnvironment().run(
        acts["abort_rollout"], RolloutActionInput(target=TARGET, app_name=APP, reason="engineer abort")
    )

    result = await asyncio.wait_for(follow, 10)
    assert result.outcome is HandoffOutcome.CANARY_FAILED
    assert result.reason is not None
    assert result.reason.startswith("RolloutAborted")
    live = await live_rollout(standin)
    assert live["status"]["abort"] is True
    assert live["status"]["phase"] == "Degraded"


async def test_the_hand_off_creates_or_updates_the_regions_application_first(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed: list[tuple[str, ApplicationPlacement]] = []
    original = ArgoCDClient.upsert_application

    async def recording(self: ArgoCDClient, name: str, placement: ApplicationPlacement) -> Any:
        placed.append((name, placement))
        return await original(self, name, placement)

    monkeypatch.setattr(ArgoCDClient, "upsert_application", recording)
    acts = activities(standin, monkeypatch)

    await first_version(acts, gitops)

    assert placed == [
        (
            APP,
            ApplicationPlacement(
                repo_url=str(standin.state_file),
                path="staging/local-a/api",
                target_revision="main",
                server="https://kubernetes.default.svc",
                namespace="staging",
            ),
        )
    ]


async def test_abort_leaves_a_rollout_that_runs_its_stable_version_alone(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A region stopped after its commit but before its sync: its Rollout still runs the stable template.
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)

    await ActivityEnvironment().run(
        acts["abort_rollout"], RolloutActionInput(target=TARGET, app_name=APP, reason="a sibling's canary failed")
    )

    live = await live_rollout(standin)
    assert "abort" not in live["status"]
    assert live["status"]["phase"] == "Healthy"
    # And the region's rollback (the same stable template, synced again) is healthy.
    again = await run_handoff(acts, handoff(gitops.deploy("staging", "local-a", "api", "v1"), "v1"))
    assert again.outcome is HandoffOutcome.HEALTHY


async def test_our_progress_deadline_fails_a_canary_that_never_finishes(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)
    sha = gitops.deploy("staging", "local-a", "api", "v2", steps=MANUAL_STEPS)

    result = await run_handoff(acts, handoff(sha, "v2", deadline=1.0))

    assert result.outcome is HandoffOutcome.CANARY_FAILED
    assert result.reason is not None
    assert "progress deadline passed at step 1/3" in result.reason


async def test_a_retried_attempt_gets_only_what_is_left_of_the_deadline(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)
    sha = gitops.deploy("staging", "local-a", "api", "v2", steps=MANUAL_STEPS)
    first_scheduled = datetime.now(UTC) - timedelta(seconds=59)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, attempt=3, scheduled_time=first_scheduled, current_attempt_scheduled_time=datetime.now(UTC)
    )

    started = time.monotonic()
    result: HandoffResult = await env.run(acts["sync_and_follow"], handoff(sha, "v2", deadline=60.0))

    assert result.outcome is HandoffOutcome.CANARY_FAILED
    assert result.reason is not None
    assert "progress deadline passed" in result.reason
    assert time.monotonic() - started < 15, "the third attempt must not get a fresh 60 s"


async def test_cancellation_stops_following_promptly(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)
    sha = gitops.deploy("staging", "local-a", "api", "v2", steps=MANUAL_STEPS)
    env = ActivityEnvironment()
    beats: list[dict[str, Any]] = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    follow = asyncio.create_task(env.run(acts["sync_and_follow"], handoff(sha, "v2")))
    await wait_for(beats, paused_at_manual_step)

    env.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(follow, 1.0)


async def test_region_whose_manifests_were_removed_syncs_to_nothing(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    await first_version(acts, gitops)
    sha = gitops.remove_region("staging", "local-a", "api")

    result = await run_handoff(acts, HandoffInput(target=TARGET, app_name=APP, revision=sha))

    assert result.outcome is HandoffOutcome.HEALTHY
    assert result.reason == "synced; the application has no Rollout"
    config = ArgoCDClientConfig(server=standin.url, token=SecretStr(standin.token))
    async with ArgoCDClient(config) as client:
        assert (await client.resource_tree(APP)).nodes == []


async def test_flaky_slow_argocd_still_reaches_the_right_outcomes(
    gitops: GitOpsRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slower simulated time, so the canary outlasts several 200 ms round trips.
    async with run_standin(repo=gitops.bare, workdir=tmp_path, speed=20) as standin:
        acts = activities(standin, monkeypatch)
        await first_version(acts, gitops)
        await standin.fail_versions(digests=[digest_for("v3")])
        await standin.set_faults(error_rate=0.3, latency_ms=200, seed=11)

        good = await run_handoff(acts, handoff(gitops.deploy("staging", "local-a", "api", "v2"), "v2"))
        bad = await run_handoff(acts, handoff(gitops.deploy("staging", "local-a", "api", "v3"), "v3"))

        log = standin.log_file.read_text()
        injected = (await standin.stats())["injected_faults"]
    assert injected >= 2, "the faults were really injected"
    assert good.outcome is HandoffOutcome.HEALTHY, good.reason
    assert (good.step_index, good.weight) == (6, 100)
    assert bad.outcome is HandoffOutcome.CANARY_FAILED
    assert bad.reason is not None
    assert 'Metric "success-rate" assessed Failed' in bad.reason
    synced = [json.loads(line) for line in log.splitlines() if '"event": "synced"' in line]
    assert len(synced) >= 3, "every hand-off reached Argo CD through the faults"


async def test_argocd_down_past_the_followers_budget_is_a_retryable_failure_for_temporal(
    gitops: GitOpsRepo, standin: RunningStandin
) -> None:
    sha = gitops.deploy("staging", "local-a", "api", "v1")
    await standin.set_faults(error_rate=1.0, seed=7)
    config = ArgoCDClientConfig(server=standin.url, token=SecretStr(standin.token))
    budget = FollowSettings(poll_interval=0.05, unavailable=WaitBudget(seconds=0.5, max_wait=0.1))
    handoff_activity = HandoffActivities(lambda: config, budget).sync_and_follow

    with pytest.raises(ApplicationError) as caught:
        await asyncio.wait_for(ActivityEnvironment().run(handoff_activity, handoff(sha, "v1")), 5.0)

    assert (caught.value.type, caught.value.non_retryable) == ("ArgoCDUnavailableError", False)
    assert "still so after 0.5 s" in caught.value.message


async def test_wrong_token_is_a_non_retryable_auth_failure(
    gitops: GitOpsRepo, standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch, token="stolen-and-revoked")
    sha = gitops.deploy("staging", "local-a", "api", "v1")

    with pytest.raises(ApplicationError) as caught:
        await asyncio.wait_for(run_handoff(acts, handoff(sha, "v1")), 2.0)

    assert caught.value.type == ErrorType.ARGOCD_AUTH
    assert caught.value.non_retryable
    assert "rejected the token" in caught.value.message


async def test_unknown_application_is_a_non_retryable_not_found(
    standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    acts = activities(standin, monkeypatch)
    request = HandoffInput(target=TARGET, app_name="api-staging-nowhere", revision="0" * 40)

    with pytest.raises(ApplicationError) as caught:
        await run_handoff(acts, request)

    assert caught.value.type == ErrorType.ARGOCD_NOT_FOUND
    assert caught.value.non_retryable


async def test_unset_token_variable_is_a_config_error(standin: RunningStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    acts = activities(standin, monkeypatch)
    monkeypatch.delenv(TOKEN_ENV)

    with pytest.raises(ApplicationError) as caught:
        await run_handoff(acts, HandoffInput(target=TARGET, app_name=APP, revision="0" * 40))

    assert caught.value.type == ErrorType.CONFIG_INVALID
    assert TOKEN_ENV in caught.value.message
