"""The hand-off against the real thing: Rollwright's own activity syncs a Rollwright commit through the real Argo CD
(the Application created by Rollwright itself) and follows the real Argo Rollouts canary; a canary whose traffic
fails is judged by a real AnalysisRun on a real Prometheus measurement."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from temporalio.testing import ActivityEnvironment

from activities.contracts import HandoffInput, HandoffOutcome, HandoffResult, RolloutActionInput
from activities.handoff import create_activities
from devstack.cluster import LocalCluster
from devstack.prometheus import run_prometheus
from devstack.traffic import RunningTraffic, run_traffic
from rollwright.argocd import ArgoCDClient, ArgoCDClientConfig
from rollwright.config.models import ArgoCDConfig, EnvironmentConfig, GitOpsConfig, RollwrightConfig, ServiceConfig
from rollwright.domain.digest import sha256_digest
from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryCheck, CanaryStep
from rollwright.gitops.message import CommitIdentity
from rollwright.gitops.repository import GitOpsRepository, GitOpsSettings
from rollwright.secrets import SecretRef
from rollwright.stacks import k8s_manifests as k8s

IMAGE = "registry.local:5000/shop/api"
TOKEN_ENV = "RW_TEST_REAL_ARGOCD_TOKEN"
REGION = "us-east-1"
STEPS = [CanaryStep(weight=25, pause="4s"), CanaryStep(weight=50, pause="4s")]
# Long enough that only an operator's action ends it within the test.
LONG_PAUSE = [CanaryStep(weight=25, pause="10m"), CanaryStep(weight=50)]
SUCCESS_RATE = CanaryCheck(
    name="success-rate",
    query='sum(rate(http_requests_total{service="{{args.service}}",pod_template_hash="{{args.canary-hash}}",'
    'code!~"5.."}[10s])) / sum(rate(http_requests_total{service="{{args.service}}",'
    'pod_template_hash="{{args.canary-hash}}"}[10s]))',
    success_condition="result[0] >= 0.95",
    interval="3s",
    count=3,
    failure_limit=1,
    initial_delay="4s",
)


def digest_of(tag: str) -> str:
    return sha256_digest(f"real argocd {tag}".encode())


@dataclass
class Region:
    """One service in one region of the local cluster, deployed by committing and handing off as Rollwright does."""

    target: RegionTarget
    namespace: str
    repository: GitOpsRepository
    acts: dict[str, Any]
    app: str
    client_config: ArgoCDClientConfig
    analysis: CanaryAnalysis | None = None

    async def commit(self, tag: str, steps: list[CanaryStep]) -> str:
        digest = digest_of(tag)
        files = {
            k8s.ROLLOUT_FILE: k8s.render_rollout(
                self.target, IMAGE, digest, 4, steps, 8080, self.analysis, self.namespace
            ),
            k8s.SERVICE_FILE: k8s.render_service(self.target, 8080, self.namespace),
            k8s.CONFIGMAP_FILE: k8s.render_config_map(self.target, "sqlite:///x.db", {}, self.namespace),
        }
        if self.analysis is not None:
            files[k8s.ANALYSIS_FILE] = k8s.render_analysis_template(self.target, self.analysis, self.namespace)
        manifests = {f"{self.target.gitops_path}/{name}": content for name, content in files.items()}
        identity = CommitIdentity(workflow_id=f"test-{tag}", target=self.target, purpose="deploy")
        return (await self.repository.commit_region(identity, manifests, tag, digest)).sha

    async def hand_off(self, tag: str, steps: list[CanaryStep], deadline: float = 900.0) -> HandoffResult:
        sha = await self.commit(tag, steps)
        request = HandoffInput(
            target=self.target,
            app_name=self.app,
            revision=sha,
            digest=digest_of(tag),
            progress_deadline_seconds=deadline,
        )
        result: HandoffResult = await ActivityEnvironment().run(self.acts["sync_and_follow"], request)
        return result


@pytest.fixture
async def region(local_cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Region]:
    suffix = uuid.uuid4().hex[:6]
    service, environment = f"api-{suffix}", f"t{suffix}"
    target = RegionTarget(service=service, environment=environment, region=REGION)
    namespace = await local_cluster.create_namespace(target.fill("{env}-{region}"), region=REGION)
    bare = tmp_path / "gitops.git"
    repository = GitOpsRepository(GitOpsSettings(remote=str(bare), clone_dir=tmp_path / "clone"))
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], check=True)
    monkeypatch.setenv(TOKEN_ENV, local_cluster.argocd_token)
    config = RollwrightConfig(
        services=[
            ServiceConfig(
                name=service, image=IMAGE, environments=[EnvironmentConfig(name=environment, waves=[[REGION]])]
            )
        ],
        gitops=GitOpsConfig(repo=str(bare)),
        argocd=ArgoCDConfig(
            server=local_cluster.argocd_url,
            token=SecretRef(env=TOKEN_ENV),
            poll_interval="200ms",
            repo_url=f"file://{bare}",
            namespace="{env}-{region}",
        ),
    )
    acts = {fn.__name__: fn for fn in create_activities(config)}
    client_config = ArgoCDClientConfig(server=local_cluster.argocd_url, token=SecretStr(local_cluster.argocd_token))
    app = target.app_name(config.argocd.app)
    yield Region(
        target=target, namespace=namespace, repository=repository, acts=acts, app=app, client_config=client_config
    )
    await local_cluster.delete_namespace(namespace)


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


@pytest.fixture
async def measured(local_cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[tuple[RunningTraffic, str]]:
    """Simulated traffic for every Rollout of the cluster, and the real Prometheus that scrapes it."""
    async with (
        run_traffic(local_cluster.kube_url, local_cluster.kube_token, ca_file=str(local_cluster.ca_file)) as traffic,
        run_prometheus(tmp_path / "prometheus", [traffic.address]) as prometheus,
    ):
        yield traffic, prometheus.url


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
