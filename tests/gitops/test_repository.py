"""The GitOps client against a real bare repository: first commit, idempotent retries, removals,
and concurrent deployments from several workers' clones all landing exactly once."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from rollwright.domain.identity import RegionTarget
from rollwright.gitops.message import CommitIdentity
from rollwright.gitops.repository import GitOpsRepository, GitOpsSettings

DIGEST = "sha256:" + "ab" * 32


def git(remote: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(remote), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "gitops.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


def repository(remote: Path, clone: Path) -> GitOpsRepository:
    return GitOpsRepository(GitOpsSettings(remote=f"file://{remote}", branch="main", clone_dir=clone))


def region_files(target: RegionTarget, version: str, names: tuple[str, ...] = ("rollout", "service")) -> dict[str, str]:
    return {f"{target.gitops_path}/{name}.yaml": f"kind: {name}\nversion: {version}\n" for name in names}


def identity(workflow_id: str, target: RegionTarget) -> CommitIdentity:
    return CommitIdentity(workflow_id=workflow_id, target=target, purpose="deploy")


TARGET = RegionTarget(service="shop", environment="staging", region="local-a")


async def test_first_commit_initializes_an_empty_remote_and_a_retry_finds_it(remote: Path, tmp_path: Path) -> None:
    repo = repository(remote, tmp_path / "clone")

    first = await repo.commit_region(identity("deploy-shop-1", TARGET), region_files(TARGET, "v1"), "v1.0.0", DIGEST)
    retry = await repo.commit_region(identity("deploy-shop-1", TARGET), region_files(TARGET, "v1"), "v1.0.0", DIGEST)

    assert first.created
    assert not retry.created
    assert retry.sha == first.sha == git(remote, "rev-parse", "main").strip()
    assert git(remote, "rev-list", "--count", "main").strip() == "1"
    message = git(remote, "log", "-1", "--format=%B", "main")
    assert "shop" in message.splitlines()[0]
    assert "v1.0.0" in message.splitlines()[0]
    assert f"Digest: {DIGEST}" in message
    assert "Rollwright-Workflow-Id: deploy-shop-1" in message
    assert "Rollwright-Target: shop/staging/local-a" in message
    assert "Rollwright-Purpose: deploy" in message
    assert git(remote, "show", "main:staging/local-a/shop/rollout.yaml") == "kind: rollout\nversion: v1\n"


async def test_region_directory_is_replaced_and_matching_content_makes_no_commit(remote: Path, tmp_path: Path) -> None:
    repo = repository(remote, tmp_path / "clone")
    other = RegionTarget(service="shop", environment="prod", region="eu-west-1")
    await repo.commit_region(identity("w1", other), region_files(other, "v1"), "v1", DIGEST)
    await repo.commit_region(identity("w1", TARGET), region_files(TARGET, "v1", ("rollout", "service", "old")), "v1")

    removal = await repo.commit_region(identity("w2", TARGET), region_files(TARGET, "v2"), "v2", DIGEST)
    unchanged = await repo.commit_region(identity("w3", TARGET), region_files(TARGET, "v2"), "v2", DIGEST)

    assert removal.created
    assert not unchanged.created
    assert unchanged.sha == removal.sha == git(remote, "rev-parse", "main").strip()
    tree = sorted(git(remote, "ls-tree", "-r", "--name-only", "main").split())
    assert tree == [
        "prod/eu-west-1/shop/rollout.yaml",
        "prod/eu-west-1/shop/service.yaml",
        "staging/local-a/shop/rollout.yaml",
        "staging/local-a/shop/service.yaml",
    ]
    # A removed region: empty content deletes its manifests; a note (no manifest) keeps the path Argo CD syncs.
    gone = await repo.commit_region(CommitIdentity(workflow_id="w4", target=other, purpose="remove"), {}, None, None)
    assert gone.created
    prod = [p for p in git(remote, "ls-tree", "-r", "--name-only", "main").split() if p.startswith("prod/")]
    assert prod == ["prod/eu-west-1/shop/REMOVED.md"]


async def test_concurrent_deployments_from_several_workers_each_land_exactly_once(remote: Path, tmp_path: Path) -> None:
    regions = ("r1", "r2", "r3")
    jobs = [
        (f"deploy-{service}", RegionTarget(service=service, environment="prod", region=region))
        for service in ("shop", "cart")
        for region in regions
    ]
    # Every region commit from its own worker clone, all at once: pushes race and get rejected.
    repos = [repository(remote, tmp_path / f"worker-{i}") for i in range(len(jobs))]

    outcomes = await asyncio.gather(
        *(
            repo.commit_region(identity(wf, target), region_files(target, wf), wf, DIGEST)
            for repo, (wf, target) in zip(repos, jobs, strict=True)
        )
    )
    retries = await asyncio.gather(
        *(
            repo.commit_region(identity(wf, target), region_files(target, wf), wf, DIGEST)
            for repo, (wf, target) in zip(reversed(repos), jobs, strict=True)
        )
    )

    assert all(outcome.created for outcome in outcomes)
    assert [r.sha for r in retries] == [o.sha for o in outcomes]
    history = git(remote, "log", "--format=%H %(trailers:key=Rollwright-Target,valueonly,separator=)", "main")
    targets = [line.split(" ", 1)[1] for line in history.strip().splitlines()]
    assert sorted(targets) == sorted(target.key for _, target in jobs)
    tree = git(remote, "ls-tree", "-r", "--name-only", "main").split()
    assert len(tree) == 2 * len(jobs)
