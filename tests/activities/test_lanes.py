"""Lane activities on the real dev server: an offer starts a lane that is not running and reaches one that is; a
bad mark reaches every running lane listed and skips one that never started or has finished.

The lane here is a double under the real workflow name that records the signals it gets, so these tests hold the
activities to Temporal's behaviour and to the signal contract, not to the lane's rules (tests/workflows has those).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

# The sandbox re-imports this module to check the double: what it does not run needs no checking.
with workflow.unsafe.imports_passed_through():
    import pytest

    from activities.contracts import OfferPromotionInput, TellLanesBadInput, TellLanesBadResult
    from activities.lanes import LaneActivities
    from rollwright.domain import search_attributes as sa
    from rollwright.domain.lane import (
        BAD_ELSEWHERE_SIGNAL,
        LANE_WORKFLOW,
        OFFER_SIGNAL,
        BadElsewhere,
        LaneInput,
        PromotionOffer,
        lane_workflow_id,
    )

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
HEARD_QUERY = "heard"


class Heard(BaseModel):
    lane: LaneInput
    offers: list[PromotionOffer] = Field(default_factory=list)
    bad: list[BadElsewhere] = Field(default_factory=list)


@workflow.defn(name=LANE_WORKFLOW)
class RecordingLane:
    """Runs until terminated and answers what it was started with and every signal it took, in order."""

    def __init__(self) -> None:
        self._offers: list[PromotionOffer] = []
        self._bad: list[BadElsewhere] = []
        self._lane: LaneInput | None = None

    @workflow.run
    async def run(self, lane: LaneInput) -> None:
        self._lane = lane
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=OFFER_SIGNAL)
    def offer(self, offer: PromotionOffer) -> None:
        self._offers.append(offer)

    @workflow.signal(name=BAD_ELSEWHERE_SIGNAL)
    def bad_elsewhere(self, bad: BadElsewhere) -> None:
        self._bad.append(bad)

    @workflow.query(name=HEARD_QUERY)
    def heard(self) -> Heard:
        assert self._lane is not None
        return Heard(lane=self._lane, offers=self._offers, bad=self._bad)


@dataclass
class Lanes:
    client: Client
    service: str
    task_queue: str
    activities: ActivityEnvironment
    offered: set[str] = field(default_factory=set)

    async def offer(self, environment: str, offer: PromotionOffer) -> None:
        self.offered.add(environment)
        request = OfferPromotionInput(
            service=self.service, environment=environment, offer=offer, task_queue=self.task_queue
        )
        await self.activities.run(LaneActivities().offer_promotion, request)

    async def tell_bad(self, environments: list[str], bad: BadElsewhere) -> TellLanesBadResult:
        request = TellLanesBadInput(service=self.service, environments=environments, bad=bad)
        return await self.activities.run(LaneActivities().tell_lanes_bad, request)

    async def heard(self, environment: str, until: Callable[[Heard], bool]) -> Heard:
        handle = self.client.get_workflow_handle(lane_workflow_id(self.service, environment))
        async with asyncio.timeout(10):
            while True:
                heard: Heard = await handle.query(HEARD_QUERY, result_type=Heard)
                if until(heard):
                    return heard
                await asyncio.sleep(0.1)


@pytest.fixture
async def lanes(temporal_env: WorkflowEnvironment) -> AsyncIterator[Lanes]:
    client = temporal_env.client
    suffix = uuid.uuid4().hex[:8]
    service, task_queue = f"shop-{suffix}", f"lanes-{suffix}"
    async with Worker(client, task_queue=task_queue, workflows=[RecordingLane]):
        lanes = Lanes(client, service, task_queue, ActivityEnvironment(client=client))
        yield lanes
        for environment in lanes.offered:
            with contextlib.suppress(RPCError):  # one a test closed itself
                await client.get_workflow_handle(lane_workflow_id(service, environment)).terminate("test finished")


def _offer(tag: str, digest: str) -> PromotionOffer:
    return PromotionOffer(tag=tag, digest=digest, from_environment="staging")


async def test_an_offer_starts_a_lane_that_is_not_running_and_reaches_one_that_is(lanes: Lanes) -> None:
    await lanes.offer("prod", _offer("v1.1.0", D1))

    heard = await lanes.heard("prod", until=lambda h: len(h.offers) == 1)
    assert heard.lane == LaneInput(service=lanes.service, environment="prod")
    assert heard.offers == [_offer("v1.1.0", D1)]
    handle = lanes.client.get_workflow_handle(lane_workflow_id(lanes.service, "prod"))
    started = await handle.describe()
    assert started.workflow_type == LANE_WORKFLOW
    assert started.task_queue == lanes.task_queue
    assert started.typed_search_attributes.get(sa.SERVICE) == lanes.service
    assert started.typed_search_attributes.get(sa.ENVIRONMENT) == "prod"
    assert started.typed_search_attributes.get(sa.LANE) == f"{lanes.service}/prod"
    assert await started.static_summary() == f"{lanes.service}/prod: lane (one deployment at a time)"

    # The running lane takes the next offer: same run, both offers in order.
    await lanes.offer("prod", _offer("v1.2.0", D2))
    heard = await lanes.heard("prod", until=lambda h: len(h.offers) == 2)
    assert [o.tag for o in heard.offers] == ["v1.1.0", "v1.2.0"]
    assert (await handle.describe()).run_id == started.run_id


async def test_a_bad_mark_reaches_the_running_lanes_and_skips_the_others(lanes: Lanes) -> None:
    for environment in ("staging", "qa"):
        await lanes.offer(environment, _offer("v1.1.0", D1))
    await lanes.heard("qa", until=lambda h: len(h.offers) == 1)
    qa = lanes.client.get_workflow_handle(lane_workflow_id(lanes.service, "qa"))
    await qa.terminate("qa lane closed")
    bad = BadElsewhere(digest=D1, tag="v1.1.0", environment="prod", reason="canary failed", workflow_id="deploy-1")

    # prod never started; qa has finished: neither has anything to undo.
    result = await lanes.tell_bad(["staging", "prod", "qa"], bad)

    assert result == TellLanesBadResult(told=["staging"])
    heard = await lanes.heard("staging", until=lambda h: len(h.bad) == 1)
    assert heard.bad == [bad]
    assert (await qa.describe()).status is WorkflowExecutionStatus.TERMINATED
    never = lanes.client.list_workflows(f"WorkflowId = '{lane_workflow_id(lanes.service, 'prod')}'")
    assert [execution.id async for execution in never] == []
