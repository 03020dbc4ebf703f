"""Hand-off activities: sync a GitOps commit in Argo CD and follow the region's Rollout; abort it.

Thin over `argocd`: this is the one place Argo CD errors become Temporal ApplicationErrors. A failed canary
is a result (HandoffOutcome.CANARY_FAILED), never an exception, so the workflow can roll back on it. The client
sends each request once; the follower waits only within FollowSettings' budgets; every other retry is Temporal's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    ActivityName,
    ErrorType,
    HandoffInput,
    HandoffOutcome,
    HandoffResult,
    RolloutActionInput,
)
from activities.heartbeat import keeps_heartbeating, pulse
from activities.settings import application_placement, argocd_client_config
from rollwright.argocd.client import ApplicationPlacement, ArgoCDClient
from rollwright.argocd.config import ArgoCDClientConfig
from rollwright.argocd.errors import ArgoCDAuthError, ArgoCDError, ArgoCDNotFoundError, UnjudgeableRolloutError
from rollwright.argocd.follow import ROLLOUT_GROUP, ROLLOUT_KIND, FollowProgress, FollowSettings, RolloutFollower
from rollwright.argocd.watch import StreamSettings
from rollwright.config.models import RollwrightConfig
from rollwright.domain.identity import RegionTarget
from rollwright.observability.logging import get_logger
from rollwright.secrets import SecretUnavailableError

log = get_logger(__name__)


def to_application_error(exc: Exception) -> ApplicationError:
    """Auth, missing apps and Rollouts Rollwright cannot judge need a person (non-retryable); everything else may
    pass if tried again."""
    if isinstance(exc, ArgoCDAuthError):
        return ApplicationError(exc.message, type=ErrorType.ARGOCD_AUTH, non_retryable=True)
    if isinstance(exc, ArgoCDNotFoundError):
        return ApplicationError(exc.message, type=ErrorType.ARGOCD_NOT_FOUND, non_retryable=True)
    if isinstance(exc, UnjudgeableRolloutError):
        return ApplicationError(exc.message, type=ErrorType.ROLLOUT_UNJUDGEABLE, non_retryable=True)
    if isinstance(exc, SecretUnavailableError):
        return ApplicationError(f"Argo CD token: {exc}", type=ErrorType.CONFIG_INVALID, non_retryable=True)
    message = exc.message if isinstance(exc, ArgoCDError) else str(exc)
    return ApplicationError(message, type=type(exc).__name__)


# The progress deadline is the canary's wall-clock budget across attempts, as users read it. Temporal still retries
# this activity (after the follower's budgets give up, or a lost worker's heartbeat times out), and each attempt's
# start-to-close is the whole deadline plus a margin: a retried attempt gets only what is left of the deadline, so
# retries cannot stretch a stuck canary. The last look still happens: the Rollout may have become healthy meanwhile.
_LAST_LOOK_SECONDS = 1.0


def _remaining_deadline(deadline_seconds: float, info: activity.Info) -> float:
    if info.attempt <= 1:
        return deadline_seconds
    spent = (info.current_attempt_scheduled_time - info.scheduled_time).total_seconds()
    return max(deadline_seconds - spent, _LAST_LOOK_SECONDS)


class HandoffActivities:
    def __init__(
        self,
        client_config: Callable[[], ArgoCDClientConfig],
        follow: FollowSettings,
        placement: Callable[[RegionTarget], ApplicationPlacement] | None = None,
    ) -> None:
        # The token is read per call, so a rotated secret is picked up without restarting the worker.
        self._client_config = client_config
        self._follow = follow
        # None: the Applications exist already and are not Rollwright's to keep.
        self._placement = placement

    def _client(self) -> ArgoCDClient:
        try:
            return ArgoCDClient(self._client_config())
        except SecretUnavailableError as exc:
            raise to_application_error(exc) from exc

    @activity.defn(name=ActivityName.SYNC_AND_FOLLOW)
    async def sync_and_follow(self, request: HandoffInput) -> HandoffResult:
        info = activity.info()

        try:
            async with pulse() as beats, self._client() as client:

                def heartbeat(progress: FollowProgress) -> None:
                    beats.report(progress.model_dump(mode="json"))

                follower = RolloutFollower(client, self._follow, on_progress=heartbeat)
                if self._placement is not None:
                    # Before every hand-off, so a new region needs no set-up and a drifted spec is put right.
                    await follower.ensure_application(request.app_name, self._placement(request.target))
                outcome = await follower.sync_and_follow(
                    request.app_name,
                    request.revision,
                    digest=request.digest,
                    deadline_seconds=_remaining_deadline(request.progress_deadline_seconds, info),
                    run_id=info.workflow_id or "",
                )
        except ArgoCDError as exc:
            raise to_application_error(exc) from exc
        log.info(
            "hand-off finished",
            target=request.target.key,
            app=request.app_name,
            revision=request.revision,
            healthy=outcome.healthy,
            reason=outcome.reason,
        )
        return HandoffResult(
            outcome=HandoffOutcome.HEALTHY if outcome.healthy else HandoffOutcome.CANARY_FAILED,
            reason=outcome.reason,
            revision=outcome.revision,
            step_index=outcome.step_index,
            weight=outcome.weight,
        )

    @activity.defn(name=ActivityName.ABORT_ROLLOUT)
    @keeps_heartbeating
    async def abort_rollout(self, request: RolloutActionInput) -> None:
        """Send the canary's traffic back to stable (Argo CD's built-in `abort` action).

        Only while a canary runs: a fully promoted Rollout that is aborted reads Degraded (RolloutAborted) for good,
        and re-syncing the same template does not heal it (argoproj/argo-rollouts#1624), so one that runs its stable
        version is left alone.
        """
        try:
            async with self._client() as client:
                rollouts = (await client.resource_tree(request.app_name)).managed(ROLLOUT_GROUP, ROLLOUT_KIND)
                if not rollouts:
                    log.info("no Rollout to abort", app=request.app_name)
                    return
                live = await client.get_resource(request.app_name, rollouts[0].ref())
                status = live.get("status") or {}
                if status.get("stableRS") is not None and status.get("stableRS") == status.get("currentPodHash"):
                    log.info("no canary to abort: the Rollout runs its stable version", app=request.app_name)
                    return
                await client.run_resource_action(request.app_name, rollouts[0].ref(), "abort")
        except ArgoCDError as exc:
            raise to_application_error(exc) from exc
        log.info("rollout aborted", target=request.target.key, app=request.app_name, reason=request.reason)

    async def _run_action(self, request: RolloutActionInput, action: str) -> None:
        try:
            async with self._client() as client:
                rollouts = (await client.resource_tree(request.app_name)).managed(ROLLOUT_GROUP, ROLLOUT_KIND)
                if not rollouts:
                    log.info(f"no Rollout to {action}", app=request.app_name)
                    return
                await client.run_resource_action(request.app_name, rollouts[0].ref(), action)
        except ArgoCDError as exc:
            raise to_application_error(exc) from exc
        log.info(f"rollout {action}d", target=request.target.key, app=request.app_name, reason=request.reason)

    @activity.defn(name=ActivityName.PAUSE_ROLLOUT)
    @keeps_heartbeating
    async def pause_rollout(self, request: RolloutActionInput) -> None:
        """Hold the canary where it is (Argo CD's `pause` action): no more traffic shifts until `resume`."""
        await self._run_action(request, "pause")

    @activity.defn(name=ActivityName.RESUME_ROLLOUT)
    @keeps_heartbeating
    async def resume_rollout(self, request: RolloutActionInput) -> None:
        """Let a paused canary go on (Argo CD's `resume` action)."""
        await self._run_action(request, "resume")


def create_activities(config: RollwrightConfig) -> list[Callable[..., Any]]:
    follow = FollowSettings(
        poll_interval=config.argocd.poll_interval.total_seconds(), stream=StreamSettings(enabled=config.argocd.streams)
    )
    placement = (lambda target: application_placement(config, target)) if config.argocd.manage_applications else None
    handoff = HandoffActivities(lambda: argocd_client_config(config), follow, placement)
    return [handoff.sync_and_follow, handoff.abort_rollout, handoff.pause_rollout, handoff.resume_rollout]
