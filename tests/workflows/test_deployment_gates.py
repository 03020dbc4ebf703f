"""Approvals given by an engineer, approvals that time out with `stop`, and a step that fails for good."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName, ProvisionPurpose
from rollwright.domain.deployment import ControlRequest, DeploymentOutcome, RegionPhase
from rollwright.domain.notification import NotificationKind
from tests.workflows.conftest import WorkersFactory
from tests.workflows.doubles import Doubles
from tests.workflows.harness import (
    NEW,
    OLD,
    check_replay,
    deployment_input,
    environment,
    eventually,
    plan,
    running_workers,
)
from workflows.deployment import DeploymentWorkflow

STAGING, PROD = "checkout-api/staging/stg-a", "checkout-api/prod/us-east-1"
GUARDED = plan(environment("staging", [["stg-a"]]), environment("prod", [["us-east-1"]], approval=True))


async def test_prod_waits_for_an_engineers_approval(temporal_env: WorkflowEnvironment, workers: WorkersFactory) -> None:
    doubles = Doubles(baselines={STAGING: OLD, PROD: OLD})
    async with workers(doubles) as queues:
        handle = await temporal_env.client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(GUARDED, queues),
            id=f"deploy-approve-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )

        async def waiting() -> bool:
            return (await handle.query(DeploymentWorkflow.status)).awaiting_approval == "prod"

        await eventually(waiting, what="prod waiting for approval")
        assert doubles.keys(ActivityName.GET_REGION_BASELINE) == [STAGING], "prod must not start before approval"
        answer = await handle.execute_update(
            DeploymentWorkflow.approve, ControlRequest(actor="carol", reason="CAB ok", environment="prod")
        )
        assert answer.message == "approved prod"
        result = await handle.result()
        await check_replay(handle, "deployment_approval")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert [(e.action, e.actor, e.reason) for e in result.audit] == [("approve", "carol", "CAB ok")]
    assert doubles.keys(ActivityName.GET_REGION_BASELINE) == [STAGING, PROD]
    needed = [c.arg for c in doubles.named(ActivityName.NOTIFY) if c.arg.kind is NotificationKind.APPROVAL_NEEDED]
    assert [n.environment for n in needed] == ["prod"]


async def test_unanswered_approval_with_stop_default_stops_without_rollback(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(baselines={STAGING: OLD, PROD: OLD})
    stopping = plan(
        environment("staging", [["stg-a"]]),
        environment("prod", [["us-east-1"]], approval=True, timeout=timedelta(hours=8)),
    )
    async with running_workers(time_skipping_env.client, doubles) as queues:
        handle = await time_skipping_env.client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(stopping, queues),
            id=f"deploy-unanswered-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )
        result = await handle.result()
        await check_replay(handle, "deployment_approval_timeout")

    assert result.outcome is DeploymentOutcome.STOPPED
    assert [r.phase for r in result.regions] == [RegionPhase.LIVE, RegionPhase.PENDING]
    assert not [c for c in doubles.named(ActivityName.PROVISION_REGION) if c.arg.purpose is not ProvisionPurpose.DEPLOY]
    assert doubles.named(ActivityName.MARK_DIGEST_BAD) == []


async def test_a_step_failing_for_good_rolls_back_and_marks_the_digest_bad(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    doubles = Doubles(baselines={STAGING: OLD, PROD: OLD}, broken_stacks={PROD})
    straight = plan(environment("staging", [["stg-a"]]), environment("prod", [["us-east-1"]]))
    async with workers(doubles) as queues:
        handle = await temporal_env.client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(straight, queues),
            id=f"deploy-guardrail-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )
        result = await handle.result()
        await check_replay(handle, "deployment_step_failure")

    assert result.outcome is DeploymentOutcome.ROLLED_BACK
    assert result.reason is not None
    assert "staging database" in result.reason
    # Non-retryable: one attempt only, then both changed regions go back, newest first.
    deploys = [c for c in doubles.named(ActivityName.PROVISION_REGION) if c.arg.purpose is ProvisionPurpose.DEPLOY]
    assert [c.key for c in deploys] == [STAGING, PROD]
    rollbacks = [
        c.key for c in doubles.named(ActivityName.PROVISION_REGION) if c.arg.purpose is ProvisionPurpose.ROLLBACK
    ]
    assert rollbacks == [PROD, STAGING]
    marked = doubles.named(ActivityName.MARK_DIGEST_BAD)
    assert [c.arg.digest for c in marked] == [NEW]
    assert "staging database" in marked[0].arg.reason
    assert [r.phase for r in result.regions] == [RegionPhase.ROLLED_BACK, RegionPhase.ROLLED_BACK]
