"""A worker killed in the middle of a GitOps commit must not stop every later commit from its clone.

Found by tests/chaos (seed 5): a worker killed during the very first commit left a clone that `git init` had made
but that had no `origin` remote yet; every later attempt failed with "No such remote 'origin'" until the step's
budget ran out, so both deployments stalled. A git killed while it held one of the clone's lock files (say
`.git/index.lock`) would stop every later git command in the same way.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from rollwright.gitops.errors import GitCommandError
from tests.gitops.test_repository import DIGEST, TARGET, git, identity, region_files, repository


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "gitops.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


async def test_a_clone_whose_creation_was_killed_before_its_remote_was_added_commits(
    remote: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    subprocess.run(["git", "init", "--quiet"], cwd=clone, check=True)  # and then the worker died

    outcome = await repository(remote, clone).commit_region(
        identity("deploy-shop-1", TARGET), region_files(TARGET, "v1"), "v1.0.0", DIGEST
    )

    assert outcome.created
    assert outcome.sha == git(remote, "rev-parse", "main").strip()


async def test_a_lock_left_by_a_killed_git_is_removed_and_the_commit_lands(remote: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    repo = repository(remote, clone)
    await repo.commit_region(identity("deploy-shop-1", TARGET), region_files(TARGET, "v1"), "v1.0.0", DIGEST)
    left = [clone / ".git" / "index.lock", clone / ".git" / "refs" / "heads" / "main.lock"]
    for lock in left:
        lock.write_bytes(b"")  # what git leaves when it is killed holding them

    outcome = await repo.commit_region(identity("deploy-shop-2", TARGET), region_files(TARGET, "v2"), "v2.0.0", DIGEST)

    assert outcome.created
    assert git(remote, "rev-list", "--count", "main").strip() == "2"
    assert [lock for lock in left if lock.exists()] == []


@pytest.fixture
def live_git(tmp_path: Path) -> Iterator[Path]:
    """A git process still running in the clone (an orphan of a worker killed alone), waiting on its stdin."""
    clone = tmp_path / "clone"
    clone.mkdir()
    subprocess.run(["git", "init", "--quiet"], cwd=clone, check=True)
    proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=clone, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    yield clone
    proc.kill()
    proc.wait()


async def test_a_lock_while_a_git_still_runs_in_the_clone_is_left_to_it(remote: Path, live_git: Path) -> None:
    lock = live_git / ".git" / "index.lock"
    lock.write_bytes(b"")

    with pytest.raises(GitCommandError, match=r"index\.lock"):
        await repository(remote, live_git).commit_region(
            identity("deploy-shop-1", TARGET), region_files(TARGET, "v1"), "v1.0.0", DIGEST
        )

    assert lock.exists()
