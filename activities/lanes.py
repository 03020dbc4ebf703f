"""Lane activities: hand a version to the next lane, and tell a service's lanes that a digest went bad.

A workflow cannot signal-with-start another one, so these Temporal calls run here, with the worker's own client.
A retry may deliver a signal twice: a lane takes an offer or a bad mark it already has as a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from activities.contracts import ActivityName, OfferPromotionInput, TellLanesBadInput, TellLanesBadResult
from activities.heartbeat import keeps_heartbeating
from rollwright.config.models import RollwrightConfig
from rollwright.domain.lane import (
    BAD_ELSEWHERE_SIGNAL,
    LANE_WORKFLOW,
    OFFER_SIGNAL,
    LaneInput,
    lane_name,
    lane_workflow_id,
)
from rollwright.domain.search_attributes import ENVIRONMENT, LANE, SERVICE
from rollwright.observability.logging import get_logger

log = get_logger(__name__)


class LaneActivities:
    @activity.defn(name=ActivityName.OFFER_PROMOTION)
    @keeps_heartbeating
    async def offer_promotion(self, request: OfferPromotionInput) -> None:
        # Signal-with-start: the offer is recorded whether the lane runs or not (then it starts with it).
        lane = lane_name(request.service, request.environment)
        handle = await activity.client().start_workflow(
            LANE_WORKFLOW,
            LaneInput(service=request.service, environment=request.environment),
            id=lane_workflow_id(request.service, request.environment),
            task_queue=request.task_queue,
            start_signal=OFFER_SIGNAL,
            start_signal_args=[request.offer],
            # Filterable from its first moment, as a lane a push starts is.
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SERVICE, request.service),
                    SearchAttributePair(ENVIRONMENT, request.environment),
                    SearchAttributePair(LANE, lane),
                ]
            ),
            static_summary=f"{lane}: lane (one deployment at a time)",
        )
        log.info(
            "promotion_offered",
            service=request.service,
            environment=request.environment,
            tag=request.offer.tag,
            from_environment=request.offer.from_environment,
            lane=handle.id,
        )

    @activity.defn(name=ActivityName.TELL_LANES_BAD)
    @keeps_heartbeating
    async def tell_lanes_bad(self, request: TellLanesBadInput) -> TellLanesBadResult:
        client = activity.client()
        told: list[str] = []
        for environment in request.environments:
            handle = client.get_workflow_handle(lane_workflow_id(request.service, environment))
            try:
                await handle.signal(BAD_ELSEWHERE_SIGNAL, request.bad)
            except RPCError as exc:
                # Never started, or finished: that lane runs nothing to undo.
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
                log.info("lane_not_running", service=request.service, environment=environment)
                continue
            told.append(environment)
        log.info("lanes_told_bad", service=request.service, digest=request.bad.digest, told=told)
        return TellLanesBadResult(told=told)


def create_activities(config: RollwrightConfig) -> list[Callable[..., Any]]:
    lanes = LaneActivities()
    return [lanes.offer_promotion, lanes.tell_lanes_bad]
