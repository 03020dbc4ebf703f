"""Per-region deployments answer "what is live where" and "last known good", through rollouts and rollbacks."""

from __future__ import annotations

from rollwright.domain.identity import RegionTarget
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import VersionStore

D1, D2, D3 = ("sha256:" + c * 64 for c in "123")
EU = RegionTarget(service="api", environment="prod", region="eu-west-1")
US = RegionTarget(service="api", environment="prod", region="us-east-1")
STAGING = RegionTarget(service="api", environment="staging", region="eu-west-1")


def _live(store: VersionStore, target: RegionTarget, digest: str, tag: str, workflow_id: str) -> None:
    store.record_region_state(target, digest=digest, tag=tag, state=RegionState.DEPLOYING, workflow_id=workflow_id)
    store.record_region_state(target, digest=digest, tag=tag, state=RegionState.LIVE, workflow_id=workflow_id)


def test_live_where_and_last_known_good_per_region(store: VersionStore) -> None:
    _live(store, EU, D1, "v1", "wf-1")
    _live(store, US, D1, "v1", "wf-1")
    _live(store, STAGING, D2, "v2", "wf-2")
    live = {r.target.key: r.digest for r in store.live_regions("api")}
    assert live == {EU.key: D1, US.key: D1, STAGING.key: D2}
    good = store.last_known_good(EU)
    assert good is not None
    assert (good.digest, good.tag, good.workflow_id) == (D1, "v1", "wf-1")
    assert store.last_known_good(RegionTarget(service="api", environment="prod", region="ap-south-1")) is None
    assert store.live_regions("other") == []


def test_a_deploying_version_is_not_yet_the_baseline(store: VersionStore) -> None:
    _live(store, EU, D1, "v1", "wf-1")
    store.record_region_state(EU, digest=D2, tag="v2", state=RegionState.DEPLOYING, workflow_id="wf-2")
    good = store.last_known_good(EU)
    assert good is not None
    assert good.digest == D1
    assert [r.digest for r in store.live_regions("api")] == [D1]


def test_rollback_restores_the_previous_digest_everywhere_it_was_changed(store: VersionStore) -> None:
    _live(store, EU, D1, "v1", "wf-1")
    _live(store, US, D1, "v1", "wf-1")
    # wf-2: wave 1 (EU) goes live, wave 2 (US) fails its canary; both regions go back to v1.
    _live(store, EU, D2, "v2", "wf-2")
    store.record_region_state(US, digest=D2, tag="v2", state=RegionState.DEPLOYING, workflow_id="wf-2")
    store.record_region_state(US, digest=D2, tag="v2", state=RegionState.FAILED, workflow_id="wf-2", detail="canary")
    store.mark_bad(
        service="api", digest=D2, reason="canary failed in us-east-1", actor="rollwright", workflow_id="wf-2"
    )
    for target in (US, EU):
        baseline = store.last_known_good(target)
        assert baseline is not None
        assert baseline.digest == D1
        store.record_region_state(target, digest=D1, tag="v1", state=RegionState.LIVE, workflow_id="wf-2")
        store.record_region_state(target, digest=D2, tag="v2", state=RegionState.ROLLED_BACK, workflow_id="wf-2")
    assert {r.target.key: r.digest for r in store.live_regions("api")} == {EU.key: D1, US.key: D1}
    history = [(d.target.region, d.digest, d.workflow_id, d.state) for d in store.deployments("api")]
    assert ("us-east-1", D2, "wf-2", RegionState.ROLLED_BACK) in history
    assert ("eu-west-1", D1, "wf-2", RegionState.LIVE) in history


def test_a_bad_live_digest_is_not_the_last_known_good(store: VersionStore) -> None:
    _live(store, EU, D1, "v1", "wf-1")
    _live(store, EU, D2, "v2", "wf-2")
    store.mark_bad(service="api", digest=D2, reason="memory leak found later", actor="alice")
    good = store.last_known_good(EU)
    assert good is not None
    assert good.digest == D1
    store.clear_bad(service="api", digest=D2, reason="leak was in a sidecar", actor="bob")
    good = store.last_known_good(EU)
    assert good is not None
    assert good.digest == D2


def test_a_removed_first_deployment_leaves_nothing_live(store: VersionStore) -> None:
    _live(store, EU, D1, "v1", "wf-1")
    store.record_region_state(EU, digest=D1, tag="v1", state=RegionState.REMOVED, workflow_id="wf-1")
    assert store.live_regions("api") == []


def test_recording_the_same_state_twice_changes_nothing(store: VersionStore) -> None:
    _live(store, EU, D1, "v1", "wf-1")
    before = store.deployments("api")
    live_before = store.live_regions("api")
    store.record_region_state(EU, digest=D1, tag="v1", state=RegionState.LIVE, workflow_id="wf-1")
    after = store.deployments("api")
    assert len(after) == len(before) == 1
    assert after[0].live_at == before[0].live_at
    assert store.live_regions("api")[0].since == live_before[0].since
