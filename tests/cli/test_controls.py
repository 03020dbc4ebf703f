"""Acceptance 5: every control command against a running deployment on the dev server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import CliStack, cli_stack
from tests.cli.doubles import digest_of


def _awaiting(environment: str) -> Any:
    def check(status: dict[str, Any]) -> bool:
        deployment = status.get("deployment")
        return bool(deployment and deployment["awaiting_approval"] == environment)

    return check


def _finished(tag: str, outcome: str) -> Any:
    def check(status: dict[str, Any]) -> bool:
        pipeline = status.get("pipeline") or {}
        recent = pipeline.get("recent") or []
        return bool(recent and recent[-1]["tag"] == tag and recent[-1]["outcome"] == outcome)

    return check


async def test_deploy_pause_resume_approve_then_history(cli: CliStack) -> None:
    deployed = await cli.run("deploy", cli.service, "v1.0.0")
    assert deployed.code == 0, deployed.err
    assert f"queued {cli.service} v1.0.0 in pipeline-{cli.service}" in deployed.out

    status = await cli.wait_for(_awaiting("prod"), "the deployment never reached the prod approval")
    regions = {(r["environment"], r["region"]): r for r in status["deployment"]["regions"]}
    assert regions[("staging", "local-a")]["phase"] == "live"
    assert regions[("staging", "local-a")]["digest"] == digest_of("v1.0.0")

    paused = await cli.run("pause", cli.service, "--reason", "checking dashboards")
    assert paused.code == 0, paused.err
    shown = await cli.run("status", cli.service)
    assert "(paused)" in shown.out or "phase: paused" in shown.out
    assert "last control: pause by alice (checking dashboards)" in shown.out
    assert (await cli.status())["deployment"]["paused"] is True

    again = await cli.run("pause", cli.service, "--reason", "twice")
    assert again.code == 1
    assert again.err.strip().endswith("cannot pause: already paused")
    assert len(again.err.strip().splitlines()) == 1

    resumed = await cli.run("resume", cli.service, "--reason", "dashboards are fine")
    assert resumed.code == 0, resumed.err
    assert (await cli.status())["deployment"]["paused"] is False

    wrong_env = await cli.run("approve", cli.service, "--reason", "ok", "--environment", "staging")
    assert wrong_env.code == 1
    assert "cannot approve staging: the deployment waits for prod" in wrong_env.err

    approved = await cli.run("approve", cli.service, "--reason", "release train", "--environment", "prod", "--json")
    assert approved.code == 0, approved.err
    assert approved.json()["control"] == "approve"
    assert approved.json()["message"] == "approved prod"

    await cli.wait_for(_finished("v1.0.0", "succeeded"), "v1.0.0 never finished")
    idle = await cli.run("status", cli.service)
    assert "live: v1.0.0" in idle.out
    assert "idle: no deployment running" in idle.out

    nothing = await cli.run("resume", cli.service, "--reason", "late")
    assert nothing.code == 1
    assert nothing.err.strip() == f"rollwright: no deployment of {cli.service} is running"

    history = await cli.run("history", cli.service, "--json")
    assert history.code == 0, history.err
    [past] = history.json()["deployments"]
    assert past["tag"] == "v1.0.0"
    assert past["outcome"] == "succeeded"
    assert past["status"] == "completed"


async def test_abort_rolls_back_and_shows_in_history(cli: CliStack) -> None:
    assert (await cli.run("deploy", cli.service, "v2.0.0")).code == 0
    await cli.wait_for(_awaiting("prod"), "v2.0.0 never reached the prod approval")

    # --environment guards against acting on the wrong stage of the rollout.
    wrong = await cli.run("abort", cli.service, "--reason", "x", "--environment", "staging")
    assert wrong.code == 1
    assert wrong.err.strip().endswith("is in prod, not staging")
    assert (await cli.status())["deployment"]["audit"] == []

    aborted = await cli.run("abort", cli.service, "--reason", "error budget burnt", "--environment", "prod")
    assert aborted.code == 0, aborted.err
    assert "aborting" in aborted.out

    await cli.wait_for(_finished("v2.0.0", "aborted"), "v2.0.0 was never aborted")
    history = await cli.run("history", cli.service)
    assert history.code == 0
    assert "v2.0.0" in history.out
    assert "aborted" in history.out


async def test_status_shows_the_post_deploy_watch(temporal_env: WorkflowEnvironment, tmp_path: Path) -> None:
    watched = {
        "approval": "none",
        "prometheus": "http://prometheus.monitoring:9090",
        "verification": {
            "checks": [{"name": "error-ratio", "query": "errors", "success_condition": "result <= 0.05"}],
            "watch": "1h",
        },
    }
    async with cli_stack(temporal_env, tmp_path, prod=watched) as cli:
        deployed = await cli.run("deploy", cli.service, "v1.0.0")
        assert deployed.code == 0, deployed.err

        def watching(status: dict[str, Any]) -> bool:
            deployment = status.get("deployment")
            return bool(deployment and deployment["watching_until"])

        await cli.wait_for(watching, "the deployment never started its watch")
        shown = await cli.run("status", cli.service)

    assert "phase: watching" in shown.out
    assert "watching until 20" in shown.out
    assert " UTC" in shown.out
