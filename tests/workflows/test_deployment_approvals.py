"""Approval policies and verified operators on a deployment: N distinct approvers from allowed groups and not the
pusher, each refusal said before it reaches history; attestations that do not hold are refused; an environment
that requires verified controls refuses the rest and audits the Temporal UI's signals it ignores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName
from rollwright.domain.attestation import Operator, attest, install_control_key, installed_control_key
from rollwright.domain.deployment import (
    ControlName,
    ControlRequest,
    DeploymentInput,
    DeploymentOutcome,
    DeploymentResult,
)
from rollwright.domain.plan import ApprovalPlan, EnvironmentPlan
from rollwright.domain.source import SourceEvent
from tests.workflows.conftest import WorkersFactory
from tests.workflows.doubles import Doubles
from tests.workflows.harness import (
    OLD,
    Queues,
    check_replay,
    deployment_input,
    environment,
    eventually,
    plan,
    status,
)
from workflows.deployment import DeploymentWorkflow

KEY = b"test-key"
STAGING, PROD = "checkout-api/staging/stg-a", "checkout-api/prod/us-east-1"
RELEASE_MANAGERS = ("release-managers",)
PUSHER = "pat@example.com"


@pytest.fixture
def control_key() -> Iterator[bytes]:
    """The key this process's workers check attestations with, as worker.py installs api.control_key."""
    before = installed_control_key()
    install_control_key(KEY)
    yield KEY
    install_control_key(before)


def guarded(policy: ApprovalPlan, *, require_verified: bool = False) -> list[EnvironmentPlan]:
    prod = environment("prod", [["us-east-1"]]).model_copy(
        update={"approval": policy, "require_verified": require_verified}
    )
    return [environment("staging", [["stg-a"]]), prod]


def pushed_by(inp: DeploymentInput, actor: str) -> DeploymentInput:
    return inp.model_copy(update={"source": SourceEvent(source="distribution", delivery_id="d-1", actor=actor)})


def ask(actor: str, reason: str = "looked at the change") -> ControlRequest:
    return ControlRequest(actor=actor, reason=reason, environment="prod")


def signed(
    req: ControlRequest,
    handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult],
    subject: str,
    groups: tuple[str, ...] = RELEASE_MANAGERS,
    *,
    control: ControlName = ControlName.APPROVE,
    key: bytes = KEY,
    workflow_id: str | None = None,
    at: datetime | None = None,
) -> ControlRequest:
    """`req` as the control API forwards it for a verified `subject`."""
    attestation = attest(
        key,
        Operator(subject=subject, groups=groups),
        control.value,
        workflow_id or handle.id,
        req,
        at or datetime.now(UTC),
    )
    return req.model_copy(update={"attestation": attestation})


async def refused(
    handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult],
    req: ControlRequest,
    control: ControlName = ControlName.APPROVE,
) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(control.value, req, result_type=None)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "ControlRejected"
    return cause.message


async def start_waiting(
    temporal_env: WorkflowEnvironment, queues: Queues, inp: DeploymentInput, kind: str
) -> WorkflowHandle[DeploymentWorkflow, DeploymentResult]:
    handle = await temporal_env.client.start_workflow(
        DeploymentWorkflow.run, inp, id=f"deploy-{kind}-{uuid.uuid4().hex[:6]}", task_queue=queues.main
    )

    async def waiting() -> bool:
        return (await status(handle)).awaiting_approval == "prod"

    await eventually(waiting, what="prod waiting for approval")
    return handle


async def accepted_updates(handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult]) -> int:
    history = await handle.fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)


async def test_two_verified_release_managers_other_than_the_pusher_approve_prod(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory, control_key: bytes
) -> None:
    doubles = Doubles(baselines={STAGING: OLD, PROD: OLD})
    policy = ApprovalPlan(required=True, approvers=2, groups=RELEASE_MANAGERS, not_by_initiator=True)
    async with workers(doubles) as queues:
        inp = pushed_by(deployment_input(plan(*guarded(policy)), queues), PUSHER)
        handle = await start_waiting(temporal_env, queues, inp, "policy")

        unverified = await refused(handle, ask("carol@example.com"))
        assert "groups release-managers" in unverified
        assert "verified request" in unverified
        wrong_group = await refused(handle, signed(ask("dana"), handle, "dana@example.com", ("developers",)))
        assert wrong_group == (
            "dana@example.com may not approve prod: its approvals count only from the groups release-managers"
        )
        # The pusher's name in another case is still the pusher.
        assert "pushed or commanded this deployment" in await refused(
            handle, signed(ask("pat"), handle, "Pat@Example.com")
        )

        first = await handle.execute_update(DeploymentWorkflow.approve, signed(ask("c"), handle, "carol@example.com"))
        assert first.message == "approval 1 of 2 for prod: waiting for 1 more"
        waiting = await status(handle)
        assert (waiting.awaiting_approval, waiting.approvals_needed) == ("prod", 2)
        assert [(a.environment, a.actor, a.verified) for a in waiting.approvals] == [
            ("prod", "carol@example.com", True)
        ]
        assert doubles.keys(ActivityName.GET_REGION_BASELINE) == [STAGING], "one approval of two changes nothing"
        twice = await refused(handle, signed(ask("carol again"), handle, "carol@example.com"))
        assert twice == "carol@example.com already approved prod: it needs 2 distinct approvers (1 so far)"

        second = await handle.execute_update(DeploymentWorkflow.approve, signed(ask("e"), handle, "erin@example.com"))
        assert second.message == "approved prod"
        result = await handle.result()
        done = await status(handle)
        await check_replay(handle, "deployment_approval_policy")
        accepted = await accepted_updates(handle)

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert doubles.keys(ActivityName.GET_REGION_BASELINE) == [STAGING, PROD]
    assert [(e.action, e.actor, e.verified) for e in result.audit] == [
        ("approve", "carol@example.com", True),
        ("approve", "erin@example.com", True),
    ]
    assert [a.actor for a in done.approvals] == ["carol@example.com", "erin@example.com"]
    assert done.awaiting_approval is None
    assert accepted == 2, "refused approvals never reached history"


