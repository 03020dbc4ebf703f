"""Deliberate acts on lanes are audited once each (a retried activity writes nothing more), listed newest first,
and what the audit could not answer for is refused before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from rollwright.domain.lane import LaneActionKind
from rollwright.versionstore import InvalidLaneActionError, VersionStore

D1 = "sha256:" + "1" * 64
T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _act(store: VersionStore, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "service": "api",
        "environment": "prod",
        "action": LaneActionKind.ROLLBACK,
        "actor": "alice",
        "reason": "p99 latency doubled",
        "at": T0,
        "workflow_id": "lane-api-prod",
        "tag": "v1.0.0",
        "digest": D1,
    }
    return store.record_lane_action(**(fields | changes))


def test_an_action_is_recorded_with_who_why_when_and_where(store: VersionStore) -> None:
    recorded = _act(store)
    assert recorded.model_dump(exclude={"recorded_at"}) == {
        "service": "api",
        "environment": "prod",
        "action": LaneActionKind.ROLLBACK,
        "actor": "alice",
        "reason": "p99 latency doubled",
        "at": T0,
        "workflow_id": "lane-api-prod",
        "tag": "v1.0.0",
        "digest": D1,
        "verified": False,
    }
    assert store.lane_actions("api") == [recorded]
    assert store.lane_actions("web") == []


def test_an_action_by_a_verified_operator_says_so(store: VersionStore) -> None:
    _act(store, actor="alice@example.com", verified=True)
    _act(store, action=LaneActionKind.HOLD)
    assert {(a.action, a.actor, a.verified) for a in store.lane_actions("api")} == {
        (LaneActionKind.ROLLBACK, "alice@example.com", True),
        (LaneActionKind.HOLD, "alice", False),
    }


def test_a_retried_action_is_recorded_once_and_the_first_write_stands(store: VersionStore) -> None:
    first = _act(store)
    # The same act seen from another zone is the same instant: still the same key.
    again = _act(store, at=T0.astimezone(timezone(timedelta(hours=2))), reason="retried")
    assert again == first
    assert [a.reason for a in store.lane_actions("api")] == ["p99 latency doubled"]
    # Another act of the same workflow (a later instant, or another kind at the same instant) is its own row.
    _act(store, at=T0 + timedelta(microseconds=1))
    _act(store, action=LaneActionKind.HOLD)
    assert len(store.lane_actions("api")) == 3


def test_actions_are_listed_newest_first_by_environment_and_limit(store: VersionStore) -> None:
    _act(store, environment="staging", action=LaneActionKind.PIN, at=T0, workflow_id="lane-api-staging")
    _act(store, action=LaneActionKind.ROLLBACK, at=T0 + timedelta(minutes=1))
    _act(store, action=LaneActionKind.HOLD, at=T0 + timedelta(minutes=1))
    _act(store, action=LaneActionKind.RELEASE, at=T0 + timedelta(hours=1), tag=None, digest=None)
    _act(store, environment="staging", action=LaneActionKind.PROMOTE, at=T0 + timedelta(hours=2))

    everything = store.lane_actions("api")
    # At the same instant the later write comes first: a hold is recorded after the rollback that made it.
    assert [(a.environment, a.action) for a in everything] == [
        ("staging", LaneActionKind.PROMOTE),
        ("prod", LaneActionKind.RELEASE),
        ("prod", LaneActionKind.HOLD),
        ("prod", LaneActionKind.ROLLBACK),
        ("staging", LaneActionKind.PIN),
    ]
    assert [a.action for a in store.lane_actions("api", "prod")] == [
        LaneActionKind.RELEASE,
        LaneActionKind.HOLD,
        LaneActionKind.ROLLBACK,
    ]
    assert [a.action for a in store.lane_actions("api", "staging", limit=1)] == [LaneActionKind.PROMOTE]
    release = everything[1]
    assert (release.tag, release.digest) == (None, None)
    assert all(a.at.tzinfo is not None for a in everything)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"action": "revert"}, r"unknown lane action 'revert' \(known: rollback, pin, hold, release, promote\)"),
        ({"at": T0.replace(tzinfo=None)}, "the time has no time zone"),
        ({"actor": " "}, r"needs who \(actor\) and why \(reason\)"),
        ({"reason": ""}, r"needs who \(actor\) and why \(reason\)"),
    ],
    ids=["unknown-action", "naive-time", "no-actor", "no-reason"],
)
def test_an_action_the_audit_cannot_answer_for_is_refused_and_writes_nothing(
    store: VersionStore, changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidLaneActionError, match=problem):
        _act(store, **changes)
    assert store.lane_actions("api") == []
