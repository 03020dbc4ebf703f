"""Acceptance 5: every control command against a deployment a lane runs on the dev server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import CliStack, cli_stack
from tests.cli.doubles import digest_of


def awaiting(environment: str) -> Any:
    def check(lanes: dict[str, Any]) -> bool:
        deployment = lanes[environment].get("deployment")
        return bool(deployment and deployment["awaiting_approval"] == environment)

    return check


def finished(environment: str, tag: str, outcome: str) -> Any:
    def check(lanes: dict[str, Any]) -> bool:
        recent = (lanes[environment].get("lane") or {}).get("recent") or []
        return bool(recent and recent[-1]["tag"] == tag and recent[-1]["outcome"] == outcome)

    return check


def live(environment: str, tag: str) -> Any:
    def check(lanes: dict[str, Any]) -> bool:
        lane = lanes[environment].get("lane") or {}
        return bool(lane.get("live") and lane["live"]["tag"] == tag and not lane["current_workflow_id"])

    return check


async def test_deploy_pause_resume_approve_then_history(cli: CliStack) -> None:
    deployed = await cli.run("deploy", cli.service, "v1.0.0")
    assert deployed.code == 0, deployed.err
    assert f"queued {cli.service} v1.0.0 in lane-{cli.service}-staging" in deployed.out

    # staging goes live, then offers v1.0.0 to prod (after: 0), whose deployment waits for its approval.
    lanes = await cli.wait_for(awaiting("prod"), "v1.0.0 never reached the prod approval")
    [region] = lanes["staging"]["regions"]
    assert (region["region"], region["tag"], region["digest"]) == ("local-a", "v1.0.0", digest_of("v1.0.0"))
    assert lanes["prod"]["deployment"]["tag"] == "v1.0.0"

    paused = await cli.run("pause", cli.service, "--reason", "checking dashboards")
    assert paused.code == 0, paused.err
    assert paused.out.startswith(f"deploy-{cli.service}") or "pause" in paused.out
    shown = await cli.run("status", cli.service)
    assert "(paused)" in shown.out or "phase: paused" in shown.out
    assert "last control: pause by alice (checking dashboards)" in shown.out
    assert (await cli.status())["prod"]["deployment"]["paused"] is True

    again = await cli.run("pause", cli.service, "--reason", "twice")
    assert again.code == 1
    assert again.err.strip().endswith("cannot pause: already paused")
    assert len(again.err.strip().splitlines()) == 1

    resumed = await cli.run("resume", cli.service, "--reason", "dashboards are fine")
    assert resumed.code == 0, resumed.err
    assert (await cli.status())["prod"]["deployment"]["paused"] is False

    wrong_env = await cli.run("approve", cli.service, "--reason", "ok", "--environment", "staging")
    assert wrong_env.code == 1
    assert wrong_env.err.strip() == f"rollwright: no deployment of {cli.service} is running in staging"

    approved = await cli.run("approve", cli.service, "--reason", "release train", "--environment", "prod", "--json")
    assert approved.code == 0, approved.err
    assert (approved.json()["control"], approved.json()["environment"]) == ("approve", "prod")
    assert approved.json()["message"] == "approved prod"

    await cli.wait_for(finished("prod", "v1.0.0", "succeeded"), "v1.0.0 never finished in prod")
    idle = await cli.run("status", cli.service)
    assert idle.out.count("live: v1.0.0") == 2
    assert idle.out.count("idle: no deployment running") == 2

    nothing = await cli.run("resume", cli.service, "--reason", "late")
    assert nothing.code == 1
    assert nothing.err.strip() == f"rollwright: no deployment of {cli.service} is running"

    history = await cli.run("history", cli.service, "--json")
    assert history.code == 0, history.err
    past = history.json()["deployments"]
    assert [(item["tag"], item["outcome"], item["status"]) for item in past] == [
        ("v1.0.0", "succeeded", "completed"),
        ("v1.0.0", "succeeded", "completed"),
    ]


async def test_abort_rolls_back_and_shows_in_history(cli: CliStack) -> None:
    assert (await cli.run("deploy", cli.service, "v2.0.0")).code == 0
    await cli.wait_for(awaiting("prod"), "v2.0.0 never reached the prod approval")

    # --environment picks the lane: staging runs nothing now.
    wrong = await cli.run("abort", cli.service, "--reason", "x", "--environment", "staging")
    assert wrong.code == 1
    assert wrong.err.strip().endswith("is running in staging")
    assert (await cli.status())["prod"]["deployment"]["audit"] == []

    aborted = await cli.run("abort", cli.service, "--reason", "error budget burnt", "--environment", "prod")
    assert aborted.code == 0, aborted.err
    assert "aborting" in aborted.out

    await cli.wait_for(finished("prod", "v2.0.0", "aborted"), "v2.0.0 was never aborted")
    history = await cli.run("history", cli.service)
    assert history.code == 0
    assert "v2.0.0" in history.out
    assert "aborted" in history.out


async def test_a_control_with_deployments_in_two_lanes_asks_which(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # staging's post-deploy watch keeps its deployment running; prod is pinned and waits for its approval.
    watched = {
        "prometheus": "http://prometheus.monitoring:9090",
        "verification": {
            "checks": [{"name": "error-ratio", "query": "errors", "success_condition": "result <= 0.05"}],
            "watch": "1h",
        },
    }
    async with cli_stack(temporal_env, tmp_path, staging=watched) as cli:
        pinned = await cli.run("deploy", cli.service, "v0.9.0", "--env", "prod", "--reason", "known good")
        assert pinned.code == 0, pinned.err
        assert (await cli.run("deploy", cli.service, "v1.0.0")).code == 0

        def both_run(lanes: dict[str, Any]) -> bool:
            staging = lanes["staging"].get("deployment") or {}
            return bool(staging.get("watching_until")) and awaiting("prod")(lanes)

        await cli.wait_for(both_run, "staging never watched while prod waited")
        shown = await cli.run("status", cli.service)
        which = await cli.run("pause", cli.service, "--reason", "x")
        picked = await cli.run("pause", cli.service, "--reason", "look", "--environment", "staging", "--json")

    assert which.code == 2
    assert which.err.strip() == "rollwright: error: deployments run in staging and prod; say --environment"
    assert picked.code == 0, picked.err
    assert picked.json()["environment"] == "staging"
    assert "phase: watching" in shown.out
    assert "watching until 20" in shown.out
    assert " UTC" in shown.out
