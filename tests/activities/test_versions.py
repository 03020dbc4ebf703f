"""Version-store activities: the rollback baseline, region states, audited bad marks and lane actions, on a real
store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import MarkDigestBadInput, RecordRegionStateInput, RegionBaseline
from activities.versions import create_activities
from devstack.ports import free_port
from rollwright.config import RollwrightConfig, parse_config
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneAction, LaneActionKind
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import AuditAction, VersionState, VersionStore

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
EU = RegionTarget(service="api", environment="prod", region="eu")


def _config(store_url: str) -> RollwrightConfig:
    return parse_config(
        {
            "services": [
                {"name": "api", "image": "reg.local/api", "environments": [{"name": "prod", "waves": [["eu"]]}]}
            ],
            "gitops": {"repo": "/nowhere"},
            "version_store": {"url": store_url},
        }
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/versions.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_baseline_follows_recorded_states_and_bad_marks(store_url: str) -> None:
    baseline, record, mark_bad, _ = create_activities(_config(store_url))
    env = ActivityEnvironment()
    assert await env.run(baseline, EU) == RegionBaseline(target=EU)

    for digest, tag, workflow in ((D1, "v1", "wf-1"), (D2, "v2", "wf-2")):
        for state in (RegionState.DEPLOYING, RegionState.LIVE):
            request = RecordRegionStateInput(target=EU, digest=digest, tag=tag, state=state, workflow_id=workflow)
            await env.run(record, request)
    assert await env.run(baseline, EU) == RegionBaseline(
        target=EU, digest=D2, tag="v2", running_digest=D2, running_tag="v2"
    )

    mark = MarkDigestBadInput(
        service="api", digest=D2, reason="canary failed in eu", actor="rollwright", workflow_id="wf-2"
    )
    await env.run(mark_bad, mark)
    await env.run(mark_bad, mark)  # a retried activity
    # The rollback target skips the bad version; what runs there is still it, until a rollback records otherwise.
    assert await env.run(baseline, EU) == RegionBaseline(
        target=EU, digest=D1, tag="v1", running_digest=D2, running_tag="v2"
    )

    with VersionStore(store_url) as store:
        audit = store.audit("api", D2)
        states = {v.digest: v.state for v in store.versions("api")}
    assert [(a.action, a.actor, a.reason, a.workflow_id) for a in audit] == [
        (AuditAction.MARK_BAD, "rollwright", "canary failed in eu", "wf-2")
    ]
    assert states == {D1: VersionState.SUPERSEDED, D2: VersionState.BAD}


async def test_an_unreachable_store_is_a_retryable_failure() -> None:
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
    baseline, *_ = create_activities(_config(url))
    with pytest.raises(ApplicationError) as failure:
        await ActivityEnvironment().run(baseline, EU)
    assert (failure.value.type, failure.value.non_retryable) == ("VersionStoreUnavailable", False)


async def test_a_lane_action_is_audited_once_however_often_the_activity_runs(store_url: str) -> None:
    *_, record_lane_action = create_activities(_config(store_url))
    env = ActivityEnvironment()
    act = LaneAction(
        service="api",
        environment="prod",
        action=LaneActionKind.PIN,
        actor="alice@example.com",
        reason="hold v1 while the payment provider migrates",
        at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        workflow_id="lane-api-prod",
        tag="v1",
        digest=D1,
        verified=True,
    )
    await env.run(record_lane_action, act)
    await env.run(record_lane_action, act)  # a retried activity

    with VersionStore(store_url) as store:
        [recorded] = store.lane_actions("api")
    assert (recorded.action, recorded.actor, recorded.at, recorded.digest, recorded.verified) == (
        LaneActionKind.PIN,
        "alice@example.com",
        act.at,
        D1,
        True,
    )


async def test_a_lane_action_the_store_refuses_is_not_retried(store_url: str) -> None:
    *_, record_lane_action = create_activities(_config(store_url))
    act = LaneAction(
        service="api",
        environment="prod",
        action=LaneActionKind.RELEASE,
        actor="alice",
        reason="provider migrated",
        at=datetime(2026, 3, 1, 9, 30),
        workflow_id="lane-api-prod",
    )
    with pytest.raises(ApplicationError, match="no time zone") as failure:
        await ActivityEnvironment().run(record_lane_action, act)
    assert (failure.value.type, failure.value.non_retryable) == ("InvalidLaneActionError", True)
