"""Workers that die under a step: the step is retried elsewhere within seconds, and only the step's own verdict
(an error it raised, a failed canary) can fail a deployment — never the number of workers that died under it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName
from rollwright.domain.deployment import DeploymentLimits, DeploymentOutcome
from tests.workflows.conftest import WorkersFactory
from tests.workflows.doubles import Doubles
from tests.workflows.harness import OLD, deployment_input, environment, plan
from workflows.deployment import DeploymentWorkflow

PROD = "checkout-api/prod/us-east-1"
ONE_REGION = plan(environment("prod", [["us-east-1"]]))
# Production's rules (no attempt count, budgets), with a short heartbeat timeout so the test waits seconds.
CRASH_LIMITS = DeploymentLimits(
    heartbeat_timeout=timedelta(seconds=1),
    retry_initial_interval=timedelta(milliseconds=100),
    retry_max_interval=timedelta(milliseconds=200),
)


async def test_five_dead_workers_under_a_provision_do_not_fail_a_healthy_version(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    doubles = Doubles(baselines={PROD: OLD}, deaths={ActivityName.PROVISION_REGION.value: 5})
    async with workers(doubles) as queues:
        inp = deployment_input(ONE_REGION, queues).model_copy(update={"limits": CRASH_LIMITS})
        result = await temporal_env.client.execute_workflow(
            DeploymentWorkflow.run, inp, id=f"deploy-crashloop-{uuid.uuid4().hex[:6]}", task_queue=queues.main
        )

    assert result.outcome is DeploymentOutcome.SUCCEEDED, result.reason
    assert [call.attempt for call in doubles.named(ActivityName.PROVISION_REGION)] == [1, 2, 3, 4, 5, 6]
    assert doubles.named(ActivityName.MARK_DIGEST_BAD) == []


async def test_a_worker_dying_during_a_commit_delays_it_by_about_its_heartbeat_timeout(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    doubles = Doubles(baselines={PROD: OLD}, deaths={ActivityName.COMMIT_MANIFESTS.value: 1})
    async with workers(doubles) as queues:
        inp = deployment_input(ONE_REGION, queues).model_copy(update={"limits": CRASH_LIMITS})
        handle = await temporal_env.client.start_workflow(
            DeploymentWorkflow.run, inp, id=f"deploy-commit-death-{uuid.uuid4().hex[:6]}", task_queue=queues.main
        )
        result = await handle.result()
        history = await handle.fetch_history()

    assert result.outcome is DeploymentOutcome.SUCCEEDED, result.reason
    scheduled = next(
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == ActivityName.COMMIT_MANIFESTS.value
    )
    started = next(
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id == scheduled.event_id
    )
    completed = next(
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        and e.activity_task_completed_event_attributes.scheduled_event_id == scheduled.event_id
    )
    assert started.activity_task_started_event_attributes.attempt == 2
    delay = completed.event_time.ToDatetime() - scheduled.event_time.ToDatetime()
    # One heartbeat timeout (1 s) to notice the death, a retry interval, then the commit itself.
    assert delay < timedelta(seconds=4), delay
