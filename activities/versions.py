"""Version-store activities: the rollback baseline of a region, region states, bad marks and lane actions (audited).

The store is synchronous; every call runs in a thread so the worker's event loop never waits on the database.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import ActivityName, MarkDigestBadInput, RecordRegionStateInput, RegionBaseline
from activities.heartbeat import keeps_heartbeating
from rollwright.config.models import RollwrightConfig
from rollwright.config.secrets import version_store_url
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneAction
from rollwright.observability.logging import get_logger
from rollwright.versionstore import (
    DeploymentRecord,
    InvalidLaneActionError,
    LiveRegion,
    RenderedManifestsMissingError,
    VersionStore,
    VersionStoreError,
    VersionStoreUnavailableError,
)

log = get_logger(__name__)


def store_failure(exc: VersionStoreError) -> ApplicationError:
    """A store failure is worth retrying (the database may come back), except an input the store refuses."""
    if isinstance(exc, VersionStoreUnavailableError):
        return ApplicationError(str(exc), type="VersionStoreUnavailable")
    if isinstance(exc, InvalidLaneActionError | RenderedManifestsMissingError):
        return ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True)
    return ApplicationError(str(exc), type=type(exc).__name__)


class VersionActivities:
    def __init__(self, store: VersionStore) -> None:
        self._store = store

    @activity.defn(name=ActivityName.GET_REGION_BASELINE)
    @keeps_heartbeating
    async def get_region_baseline(self, target: RegionTarget) -> RegionBaseline:
        try:
            good, running = await asyncio.to_thread(self._baseline, target)
        except VersionStoreError as exc:
            raise store_failure(exc) from exc
        return RegionBaseline(
            target=target,
            digest=good.digest if good else None,
            tag=good.tag if good else None,
            running_digest=running.digest if running else None,
            running_tag=running.tag if running else None,
        )

    def _baseline(self, target: RegionTarget) -> tuple[DeploymentRecord | None, LiveRegion | None]:
        running = next((live for live in self._store.live_regions(target.service) if live.target == target), None)
        return self._store.last_known_good(target), running

    @activity.defn(name=ActivityName.RECORD_REGION_STATE)
    @keeps_heartbeating
    async def record_region_state(self, request: RecordRegionStateInput) -> None:
        try:
            await asyncio.to_thread(
                self._store.record_region_state,
                request.target,
                digest=request.digest,
                tag=request.tag,
                state=request.state,
                workflow_id=request.workflow_id,
                detail=request.detail,
            )
        except VersionStoreError as exc:
            raise store_failure(exc) from exc

    @activity.defn(name=ActivityName.MARK_DIGEST_BAD)
    @keeps_heartbeating
    async def mark_digest_bad(self, request: MarkDigestBadInput) -> None:
        try:
            await asyncio.to_thread(
                self._store.mark_bad,
                service=request.service,
                digest=request.digest,
                reason=request.reason,
                actor=request.actor,
                workflow_id=request.workflow_id,
                # A retry of this activity is the same request: audited once.
                request_key=f"{request.workflow_id}/mark_bad/{request.service}/{request.digest}",
            )
        except VersionStoreError as exc:
            raise store_failure(exc) from exc
        log.info("digest_marked_bad", service=request.service, digest=request.digest, actor=request.actor)

    @activity.defn(name=ActivityName.RECORD_LANE_ACTION)
    @keeps_heartbeating
    async def record_lane_action(self, action: LaneAction) -> None:
        try:
            # Keyed on the lane's workflow, the action and its instant: a retry of this activity is audited once.
            await asyncio.to_thread(
                self._store.record_lane_action,
                service=action.service,
                environment=action.environment,
                action=action.action,
                actor=action.actor,
                reason=action.reason,
                at=action.at,
                workflow_id=action.workflow_id,
                tag=action.tag,
                digest=action.digest,
                verified=action.verified,
            )
        except VersionStoreError as exc:
            raise store_failure(exc) from exc
        log.info(
            "lane_action_recorded",
            service=action.service,
            environment=action.environment,
            action=action.action.value,
            actor=action.actor,
            verified=action.verified,
        )


@functools.cache
def _store_for(url: str) -> VersionStore:
    return VersionStore(url)


def shared_store(config: RollwrightConfig) -> VersionStore:
    """One store (one engine, migrations run once) for every activity module of a worker process."""
    return _store_for(version_store_url(config.version_store))


def create_activities(config: RollwrightConfig) -> list[Callable[..., Any]]:
    versions = VersionActivities(shared_store(config))
    return [
        versions.get_region_baseline,
        versions.record_region_state,
        versions.mark_digest_bad,
        versions.record_lane_action,
    ]
