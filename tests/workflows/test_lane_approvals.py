"""Change control across lanes: the pusher of a version in staging is its initiator in prod too, so prod's "2
approvers, not the pusher" refuses them; `rollwright status` shows who approved; a lane that requires verified
controls refuses unverified ones and audits a verified one under the attested subject."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from rollwright.cli.commands.status import render
from rollwright.control.status import LaneView, ServiceStatus
from rollwright.domain.attestation import Operator, attest, install_control_key, installed_control_key
from rollwright.domain.deployment import ControlName, ControlRequest, DeploymentOutcome, DeploymentResult
from rollwright.domain.lane import (
    LaneActionKind,
    LaneAnswer,
    LaneControl,
    ReleaseRequest,
    RollbackRequest,
    lane_workflow_id,
)
from rollwright.domain.plan import ApprovalPlan, EnvironmentPlan, PromotePlan
from tests.workflows.harness import environment, eventually
from tests.workflows.lane_doubles import LaneDoubles, Lanes, lane_workers
from workflows.deployment import DeploymentWorkflow

KEY = b"test-key"


@pytest.fixture
def control_key() -> Iterator[bytes]:
    before = installed_control_key()
    install_control_key(KEY)
    yield KEY
    install_control_key(before)


def prod(**changes: object) -> EnvironmentPlan:
    return environment("prod", [["us-east-1"]]).model_copy(update={"promote": PromotePlan(source="staging"), **changes})


async def refusal(handle: WorkflowHandle[Any, Any], name: str, req: BaseModel) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(name, req, result_type=None)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def test_prod_needs_two_approvers_and_not_the_pusher_and_status_shows_who_approved(
    temporal_env: WorkflowEnvironment,
) -> None:
    client = temporal_env.client
    doubles = LaneDoubles(baselines={})
    policy = ApprovalPlan(required=True, approvers=2, not_by_initiator=True)
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, environment("staging", [["stg-a"]]), prod(approval=policy))
        await lanes.push("v1.0.0", actor="pat")
        await lanes.live("staging", "v1.0.0")
        running = await lanes.running("prod", "v1.0.0")
        assert running.current_workflow_id is not None
        deployment = client.get_workflow_handle_for(DeploymentWorkflow.run, running.current_workflow_id)

        async def waiting() -> bool:
            return (await deployment.query(DeploymentWorkflow.status)).awaiting_approval == "prod"

        await eventually(waiting, what="prod waiting for approval")
        approve = ControlName.APPROVE.value
        pusher = await refusal(deployment, approve, ControlRequest(actor="pat", reason="ship it"))
        assert pusher == (
            "pat may not approve prod: pat pushed or commanded this deployment, and its approvals must come from "
            "someone else"
        )
        first = await deployment.execute_update(
            DeploymentWorkflow.approve, ControlRequest(actor="carol", reason="diff reviewed")
        )
        assert first.message == "approval 1 of 2 for prod: waiting for 1 more"
        twice = await refusal(deployment, approve, ControlRequest(actor="carol", reason="again"))
        assert "carol already approved prod" in twice

        shown = render(
            ServiceStatus(
                service=lanes.service,
                lanes=[
                    LaneView(
                        environment="prod",
                        workflow_id=lane_workflow_id(lanes.service, "prod"),
                        started=True,
                        lane=await lanes.status("prod"),
                        deployment=await deployment.query(DeploymentWorkflow.status),
                    )
                ],
            )
        )
        assert "waiting for approval to enter prod (1 of 2 approvers)" in shown
        assert "prod approved by carol (unverified) " in shown
        assert doubles.live_in(lanes.key("prod", "us-east-1")) is None, "one approval of two changes nothing"

        second = await deployment.execute_update(
            DeploymentWorkflow.approve, ControlRequest(actor="dave", reason="on call agrees")
        )
        assert second.message == "approved prod"
        await lanes.live("prod", "v1.0.0")
        result: DeploymentResult = await deployment.result()

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert [(e.action, e.actor) for e in result.audit] == [("approve", "carol"), ("approve", "dave")]


async def test_a_lane_that_requires_verified_controls_audits_the_attested_subject(
    temporal_env: WorkflowEnvironment, control_key: bytes
) -> None:
    client = temporal_env.client
    doubles = LaneDoubles(baselines={})
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, environment("staging", [["stg-a"]]), prod(require_verified=True))
        for tag in ("v1.0.0", "v1.1.0"):
            await lanes.push(tag)
            await lanes.live("prod", tag)
        handle = lanes.handle("prod")
        rollback = RollbackRequest(actor="alice", reason="checkout errors")

        unverified = await refusal(handle, LaneControl.ROLLBACK.value, rollback)
        assert unverified.startswith("prod requires verified controls")
        alice = Operator(subject="alice@example.com", groups=("deployers",))
        now = datetime.now(UTC)
        staging_id = lane_workflow_id(lanes.service, "staging")
        for_staging = rollback.model_copy(
            update={"attestation": attest(KEY, alice, LaneControl.ROLLBACK.value, staging_id, rollback, now)}
        )
        assert "does not match" in await refusal(handle, LaneControl.ROLLBACK.value, for_staging)
        assert (await lanes.status("prod")).hold is None

        verified = rollback.model_copy(
            update={"attestation": attest(KEY, alice, LaneControl.ROLLBACK.value, handle.id, rollback, now)}
        )
        answer = await handle.execute_update(LaneControl.ROLLBACK.value, verified, result_type=LaneAnswer)
        assert answer.workflow_id is not None
        await lanes.live("prod", "v1.0.0")
        hold = (await lanes.status("prod")).hold
        assert hold is not None
        assert hold.actor == "alice@example.com"
        release = ReleaseRequest(actor="bob", reason="fixed")
        assert "requires verified controls" in await refusal(handle, LaneControl.RELEASE.value, release)

        async def audited() -> bool:
            return {LaneActionKind.ROLLBACK, LaneActionKind.HOLD} <= {a.action for a in doubles.audited}

        await eventually(audited, what="the rollback and its hold audited")

    prod_actions = [(a.action, a.actor, a.verified) for a in doubles.audited if a.environment == "prod"]
    assert prod_actions == [
        (LaneActionKind.ROLLBACK, "alice@example.com", True),
        (LaneActionKind.HOLD, "alice@example.com", True),
    ]
