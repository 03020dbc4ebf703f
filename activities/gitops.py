"""The GitOps commit activity (light queue): commit a region's rendered manifests and push them.

Thin over `gitops`: the one place its errors become Temporal ApplicationErrors. The manifests arrive by
reference (provision_region keeps them in the version store under their content hash) or, in histories
recorded before that, in the input; either way this may run on any worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import ActivityName, CommitInput, CommitResult, ErrorType
from activities.heartbeat import keeps_heartbeating
from activities.settings import gitops_settings
from activities.versions import shared_store, store_failure
from rollwright.config.models import RollwrightConfig
from rollwright.gitops.errors import GitOpsError, InvalidManifestPath
from rollwright.gitops.message import CommitIdentity
from rollwright.gitops.repository import GitOpsRepository
from rollwright.stacks.k8s_manifests import content_hash
from rollwright.versionstore import VersionStore, VersionStoreError


def to_application_error(exc: GitOpsError) -> ApplicationError:
    if isinstance(exc, InvalidManifestPath):
        return ApplicationError(str(exc), type=ErrorType.CONFIG_INVALID, non_retryable=True)
    return ApplicationError(str(exc), type=type(exc).__name__)


class GitOpsActivities:
    def __init__(self, config: RollwrightConfig, store: VersionStore, clone_dir: Path | None = None) -> None:
        self._repository = GitOpsRepository(gitops_settings(config, clone_dir))
        self._store = store

    @activity.defn(name=ActivityName.COMMIT_MANIFESTS)
    @keeps_heartbeating
    async def commit_manifests(self, request: CommitInput) -> CommitResult:
        activity.heartbeat(request.target.key)
        identity = CommitIdentity(workflow_id=request.workflow_id, target=request.target, purpose=request.purpose.value)
        manifests = await self._files(request)
        try:
            outcome = await self._repository.commit_region(identity, manifests, request.tag, request.digest)
        except GitOpsError as exc:
            raise to_application_error(exc) from exc
        return CommitResult(sha=outcome.sha, created=outcome.created)

    async def _files(self, request: CommitInput) -> dict[str, str]:
        if request.manifests_ref is None:
            return request.manifests
        try:
            files = await asyncio.to_thread(self._store.manifests, request.manifests_ref)
        except VersionStoreError as exc:
            raise store_failure(exc) from exc
        if content_hash(files) != request.manifests_ref:
            # Committing files other than the ones Pulumi rendered would put an unreviewed change into Git.
            raise ApplicationError(
                f"the version store's manifests for {request.manifests_ref} do not hash to it; provision again",
                type=ErrorType.CONFIG_INVALID,
                non_retryable=True,
            )
        return files


def create_activities(config: RollwrightConfig, clone_dir: Path | None = None) -> list[Callable[..., Any]]:
    return [GitOpsActivities(config, shared_store(config), clone_dir).commit_manifests]
