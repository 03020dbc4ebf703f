"""One service in one region of the local cluster, deployed as Rollwright deploys it: its manifests committed to a
real GitOps repository, then handed off by Rollwright's own activity to the real Argo CD, whose Application Rollwright
creates itself. Shared by the hand-off tests and the hand-off benchmark (bench/cluster.py).

    async with open_region(local_cluster, tmp_path) as region:
        result = await region.hand_off("v1", steps)
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from temporalio.testing import ActivityEnvironment

from activities.contracts import HandoffInput, HandoffResult
from activities.handoff import create_activities
from devstack.cluster import LocalCluster
from rollwright.argocd import ArgoCDClientConfig
from rollwright.argocd.follow import FollowProgress
from rollwright.config.models import ArgoCDConfig, EnvironmentConfig, GitOpsConfig, RollwrightConfig, ServiceConfig
from rollwright.domain.digest import sha256_digest
from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryCheck, CanaryStep
from rollwright.gitops.message import CommitIdentity
from rollwright.gitops.repository import GitOpsRepository, GitOpsSettings
from rollwright.secrets import SecretRef
from rollwright.stacks import k8s_manifests as k8s

IMAGE = "registry.local:5000/shop/api"
REGION = "us-east-1"
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


@dataclass(frozen=True)
class Beat:
    """One progress report of a running hand-off (its heartbeat), and when it came (time.monotonic())."""

    at: float
    progress: FollowProgress


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
    # The last hand-off's progress reports, in order.
    beats: list[Beat] = field(default_factory=list)

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

    async def follow(self, tag: str, sha: str, deadline: float = 900.0) -> HandoffResult:
        """Rollwright's hand-off activity for the commit `sha` of `tag`, its progress kept in `beats`."""
        request = HandoffInput(
            target=self.target,
            app_name=self.app,
            revision=sha,
            digest=digest_of(tag),
            progress_deadline_seconds=deadline,
        )
        self.beats = []
        env = ActivityEnvironment()
        env.on_heartbeat = lambda *details: self.beats.append(
            Beat(at=time.monotonic(), progress=FollowProgress.model_validate(details[0]))
        )
        result: HandoffResult = await env.run(self.acts["sync_and_follow"], request)
        return result

    async def hand_off(self, tag: str, steps: list[CanaryStep], deadline: float = 900.0) -> HandoffResult:
        return await self.follow(tag, await self.commit(tag, steps), deadline)

    def waits(self) -> list[str]:
        """What the last hand-off reported while it waited for Argo CD to come right (unavailable, busy)."""
        return [
            b.progress.message for b in self.beats if b.progress.message and b.progress.message.startswith("waiting")
        ]


@contextlib.asynccontextmanager
async def open_region(
    cluster: LocalCluster,
    workdir: Path,
    *,
    server: str | None = None,
    poll_interval: str = "200ms",
    streams: bool = True,
) -> AsyncIterator[Region]:
    """A fresh service (unique name) in REGION, with its own GitOps repository under `workdir`; Rollwright reaches
    Argo CD at `server` (default: the cluster's argocd-server; a test puts a proxy in between) and polls it every
    `poll_interval` while a watch stream is down. Its namespace is deleted at exit."""
    suffix = uuid.uuid4().hex[:6]
    service, environment = f"api-{suffix}", f"t{suffix}"
    target = RegionTarget(service=service, environment=environment, region=REGION)
    namespace = await cluster.create_namespace(target.fill("{env}-{region}"), region=REGION)
    bare = workdir / "gitops.git"
    repository = GitOpsRepository(GitOpsSettings(remote=str(bare), clone_dir=workdir / "clone"))
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], check=True)
    token_file = workdir / "argocd-token"
    token_file.write_text(cluster.argocd_token)
    config = RollwrightConfig(
        services=[
            ServiceConfig(
                name=service, image=IMAGE, environments=[EnvironmentConfig(name=environment, waves=[[REGION]])]
            )
        ],
        gitops=GitOpsConfig(repo=str(bare)),
        argocd=ArgoCDConfig(
            server=server or cluster.argocd_url,
            token=SecretRef(file=str(token_file)),
            poll_interval=poll_interval,
            streams=streams,
            repo_url=f"file://{bare}",
            namespace="{env}-{region}",
        ),
    )
    acts = {fn.__name__: fn for fn in create_activities(config)}
    client_config = ArgoCDClientConfig(server=cluster.argocd_url, token=SecretStr(cluster.argocd_token))
    app = target.app_name(config.argocd.app)
    try:
        yield Region(
            target=target, namespace=namespace, repository=repository, acts=acts, app=app, client_config=client_config
        )
    finally:
        await cluster.delete_applications([app])
        await cluster.delete_namespace(namespace)
