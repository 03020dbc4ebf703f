"""Published versions are recorded once, keep their first source, and report a state that follows deployments."""

from __future__ import annotations

from datetime import UTC, datetime

from rollwright.domain.identity import RegionTarget
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import VersionState, VersionStore

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
EU = RegionTarget(service="api", environment="prod", region="eu-west-1")
US = RegionTarget(service="api", environment="prod", region="us-east-1")


def test_a_version_is_recorded_once_with_its_first_source(store: VersionStore) -> None:
    pushed = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    first = store.record_version(service="api", tag="v1", digest=D1, image="reg/api", pushed_at=pushed,
                                 source="distribution", source_event_id="evt-1", workflow_id="wf-1")  # fmt: skip
    again = store.record_version(service="api", tag="v1", digest=D1, image="reg/api", source="distribution",
                                 source_event_id="evt-2", workflow_id="wf-2")  # fmt: skip
    assert [v.digest for v in store.versions("api")] == [D1]
    assert again.source_event_id == "evt-1"
    assert again.pushed_at == pushed
    assert first.state is VersionState.PENDING


def test_versions_list_newest_first_per_service(store: VersionStore) -> None:
    store.record_version(service="api", tag="v1", digest=D1, image="reg/api")
    store.record_version(service="api", tag="v2", digest=D2, image="reg/api")
    store.record_version(service="web", tag="v9", digest=D2, image="reg/web")
    assert [v.tag for v in store.versions("api")] == ["v2", "v1"]
    assert [v.tag for v in store.versions("web")] == ["v9"]


def test_version_state_follows_its_deployments(store: VersionStore) -> None:
    store.record_version(service="api", tag="v1", digest=D1, image="reg/api")
    store.record_version(service="api", tag="v2", digest=D2, image="reg/api")

    def state(digest: str) -> VersionState:
        return next(v.state for v in store.versions("api") if v.digest == digest)

    store.record_region_state(EU, digest=D1, tag="v1", state=RegionState.DEPLOYING, workflow_id="wf-1")
    assert state(D1) is VersionState.DEPLOYING
    store.record_region_state(EU, digest=D1, tag="v1", state=RegionState.LIVE, workflow_id="wf-1")
    assert state(D1) is VersionState.LIVE
    store.record_region_state(EU, digest=D2, tag="v2", state=RegionState.LIVE, workflow_id="wf-2")
    assert (state(D1), state(D2)) == (VersionState.SUPERSEDED, VersionState.LIVE)
    store.record_region_state(EU, digest=D1, tag="v1", state=RegionState.LIVE, workflow_id="wf-2")
    store.record_region_state(EU, digest=D2, tag="v2", state=RegionState.ROLLED_BACK, workflow_id="wf-2")
    assert (state(D1), state(D2)) == (VersionState.LIVE, VersionState.ROLLED_BACK)
    store.mark_bad(service="api", digest=D2, reason="canary failed", actor="rollwright")
    assert state(D2) is VersionState.BAD
