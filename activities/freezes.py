"""Change-control activity: which freezes hold a deployment now, read from the version store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.contracts import ActivityName, CheckFreezesInput, FreezesInForce
from activities.heartbeat import keeps_heartbeating
from activities.versions import shared_store, store_failure
from rollwright.config.models import RollwrightConfig
from rollwright.domain.freeze import holding
from rollwright.versionstore import VersionStore, VersionStoreError


class FreezeActivities:
    def __init__(self, store: VersionStore) -> None:
        self._store = store

    @activity.defn(name=ActivityName.CHECK_FREEZES)
    @keeps_heartbeating
    async def check_freezes(self, request: CheckFreezesInput) -> FreezesInForce:
        try:
            active = await asyncio.to_thread(self._store.active_freezes, request.at)
        except VersionStoreError as exc:
            raise store_failure(exc) from exc
        return FreezesInForce(
            holding=holding(active, request.service, request.environment, request.started_at, request.at)
        )


def create_activities(config: RollwrightConfig) -> list[Callable[..., Any]]:
    return [FreezeActivities(shared_store(config)).check_freezes]
