"""The stand-in's behaviour: the simulated controllers, persistence, auto-sync, rules and auth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from argocd_standin.process import RunningStandin, run_standin
from rollwright.argocd import ArgoCDClient, ArgoCDClientConfig, ResourceRef
from rollwright.argocd.models import Application
from tests.argocd_standin.gitops_repo import GitOpsRepo, digest_for

APP = "api-staging-local-a"
ROLLOUT = ResourceRef(group="argoproj.io", version="v1alpha1", kind="Rollout", name="api", namespace="default")
ANALYSIS_STEPS: list[dict[str, Any]] = [
    {"setWeight": 20},
    {"analysis": {"templates": [{"templateName": "success-rate"}]}},
    {"setWeight": 60},
    {"pause": {"duration": "5s"}},
]


def client(standin: RunningStandin) -> ArgoCDClient:
    return ArgoCDClient(ArgoCDClientConfig(server=standin.url, token=SecretStr(standin.token)))


async def until_app(argocd: ArgoCDClient, check: Callable[[Application], bool], what: str) -> Application:
    for _ in range(500):
        app = await argocd.get_application(APP, refresh="normal")
        if check(app):
            return app
        await asyncio.sleep(0.01)
    raise AssertionError(f"{APP} never {what}; last status: {app.status}")


async def until_rollout(argocd: ArgoCDClient, check: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    for _ in range(500):
        live = await argocd.get_resource(APP, ROLLOUT)
        if check(live["status"]):
            return live
        await asyncio.sleep(0.01)
    raise AssertionError(f"Rollout never {what}; last status: {live['status']}")


def synced_to(sha: str) -> Callable[[Application], bool]:
    def check(app: Application) -> bool:
        state = app.status.operation_state
        return app.operation is None and state is not None and state.revision == sha and state.phase == "Succeeded"

    return check


def failed_with(app: Application, text: str) -> bool:
    state = app.status.operation_state
    return app.operation is None and state is not None and text in (state.message or "")


async def sync(argocd: ArgoCDClient, sha: str) -> None:
    await argocd.sync(APP, sha)
    await until_app(argocd, synced_to(sha), f"synced {sha}")


async def test_restart_keeps_applications_and_rollouts(gitops: GitOpsRepo, tmp_path: Path) -> None:
    sha = gitops.deploy("staging", "local-a", "api", "v1")
    state = tmp_path / "standin-state.json"
    async with run_standin(repo=gitops.bare, workdir=tmp_path, state_file=state, speed=200) as first:
        await first.register_app(APP, "staging/local-a/api", service="api", environment="staging", region="local-a")
        async with client(first) as argocd:
            await sync(argocd, sha)
            await until_rollout(argocd, lambda s: s.get("phase") == "Healthy", "became Healthy")
    async with (
        run_standin(repo=gitops.bare, workdir=tmp_path, state_file=state, speed=200) as second,
        client(second) as argocd,
    ):
        app = await argocd.get_application(APP)
        live = await argocd.get_resource(APP, ROLLOUT)
    assert app.status.sync is not None
    assert app.status.sync.revision == sha
    assert app.metadata.labels["rollwright.io/region"] == "local-a"
    assert live["status"]["phase"] == "Healthy"
    assert live["spec"]["template"]["spec"]["containers"][0]["image"].endswith(digest_for("v1"))


async def test_auto_sync_follows_the_branch(gitops: GitOpsRepo, standin: RunningStandin) -> None:
    await standin.register_app(APP, "staging/local-a/api", automated=True)
    async with client(standin) as argocd:
        first = gitops.deploy("staging", "local-a", "api", "v1")
        await until_app(argocd, synced_to(first), "auto-synced v1")
        second = gitops.deploy("staging", "local-a", "api", "v2")
        app = await until_app(argocd, synced_to(second), "auto-synced v2")
        live = await until_rollout(argocd, lambda s: s.get("phase") == "Healthy", "finished v2")
    assert app.spec.sync_policy is not None
    assert app.spec.sync_policy.automated is not None
    assert live["status"]["stableRS"] == live["status"]["currentPodHash"]
    assert live["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"


async def test_step_analysis_failure_aborts_with_the_analysis_run_status(
    gitops: GitOpsRepo, standin: RunningStandin
) -> None:
    async with client(standin) as argocd:
        await sync(argocd, gitops.deploy("staging", "local-a", "api", "v1", steps=ANALYSIS_STEPS))
        await standin.fail_versions(digests=[digest_for("v2")], apps=[APP])
        await sync(argocd, gitops.deploy("staging", "local-a", "api", "v2", steps=ANALYSIS_STEPS))
        live = await until_rollout(argocd, lambda s: s.get("phase") == "Degraded", "degraded")
        app = await argocd.get_application(APP)

        run = live["status"]["canary"]["currentStepAnalysisRunStatus"]
        assert (run["status"], live["status"]["currentStepIndex"], live["status"]["abort"]) == ("Failed", 1, True)
        assert "Step-based analysis phase Failed" in live["status"]["message"]
        assert app.status.health is not None
        assert app.status.health.status == "Degraded"

        # retry (after the rule is lifted) runs the steps again from the start, to Healthy.
        await standin.clear_rules()
        await argocd.run_resource_action(APP, ROLLOUT, "retry")
        live = await until_rollout(argocd, lambda s: s.get("phase") == "Healthy", "recovered")
    assert live["status"]["canary"]["currentStepAnalysisRunStatus"]["status"] == "Successful"
    assert "abort" not in live["status"]


async def test_stalled_pods_hit_the_rollout_progress_deadline(gitops: GitOpsRepo, standin: RunningStandin) -> None:
    async with client(standin) as argocd:
        await sync(argocd, gitops.deploy("staging", "local-a", "api", "v1"))
        await standin.fail_versions(digests=[digest_for("v2")], mode="stall")
        sha = gitops.deploy(
            "staging", "local-a", "api", "v2", progress_deadline_seconds=10, progress_deadline_abort=True
        )
        await sync(argocd, sha)
        live = await until_rollout(argocd, lambda s: s.get("phase") == "Degraded", "hit the deadline")
    assert live["status"]["message"].startswith("RolloutAborted")
    assert "ProgressDeadlineExceeded" in live["status"]["message"]
    assert live["status"]["abort"] is True
    assert live["status"]["currentStepIndex"] == 0


async def test_bad_revisions_and_manifests_fail_the_sync_operation(gitops: GitOpsRepo, standin: RunningStandin) -> None:
    gitops.deploy("staging", "local-a", "api", "v1")
    async with client(standin) as argocd:
        await argocd.sync(APP, "0" * 40)
        app = await until_app(argocd, lambda a: a.operation is None and a.status.operation_state is not None, "ran")
        assert app.status.operation_state is not None
        assert app.status.operation_state.phase == "Failed"
        assert "unable to resolve" in (app.status.operation_state.message or "")

        broken = gitops.commit_region("staging", "local-a", "api", {"rollout.yaml": "kind: [unclosed"}, "broken")
        await argocd.sync(APP, broken)
        app = await until_app(argocd, lambda a: failed_with(a, "rollout.yaml"), "failed on the broken manifest")
    assert app.status.operation_state is not None
    assert app.status.operation_state.phase == "Failed"


async def test_every_call_but_the_version_needs_the_token(standin: RunningStandin) -> None:
    async with httpx.AsyncClient(base_url=standin.url) as http:
        version = await http.get("/api/version")
        anonymous = await http.get(f"/api/v1/applications/{APP}")
        admin = await http.put("/standin/faults", json={"error_rate": 1.0})
    assert version.status_code == 200
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == 16
    assert admin.status_code == 401
