"""A policy pack's advisory verdict does not stop the rollout: the region's status and the notification show it."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName
from rollwright.domain.deployment import DeploymentOutcome
from rollwright.domain.notification import Notification, NotificationKind
from rollwright.domain.policy import EnforcementLevel, PolicyVerdict
from tests.workflows.doubles import Doubles
from tests.workflows.harness import OLD, deployment_input, environment, plan, running_workers
from workflows.deployment import DeploymentWorkflow

STAGING = "checkout-api/staging/stg-a"
ADVICE = PolicyVerdict(
    pack="team-pack",
    policy="three-replicas",
    level=EnforcementLevel.ADVISORY,
    resource="rollout",
    message="rollout runs fewer than 3 replicas: consider 3 for headroom",
)


async def test_an_advisory_verdict_is_in_the_status_and_the_notification(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(baselines={STAGING: OLD}, advisories={STAGING: [ADVICE]})
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(plan(environment("staging", [["stg-a"]])), queues),
            id=f"deploy-advised-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )
        result = await handle.result()

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    [region] = result.regions
    assert region.advisories == [str(ADVICE)]
    assert "[team-pack/three-replicas, advisory] rollout: rollout runs fewer than 3 replicas" in region.advisories[0]
    sent = [call.arg for call in doubles.named(ActivityName.NOTIFY)]
    assert isinstance(sent[0], Notification)
    assert [n.kind for n in sent] == [NotificationKind.ENVIRONMENT_SUCCEEDED]
    assert sent[0].advisories == [f"{STAGING}: {ADVICE}"]
