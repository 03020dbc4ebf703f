"""Marking a digest bad and clearing the mark are explicit and audited: who, why, when."""

from __future__ import annotations

import pytest

from rollwright.versionstore import AuditAction, NotMarkedBadError, VersionStore

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def test_mark_and_clear_are_audited(store: VersionStore) -> None:
    assert store.bad_mark("api", D1) is None
    mark = store.mark_bad(service="api", digest=D1, reason="canary failed", actor="rollwright", workflow_id="wf-1")
    assert (mark.reason, mark.actor, mark.workflow_id) == ("canary failed", "rollwright", "wf-1")
    assert store.bad_mark("api", D1) == mark
    assert store.bad_mark("web", D1) is None
    assert store.bad_mark("api", D2) is None
    store.clear_bad(service="api", digest=D1, reason="false alarm: probe misconfigured", actor="alice")
    assert store.bad_mark("api", D1) is None
    trail = store.audit("api", D1)
    assert [(a.action, a.actor, a.reason) for a in trail] == [
        (AuditAction.MARK_BAD, "rollwright", "canary failed"),
        (AuditAction.CLEAR_BAD, "alice", "false alarm: probe misconfigured"),
    ]
    assert trail[0].at <= trail[1].at


def test_a_retried_mark_is_audited_once_and_the_first_reason_stands(store: VersionStore) -> None:
    for _ in range(3):
        store.mark_bad(service="api", digest=D1, reason="canary failed", actor="rollwright", request_key="wf-1/mark")
    store.mark_bad(service="api", digest=D1, reason="also broken in eu", actor="bob")
    mark = store.bad_mark("api", D1)
    assert mark is not None
    assert mark.reason == "canary failed"
    assert [a.actor for a in store.audit("api")] == ["rollwright", "bob"]


def test_clearing_an_unmarked_digest_says_so(store: VersionStore) -> None:
    with pytest.raises(NotMarkedBadError, match="is not marked bad"):
        store.clear_bad(service="api", digest=D2, reason="x", actor="alice")
    assert store.audit("api") == []
