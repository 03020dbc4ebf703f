"""The pure rules behind the workflows: version order, push screening, when a control makes sense, which approval
counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from activities.contracts import CandidateInfo
from rollwright.domain.deployment import ControlName, ControlRequest, PipelineState, QueuedVersion
from rollwright.domain.plan import ApprovalPlan
from rollwright.domain.source import SourceEvent
from rollwright.domain.version_order import is_newer, semver_key
from tests.workflows.doubles import digest_of
from workflows.callers import Caller
from workflows.controls import ControlView, approval_rejection, rejection
from workflows.screening import Verdict, screen

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("newer", "older"),
    [("v1.10.0", "v1.9.0"), ("2.0.0", "v1.99.99"), ("v1.0.0", "v1.0.0-rc.2"), ("1.0.0-rc.10", "1.0.0-rc.9")],
)
def test_semantic_versions_order_by_number_not_text(newer: str, older: str) -> None:
    assert is_newer(newer, None, older, None)
    assert not is_newer(older, None, newer, None)


def test_non_version_tags_order_by_push_time_naive_times_read_as_utc() -> None:
    assert semver_key("main-abc123") is None
    assert is_newer("main-b", T0 + timedelta(minutes=1), "main-a", T0.replace(tzinfo=None))
    assert not is_newer("main-a", T0, "main-b", T0 + timedelta(minutes=1))


def version(tag: str) -> QueuedVersion:
    return QueuedVersion(tag=tag, source=SourceEvent(source="test", delivery_id=tag), digest=digest_of(tag))


def info(tag: str, **changes: object) -> CandidateInfo:
    return CandidateInfo(tag=tag, digest=digest_of(tag)).model_copy(update=changes)


def test_screening_refuses_seen_bad_disallowed_and_older_versions() -> None:
    state = PipelineState(live_tag="v1.2.0", seen_digests=[digest_of("v1.3.0")])
    assert screen(version("v1.3.0"), info("v1.3.0"), state).verdict is Verdict.IGNORE
    bad = screen(version("v1.4.0"), info("v1.4.0", marked_bad=True, bad_reason="canary"), state)
    assert (bad.verdict, "marked bad" in bad.reason) == (Verdict.IGNORE, True)
    policy = screen(version("v1.4.0"), info("v1.4.0", tag_allowed=False, tag_policy="^v"), state)
    assert (policy.verdict, "policy" in policy.reason) == (Verdict.IGNORE, True)
    assert screen(version("v1.1.0"), info("v1.1.0"), state).verdict is Verdict.IGNORE
    assert screen(version("v1.4.0"), info("v1.4.0"), state).verdict is Verdict.NEXT


def test_screening_lets_the_newest_waiting_version_win() -> None:
    state = PipelineState(next_up=version("v1.5.0"))
    assert screen(version("v1.4.0"), info("v1.4.0"), state).verdict is Verdict.SUPERSEDED
    assert screen(version("v1.6.0"), info("v1.6.0"), state).verdict is Verdict.NEXT


def test_controls_that_make_no_sense_are_rejected_with_a_reason() -> None:
    ask = ControlRequest(actor="alice", reason="why not")
    running = ControlView(finished=False, stopping=False, paused=False, awaiting_approval=None)
    assert rejection(ControlName.PAUSE, ask, running) is None
    assert rejection(ControlName.RESUME, ask, running) == "cannot resume: not paused"
    assert rejection(ControlName.APPROVE, ask, running) == "cannot approve: nothing is waiting for approval"
    waiting = ControlView(finished=False, stopping=False, paused=False, awaiting_approval="prod")
    assert rejection(ControlName.APPROVE, ask, waiting) is None
    staging = ControlRequest(actor="alice", reason="ok", environment="staging")
    assert rejection(ControlName.APPROVE, staging, waiting) == "cannot approve staging: the deployment waits for prod"
    done = ControlView(finished=True, stopping=False, paused=False, awaiting_approval=None)
    assert rejection(ControlName.ABORT, ask, done) == "cannot abort: the deployment has finished"
    paused = ControlView(finished=False, stopping=False, paused=True, awaiting_approval=None)
    assert rejection(ControlName.PAUSE, ask, paused) == "cannot pause: already paused"
    stopping = ControlView(finished=False, stopping=True, paused=False, awaiting_approval=None)
    assert rejection(ControlName.ABORT, ask, stopping) is not None


def test_an_approval_counts_once_per_person_from_an_allowed_group_and_never_from_the_initiator() -> None:
    policy = ApprovalPlan(required=True, approvers=2, groups=("sre", "release"), not_by_initiator=True)
    view = ControlView(
        finished=False, stopping=False, paused=False, awaiting_approval="prod", approval=policy, initiator="Pat"
    )
    carol = Caller("carol", verified=True, groups=("release",))
    assert approval_rejection("prod", view, carol) is None
    unverified = approval_rejection("prod", view, Caller("carol"))
    assert unverified is not None
    assert "known only for a verified request" in unverified
    assert approval_rejection("prod", view, Caller("dana", verified=True, groups=("dev",))) == (
        "dana may not approve prod: its approvals count only from the groups sre, release"
    )
    pusher = approval_rejection("prod", view, Caller(" pat ", verified=True, groups=("sre",)))
    assert pusher is not None
    assert "pushed or commanded this deployment" in pusher
    again = replace(view, approved_by=("Carol",))
    assert (
        approval_rejection("prod", again, carol)
        == "carol already approved prod: it needs 2 distinct approvers (1 so far)"
    )
    # No policy beyond `approval: required`: anyone, unverified, even the pusher, as before approval policies.
    plain = ControlView(finished=False, stopping=False, paused=False, awaiting_approval="prod", initiator="pat")
    assert approval_rejection("prod", plain, Caller("pat")) is None
    # An unknown pusher cannot be told apart from anyone.
    unknown = replace(view, initiator=None)
    assert approval_rejection("prod", unknown, Caller("pat", verified=True, groups=("sre",))) is None
