"""How `rollwright status` reads a lane: each region's live version while a deployment runs, the promotion due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rollwright.control.lanes import Lane
from rollwright.control.status import PromotionDue, RegionLive, promotion_due, regions_of
from rollwright.domain.deployment import DeploymentPhase, DeploymentStatus, RegionPhase, RegionStatus
from rollwright.domain.lane import LaneStatus, LiveVersion, PendingPromotion
from rollwright.domain.plan import EnvironmentPlan, PromotePlan
from tests.cli.doubles import digest_of

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
PROD = EnvironmentPlan(name="prod", waves=[["us-east"], ["eu-west", "ap-south"]], promote=PromotePlan(source="staging"))


def lane(environment: str, live: str | None = None, promotions: list[PendingPromotion] | None = None) -> LaneStatus:
    return LaneStatus(
        service="shop",
        environment=environment,
        live=LiveVersion(tag=live, digest=digest_of(live), since=NOW) if live else None,
        current_workflow_id=None,
        current=None,
        current_kind=None,
        next_up=None,
        hold=None,
        promotion=None,
        promotions=promotions or [],
        superseded=[],
        ignored=[],
        recent=[],
        good=[],
    )


def region(name: str, phase: RegionPhase, tag: str) -> RegionStatus:
    return RegionStatus(service="shop", environment="prod", region=name, phase=phase, digest=digest_of(tag))


def test_a_running_deployment_shows_where_it_went_live_and_where_it_works() -> None:
    deployment = DeploymentStatus(
        service="shop",
        tag="v2.0.0",
        digest=digest_of("v2.0.0"),
        phase=DeploymentPhase.DEPLOYING,
        regions=[region("us-east", RegionPhase.LIVE, "v2.0.0"), region("eu-west", RegionPhase.SYNCING, "v2.0.0")],
    )

    rows = regions_of(PROD, lane("prod", live="v1.0.0"), deployment)

    assert rows == [
        RegionLive(region="us-east", wave=0, tag="v2.0.0", digest=digest_of("v2.0.0")),
        RegionLive(
            region="eu-west",
            wave=1,
            tag="v1.0.0",
            digest=digest_of("v1.0.0"),
            phase=RegionPhase.SYNCING,
            deploying="v2.0.0",
        ),
        RegionLive(region="ap-south", wave=1, tag="v1.0.0", digest=digest_of("v1.0.0")),
    ]


def test_a_region_rolled_back_shows_the_lanes_live_version() -> None:
    deployment = DeploymentStatus(
        service="shop",
        tag="v2.0.0",
        digest=digest_of("v2.0.0"),
        phase=DeploymentPhase.ROLLING_BACK,
        regions=[region("us-east", RegionPhase.ROLLED_BACK, "v1.0.0")],
    )

    [us_east, *_] = regions_of(PROD, lane("prod", live="v1.0.0"), deployment)

    assert (us_east.tag, us_east.phase, us_east.deploying) == ("v1.0.0", None, None)


def test_a_lane_that_never_ran_lists_its_regions_with_nothing_live() -> None:
    rows = regions_of(PROD, None, None)

    assert [(row.region, row.tag) for row in rows] == [("us-east", None), ("eu-west", None), ("ap-south", None)]


def test_the_promotion_due_is_the_upstream_lanes_earliest_naming_this_lane() -> None:
    to_qa = PendingPromotion(tag="v3.0.0", digest=digest_of("v3.0.0"), due_at=NOW, to=["qa"])
    later = PendingPromotion(tag="v2.0.0", digest=digest_of("v2.0.0"), due_at=NOW + timedelta(hours=1), to=["prod"])
    sooner = PendingPromotion(tag="v2.0.0", digest=digest_of("v2.0.0"), due_at=NOW + timedelta(minutes=5), to=["prod"])
    upstream = Lane("staging", "lane-shop-staging", lane("staging", "v2.0.0", [to_qa, later, sooner]))

    due = promotion_due(PROD, {"staging": upstream})

    assert due == PromotionDue(source="staging", tag="v2.0.0", digest=digest_of("v2.0.0"), due_at=sooner.due_at)


def test_no_promotion_is_due_into_a_first_lane_or_from_a_lane_that_never_ran() -> None:
    first = EnvironmentPlan(name="staging", waves=[["local-a"]])
    manual = PROD.model_copy(update={"promote": PromotePlan(source="staging", manual=True)})

    assert promotion_due(first, {}) is None
    assert promotion_due(PROD, {"staging": Lane("staging", "lane-shop-staging", None)}) == PromotionDue(
        source="staging"
    )
    assert promotion_due(manual, {}) == PromotionDue(source="staging", manual=True)
