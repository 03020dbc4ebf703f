"""Test doubles for every activity the lane, pipeline and deployment workflows call, under the real names.

They answer instantly and record nothing outside memory: the CLI tests exercise the CLI against real
workflows on the real dev server, not the activities. The two that carry word from one lane to another
(offer_promotion, tell_lanes_bad) do what the real ones do to the other lane, through the worker's own client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from activities.contracts import (
    ActivityName,
    CandidateInfo,
    CommitInput,
    CommitResult,
    HandoffInput,
    HandoffOutcome,
    HandoffResult,
    InspectCandidateInput,
    MarkDigestBadInput,
    OfferPromotionInput,
    ProvisionInput,
    ProvisionResult,
    PublishInput,
    PublishResult,
    RecordRegionStateInput,
    RegionBaseline,
    RolloutActionInput,
    RunChecksInput,
    RunChecksResult,
    TellLanesBadInput,
    TellLanesBadResult,
)
from rollwright.domain.digest import sha256_digest
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import (
    BAD_ELSEWHERE_SIGNAL,
    LANE_WORKFLOW,
    OFFER_SIGNAL,
    LaneAction,
    LaneInput,
    lane_name,
    lane_workflow_id,
)
from rollwright.domain.notification import Notification
from rollwright.domain.search_attributes import ENVIRONMENT, LANE, SERVICE
from rollwright.domain.verification import judge


def digest_of(tag: str) -> str:
    """The digest the registry double resolves a tag to."""
    return sha256_digest(f"image for {tag}".encode())


@activity.defn(name=ActivityName.INSPECT_CANDIDATE)
async def inspect_candidate(inp: InspectCandidateInput) -> CandidateInfo:
    return CandidateInfo(tag=inp.tag, digest=digest_of(inp.tag))


@activity.defn(name=ActivityName.PUBLISH_IMAGE)
async def publish_image(inp: PublishInput) -> PublishResult:
    return PublishResult(digest=inp.digest, tag=inp.tag, image=inp.image)


@activity.defn(name=ActivityName.GET_REGION_BASELINE)
async def get_region_baseline(target: RegionTarget) -> RegionBaseline:
    return RegionBaseline(target=target)


@activity.defn(name=ActivityName.RECORD_REGION_STATE)
async def record_region_state(inp: RecordRegionStateInput) -> None:
    return None


@activity.defn(name=ActivityName.MARK_DIGEST_BAD)
async def mark_digest_bad(inp: MarkDigestBadInput) -> None:
    return None


@activity.defn(name=ActivityName.PROVISION_REGION)
async def provision_region(inp: ProvisionInput) -> ProvisionResult:
    return ProvisionResult(target=inp.target, manifests={}, content_hash=f"hash-{inp.digest}")


@activity.defn(name=ActivityName.COMMIT_MANIFESTS)
async def commit_manifests(inp: CommitInput) -> CommitResult:
    return CommitResult(sha=(inp.digest or "sha256:" + "0" * 64)[7:47], created=True)


@activity.defn(name=ActivityName.SYNC_AND_FOLLOW)
async def sync_and_follow(inp: HandoffInput) -> HandoffResult:
    return HandoffResult(outcome=HandoffOutcome.HEALTHY, revision=inp.revision, step_index=1, weight=100)


@activity.defn(name=ActivityName.ABORT_ROLLOUT)
async def abort_rollout(inp: RolloutActionInput) -> None:
    return None


@activity.defn(name=ActivityName.RUN_CHECKS)
async def run_checks(inp: RunChecksInput) -> RunChecksResult:
    """Every region answers a healthy 1%."""
    results = [
        judge(check, region.target.environment, region.target.region, 0.01, {})
        for check in inp.checks
        for region in inp.regions
        if region.changed
    ]
    return RunChecksResult(at=activity.info().current_attempt_scheduled_time, results=results)


@activity.defn(name=ActivityName.NOTIFY)
async def notify(inp: Notification) -> None:
    return None


@activity.defn(name=ActivityName.RECORD_LANE_ACTION)
async def record_lane_action(action: LaneAction) -> None:
    return None


@activity.defn(name=ActivityName.OFFER_PROMOTION)
async def offer_promotion(request: OfferPromotionInput) -> None:
    await activity.client().start_workflow(
        LANE_WORKFLOW,
        LaneInput(service=request.service, environment=request.environment),
        id=lane_workflow_id(request.service, request.environment),
        task_queue=request.task_queue,
        start_signal=OFFER_SIGNAL,
        start_signal_args=[request.offer],
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(SERVICE, request.service),
                SearchAttributePair(ENVIRONMENT, request.environment),
                SearchAttributePair(LANE, lane_name(request.service, request.environment)),
            ]
        ),
    )


@activity.defn(name=ActivityName.TELL_LANES_BAD)
async def tell_lanes_bad(request: TellLanesBadInput) -> TellLanesBadResult:
    told = []
    for environment in request.environments:
        handle = activity.client().get_workflow_handle(lane_workflow_id(request.service, environment))
        try:
            await handle.signal(BAD_ELSEWHERE_SIGNAL, request.bad)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            continue
        told.append(environment)
    return TellLanesBadResult(told=told)


LIGHT: list[Callable[..., Any]] = [
    inspect_candidate,
    publish_image,
    get_region_baseline,
    record_region_state,
    mark_digest_bad,
    commit_manifests,
    sync_and_follow,
    abort_rollout,
    run_checks,
    notify,
    record_lane_action,
    offer_promotion,
    tell_lanes_bad,
]
HEAVY: list[Callable[..., Any]] = [provision_region]
