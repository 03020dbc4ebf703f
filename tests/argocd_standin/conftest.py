from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from argocd_standin.process import RunningStandin, run_standin
from tests.argocd_standin.gitops_repo import GitOpsRepo


@pytest.fixture
def gitops(tmp_path: Path) -> GitOpsRepo:
    return GitOpsRepo(tmp_path)


@pytest.fixture
async def standin(gitops: GitOpsRepo, tmp_path: Path) -> AsyncIterator[RunningStandin]:
    async with run_standin(repo=gitops.bare, workdir=tmp_path, speed=200) as running:
        yield running
