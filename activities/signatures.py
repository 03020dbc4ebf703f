"""Every activity as workflows schedule it: its name, its input, its output, and nothing of its implementation.

Workflows call these (through workflows/steps.py), so a wrong argument or result type is a mypy error, and the
Temporal UI and the tests know each step by the same name. The implementations in activities/*.py register under
the same names with the same types (tests/activities/test_signatures.py holds every one to its signature). Keeping
them apart keeps the workflows' imports to the contracts: a worker process that runs the workflows loads no HTTP,
git, SQL or Pulumi client for them (about 38 MB), and every workflow the sandbox starts has less to look through.
"""

from __future__ import annotations

from temporalio import activity

from activities.contracts import (
    ActivityName,
    CandidateInfo,
    CheckFreezesInput,
    CommitInput,
    CommitResult,
    FreezesInForce,
    HandoffInput,
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
    ServicePlanInput,
    TellLanesBadInput,
    TellLanesBadResult,
)
from rollwright.domain.deployment import PipelineSettings
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneAction
from rollwright.domain.notification import Notification
from rollwright.domain.preview import PreviewResult


class DeclaredOnlyError(NotImplementedError):
    """A declaration ran as if it were the activity: a worker must register the implementation instead."""

    def __init__(self) -> None:
        super().__init__(
            "this activity is only declared here; workers register its implementation from activities/*.py"
        )


@activity.defn(name=ActivityName.READ_SERVICE_PLAN)
async def read_service_plan(request: ServicePlanInput) -> PipelineSettings:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.INSPECT_CANDIDATE)
async def inspect_candidate(request: InspectCandidateInput) -> CandidateInfo:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.PUBLISH_IMAGE)
async def publish_image(request: PublishInput) -> PublishResult:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.GET_REGION_BASELINE)
async def get_region_baseline(target: RegionTarget) -> RegionBaseline:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.RECORD_REGION_STATE)
async def record_region_state(request: RecordRegionStateInput) -> None:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.MARK_DIGEST_BAD)
async def mark_digest_bad(request: MarkDigestBadInput) -> None:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.COMMIT_MANIFESTS)
async def commit_manifests(request: CommitInput) -> CommitResult:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.SYNC_AND_FOLLOW)
async def sync_and_follow(request: HandoffInput) -> HandoffResult:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.ABORT_ROLLOUT)
async def abort_rollout(request: RolloutActionInput) -> None:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.PAUSE_ROLLOUT)
async def pause_rollout(request: RolloutActionInput) -> None:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.RESUME_ROLLOUT)
async def resume_rollout(request: RolloutActionInput) -> None:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.RUN_CHECKS)
async def run_checks(request: RunChecksInput) -> RunChecksResult:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.NOTIFY)
async def notify(notification: Notification) -> None:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.PROVISION_REGION)
async def provision_region(request: ProvisionInput) -> ProvisionResult:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.PREVIEW_REGION)
async def preview_region(request: ProvisionInput) -> PreviewResult:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.RECORD_LANE_ACTION)
async def record_lane_action(action: LaneAction) -> None:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.OFFER_PROMOTION)
async def offer_promotion(request: OfferPromotionInput) -> None:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.TELL_LANES_BAD)
async def tell_lanes_bad(request: TellLanesBadInput) -> TellLanesBadResult:
    raise DeclaredOnlyError


@activity.defn(name=ActivityName.CHECK_FREEZES)
async def check_freezes(request: CheckFreezesInput) -> FreezesInForce:
    raise DeclaredOnlyError
