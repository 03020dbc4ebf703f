"""Which version a typed tag or digest names: the lane's own record first, then the version store's."""

from __future__ import annotations

from datetime import UTC, datetime

from rollwright.control.refs import find_version
from rollwright.domain.deployment import VersionRef
from rollwright.domain.lane import LiveVersion
from rollwright.versionstore import VersionRecord, VersionState
from tests.cli.doubles import digest_of

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
REPUSHED = "sha256:" + "ab" * 32


def went_live(tag: str, digest: str) -> LiveVersion:
    return LiveVersion(tag=tag, digest=digest, since=NOW)


def recorded(tag: str, digest: str) -> VersionRecord:
    return VersionRecord(
        service="shop",
        tag=tag,
        digest=digest,
        image=None,
        state=VersionState.SUPERSEDED,
        pushed_at=None,
        source=None,
        source_event_id=None,
        workflow_id=None,
        recorded_at=NOW,
        updated_at=NOW,
    )


def test_a_tag_names_what_went_live_in_the_lane_newest_first() -> None:
    known = [went_live("v1.0.0", digest_of("v1.0.0")), went_live("v1.0.0", REPUSHED)]
    store = [recorded("v1.0.0", digest_of("other"))]

    assert find_version("v1.0.0", known, store) == VersionRef(tag="v1.0.0", digest=REPUSHED)


def test_the_store_answers_what_the_lane_never_ran() -> None:
    store = [recorded("v0.8.0", digest_of("v0.8.0"))]

    assert find_version("v0.8.0", [], store) == VersionRef(tag="v0.8.0", digest=digest_of("v0.8.0"))
    assert find_version(digest_of("v0.8.0"), [], store) == VersionRef(tag="v0.8.0", digest=digest_of("v0.8.0"))
    assert find_version("v0.7.0", [went_live("v1.0.0", digest_of("v1.0.0"))], store) is None
