"""The GitOps commit activity (light queue): commit a region's rendered manifests and push them.

Thin over `gitops`: the one place its errors become Temporal ApplicationErrors. The manifests arrive in
the input (from provision_region), so this may run on any worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import ActivityName, CommitInput, CommitResult, ErrorType
from activities.heartbeat import keeps_heartbeating
from activities.settings import gitops_settings
from rollwright.config.models import RollwrightConfig
from rollwright.gitops.errors import GitOpsError, InvalidManifestPath
from rollwright.gitops.message import CommitIdentity
from rollwright.gitops.repository import GitOpsRepository


def to_application_error(exc: GitOpsError) -> ApplicationError:
    if isinstance(exc, InvalidManifestPath):
        return ApplicationError(str(exc), type=ErrorType.CONFIG_INVALID, non_retryable=True)
    return ApplicationError(str(exc), type=type(exc).__name__)


class GitOpsActivities:
    def __init__(self, config: RollwrightConfig, clone_dir: Path | None = None) -> None:
        self._repository = GitOpsRepository(gitops_settings(config, clone_dir))

    @activity.defn(name=ActivityName.COMMIT_MANIFESTS)
    @keeps_heartbeating
    async def commit_manifests(self, request: CommitInput) -> CommitResult:
        activity.heartbeat(request.target.key)
        identity = CommitIdentity(workflow_id=request.workflow_id, target=request.target, purpose=request.purpose.value)
        try:
            outcome = await self._repository.commit_region(identity, request.manifests, request.tag, request.digest)
        except GitOpsError as exc:
            raise to_application_error(exc) from exc
        return CommitResult(sha=outcome.sha, created=outcome.created)


def create_activities(config: RollwrightConfig, clone_dir: Path | None = None) -> list[Callable[..., Any]]:
    return [GitOpsActivities(config, clone_dir).commit_manifests]