async def test_an_attestation_that_does_not_hold_is_refused_and_an_unverified_abort_still_stops(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory, control_key: bytes
) -> None:
    doubles = Doubles(baselines={STAGING: OLD, PROD: OLD})
    async with workers(doubles) as queues:
        inp = deployment_input(plan(*guarded(ApprovalPlan(required=True), require_verified=True)), queues)
        handle = await start_waiting(temporal_env, queues, inp, "forged")
        carol = "carol@example.com"
        now = datetime.now(UTC)

        forged = await refused(handle, signed(ask("c"), handle, carol, key=b"guessed-key"))
        assert forged == "the request's attestation does not match it (signed for another request, workflow or key)"
        elsewhere = await refused(handle, signed(ask("c"), handle, carol, workflow_id="deploy-other"))
        assert "does not match" in elsewhere
        pause_ticket = signed(ask("c"), handle, carol, control=ControlName.PAUSE)
        assert "does not match" in await refused(handle, pause_ticket), "signed for pause, sent as approve"
        tampered = signed(ask("c"), handle, carol).model_copy(update={"reason": "changed on the way"})
        assert "does not match" in await refused(handle, tampered)
        stale = await refused(handle, signed(ask("c"), handle, carol, at=now - timedelta(minutes=6)))
        assert stale == "the request's attestation is older than 5 minutes"
        future = await refused(handle, signed(ask("c"), handle, carol, at=now + timedelta(minutes=2)))
        assert future == "the request's attestation is dated in the future"
        install_control_key(None)
        keyless = await refused(handle, signed(ask("c"), handle, carol))
        assert "no control key" in keyless
        install_control_key(KEY)
        assert (await status(handle)).approvals == []

        # Stopping needs no verification: an abort only takes regions back to what ran before.
        await handle.execute_update(DeploymentWorkflow.abort, ControlRequest(actor="oncall", reason="incident"))
        result = await handle.result()
        accepted = await accepted_updates(handle)

    assert result.outcome is DeploymentOutcome.ABORTED
    assert [(e.action, e.actor, e.verified) for e in result.audit] == [("abort", "oncall", False)]
    assert accepted == 1


async def test_require_verified_refuses_unverified_updates_and_audits_the_signals_it_ignores(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory, control_key: bytes
) -> None:
    doubles = Doubles(baselines={STAGING: OLD, PROD: OLD})
    async with workers(doubles) as queues:
        inp = deployment_input(plan(*guarded(ApprovalPlan(required=True), require_verified=True)), queues)
        handle = await start_waiting(temporal_env, queues, inp, "strict")

        refusal = await refused(handle, ask("carol"))
        assert refusal.startswith("prod requires verified controls: send it through the control API (`api.url`")
        assert "requires verified controls" in await refused(handle, ask("carol"), ControlName.PAUSE)
        # The Temporal UI's signal form: never verified, whatever it carries.
        await handle.signal(ControlName.APPROVE.signal_name, signed(ask("mallory"), handle, "carol@example.com"))
        await handle.signal(ControlName.PAUSE.signal_name, ask("mallory", "hold on"))

        async def both_refused() -> bool:
            return len((await status(handle)).audit) == 2

        await eventually(both_refused, what="both signals audited as refused")
        current = await status(handle)
        assert (current.awaiting_approval, current.paused, current.approvals) == ("prod", False, [])

        # A verified approval is audited under the attested subject, whatever name the request gave.
        answer = await handle.execute_update(
            DeploymentWorkflow.approve, signed(ask("someone"), handle, "carol@example.com")
        )
        assert answer.message == "approved prod"
        result = await handle.result()
        await check_replay(handle, "deployment_approval_verified")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    audit = [(e.action, e.actor, e.verified) for e in result.audit]
    assert audit == [
        ("approve refused", "mallory", False),
        ("pause refused", "mallory", False),
        ("approve", "carol@example.com", True),
    ]
    assert "requires verified controls" in result.audit[0].reason


async def test_unverified_signals_count_once_per_person_where_verification_is_not_required(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    doubles = Doubles(baselines={STAGING: OLD, PROD: OLD})
    async with workers(doubles) as queues:
        inp = deployment_input(plan(*guarded(ApprovalPlan(required=True, approvers=2))), queues)
        handle = await start_waiting(temporal_env, queues, inp, "signals")
        await handle.signal(ControlName.APPROVE.signal_name, ask("alice"))
        await handle.signal(ControlName.APPROVE.signal_name, ask(" Alice ", "me again"))

        async def one_counted() -> bool:
            return len((await status(handle)).approvals) == 1

        await eventually(one_counted, what="alice's approval counted")
        answer = await handle.execute_update(DeploymentWorkflow.approve, ask("bob"))
        assert answer.message == "approved prod"
        result = await handle.result()
        done = await status(handle)

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert [(e.action, e.actor, e.verified) for e in result.audit] == [
        ("approve", "alice", False),
        ("approve", "bob", False),
    ]
    assert [(a.actor, a.verified) for a in done.approvals] == [("alice", False), ("bob", False)]
