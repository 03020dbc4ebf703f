"""A canary failing in the last wave rolls back every region the deployment changed, newest change first."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName, ProvisionPurpose
from rollwright.domain.deployment import DeploymentOutcome, RegionPhase
from rollwright.domain.notification import NotificationKind
from tests.workflows.conftest import WorkersFactory
from tests.workflows.doubles import Doubles
from tests.workflows.harness import NEW, OLD, check_replay, deployment_input, environment, eventually, plan
from workflows.deployment import DeploymentWorkflow

STAGING = "checkout-api/staging/stg-a"
US, EU, AP = "checkout-api/prod/us-east-1", "checkout-api/prod/eu-west-1", "checkout-api/prod/ap-south-1"


async def test_failed_canary_rolls_back_every_changed_region_wave_by_wave_newest_first(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    # ap-south-1 never ran the service before (no baseline), and is still following its canary when eu fails.
    doubles = Doubles(
        baselines={STAGING: OLD, US: OLD, EU: OLD},
        canary_fails={EU: NEW},
        hold={AP: NEW},
        slow_baselines={AP: 0.2},  # so ap-south-1 changes after eu-west-1, and the rollback order is known
        pair_up=lambda arg: arg.purpose is not ProvisionPurpose.DEPLOY and arg.target.key in (EU, AP),
    )
    service_plan = plan(
        environment("staging", [["stg-a"]]), environment("prod", [["us-east-1"], ["eu-west-1", "ap-south-1"]])
    )
    client = temporal_env.client
    workflow_id = f"deploy-rollback-{uuid.uuid4().hex[:6]}"
    async with workers(doubles) as queues:
        handle = await client.start_workflow(
            DeploymentWorkflow.run, deployment_input(service_plan, queues), id=workflow_id, task_queue=queues.main
        )
        result = await handle.result()
        await check_replay(handle, "deployment_rollback")

    assert result.outcome is DeploymentOutcome.ROLLED_BACK
    assert result.reason is not None
    assert "eu-west-1" in result.reason
    assert "analysis failed" in result.reason
    regions = {r.region: r for r in result.regions}
    assert {name: r.phase for name, r in regions.items()} == dict.fromkeys(
        ("stg-a", "us-east-1", "eu-west-1", "ap-south-1"), RegionPhase.ROLLED_BACK
    )
    assert [regions[name].digest for name in ("stg-a", "us-east-1", "eu-west-1")] == [OLD, OLD, OLD]
    assert regions["ap-south-1"].digest is None

    # The in-flight canary was cancelled, and both unfinished canaries were aborted before the rollback.
    ap_follow = doubles.first(ActivityName.SYNC_AND_FOLLOW, AP)
    assert ap_follow.ended is None, "ap-south-1's canary should have been cancelled, not waited for"
    assert sorted(doubles.keys(ActivityName.ABORT_ROLLOUT)) == sorted([EU, AP])

    # Rollback provisions: newest change first, back to the previous digest, or removal without one.
    deploys = [c for c in doubles.named(ActivityName.PROVISION_REGION) if c.arg.purpose is ProvisionPurpose.DEPLOY]
    rollbacks = [
        c for c in doubles.named(ActivityName.PROVISION_REGION) if c.arg.purpose is not ProvisionPurpose.DEPLOY
    ]
    assert [c.key for c in deploys] == [STAGING, US, EU, AP]
    # Wave by wave, the newest first; a wave's regions together.
    assert {c.key for c in rollbacks[:2]} == {EU, AP}
    assert [c.key for c in rollbacks[2:]] == [US, STAGING]
    assert doubles.peak_paired == 2
    assert {c.key: (c.arg.purpose, c.arg.digest) for c in rollbacks} == {
        STAGING: (ProvisionPurpose.ROLLBACK, OLD),
        US: (ProvisionPurpose.ROLLBACK, OLD),
        EU: (ProvisionPurpose.ROLLBACK, OLD),
        AP: (ProvisionPurpose.REMOVE, None),
    }
    rollback_commits = [c.key for c in doubles.named(ActivityName.COMMIT_MANIFESTS) if c.arg.purpose.value != "deploy"]
    assert set(rollback_commits[:2]) == {EU, AP}
    assert rollback_commits[2:] == [US, STAGING]
    # Every rollback waited for Argo CD to go healthy on the rollback commit.
    rollback_syncs = [c.key for c in doubles.named(ActivityName.SYNC_AND_FOLLOW) if c.arg.digest != NEW]
    assert set(rollback_syncs[:2]) == {EU, AP}
    assert rollback_syncs[2:] == [US, STAGING]

    assert [(c.arg.digest, c.arg.actor) for c in doubles.named(ActivityName.MARK_DIGEST_BAD)] == [(NEW, "rollwright")]
    rolled_back = [c.arg for c in doubles.named(ActivityName.NOTIFY) if c.arg.kind is NotificationKind.ROLLED_BACK]
    assert len(rolled_back) == 1
    assert sorted(rolled_back[0].regions) == sorted([STAGING, US, EU, AP])

    async def outcome_is_searchable() -> bool:
        query = f"WorkflowId = '{workflow_id}' AND RollwrightOutcome = 'rolled_back' AND RollwrightPhase = 'done'"
        return (await client.count_workflows(query)).count == 1

    await eventually(outcome_is_searchable, what="RollwrightOutcome = 'rolled_back' in visibility")
