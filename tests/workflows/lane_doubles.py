"""Doubles for lanes: regions remember what was deployed to them (a rollback target is whatever ran before), the
audit is recorded in memory, and a lane's signals to other lanes go through the real activities on the real
server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.contracts import ActivityName, ProvisionInput, ProvisionResult, RegionBaseline
from activities.lanes import LaneActivities
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneAction
from tests.workflows.doubles import Doubles
from tests.workflows.harness import WORKFLOWS, Queues


@dataclass
class LaneDoubles(Doubles):
    # region key -> (tag, digest) of what was last provisioned there
    running: dict[str, tuple[str, str]] = field(default_factory=dict)
    audited: list[LaneAction] = field(default_factory=list)

    def light(self) -> list[Callable[..., Any]]:
        return [*super().light(), self.record_lane_action]

    @activity.defn(name=ActivityName.GET_REGION_BASELINE)
    async def get_region_baseline(self, arg: RegionTarget) -> RegionBaseline:
        call = self._begin(ActivityName.GET_REGION_BASELINE, arg, arg.key)
        await self._work(call, 0.01)
        if arg.key in self.running:
            tag, digest = self.running[arg.key]
            return RegionBaseline(target=arg, digest=digest, tag=tag)
        before = self.baselines.get(arg.key)
        return RegionBaseline(target=arg, digest=before, tag="v0.9.0" if before else None)

    @activity.defn(name=ActivityName.PROVISION_REGION)
    async def provision_region(self, arg: ProvisionInput) -> ProvisionResult:
        result = await super().provision_region(arg)
        if arg.digest is not None and arg.tag is not None:
            self.running[arg.target.key] = (arg.tag, arg.digest)
        return result

    @activity.defn(name=ActivityName.RECORD_LANE_ACTION)
    async def record_lane_action(self, action: LaneAction) -> None:
        self._begin(ActivityName.RECORD_LANE_ACTION, action)
        self.audited.append(action)

    def live_in(self, key: str) -> str | None:
        return self.running[key][0] if key in self.running else None


@contextlib.asynccontextmanager
async def lane_workers(client: Client, doubles: LaneDoubles) -> AsyncIterator[Queues]:
    queues = Queues(main=f"rw-{uuid.uuid4().hex[:8]}", pulumi=f"rw-pulumi-{uuid.uuid4().hex[:8]}")
    signals = LaneActivities()
    main = Worker(
        client,
        task_queue=queues.main,
        workflows=WORKFLOWS,
        activities=[*doubles.light(), signals.offer_promotion, signals.tell_lanes_bad],
    )
    pulumi = Worker(client, task_queue=queues.pulumi, activities=doubles.heavy(), max_concurrent_activities=4)
    async with main, pulumi:
        yield queues
