"""A clean rollout across two environments on the time-skipping server: order, parallelism, bake, approval."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName
from rollwright.domain.deployment import DeploymentOutcome, RegionPhase
from rollwright.domain.notification import NotificationKind
from rollwright.domain.plan import ApprovalDefault
from tests.workflows.doubles import Doubles
from tests.workflows.harness import OLD, check_replay, deployment_input, environment, plan, running_workers
from workflows.deployment import DeploymentWorkflow

STAGING = "checkout-api/staging/stg-a"
US, EU, AP = "checkout-api/prod/us-east-1", "checkout-api/prod/eu-west-1", "checkout-api/prod/ap-south-1"


async def test_rollout_runs_environments_then_waves_with_bake_and_approval(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(
        baselines={US: OLD, EU: OLD, AP: OLD, STAGING: OLD}, pair_up=lambda arg: arg.target.key in (EU, AP)
    )
    service_plan = plan(
        environment("staging", [["stg-a"]], bake=timedelta(hours=1)),
        environment(
            "prod",
            [["us-east-1"], ["eu-west-1", "ap-south-1"]],
            bake=timedelta(hours=1),
            approval=True,
            timeout=timedelta(hours=2),
            on_timeout=ApprovalDefault.PROCEED,
        ),
    )
    client = time_skipping_env.client
    began = time.monotonic()
    async with running_workers(client, doubles) as queues:
        handle = await client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(service_plan, queues),
            id=f"deploy-happy-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )
        result = await handle.result()
        await check_replay(handle, "deployment_happy")
    assert time.monotonic() - began < 30, "a 1-hour bake and a 2-hour approval must be skipped, not waited"

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert {r.region: r.phase for r in result.regions} == {
        "stg-a": RegionPhase.LIVE,
        "us-east-1": RegionPhase.LIVE,
        "eu-west-1": RegionPhase.LIVE,
        "ap-south-1": RegionPhase.LIVE,
    }
    assert [r.previous_digest for r in result.regions] == [OLD] * 4

    # Each region goes baseline → deploying → provision → commit → sync → live, in that order.
    per_region = [call.name for call in doubles.calls if call.key == US]
    assert per_region == [
        "get_region_baseline",
        "record_region_state",
        "provision_region",
        "commit_manifests",
        "sync_and_follow",
        "record_region_state",
    ]
    # Pulumi runs on its own task queue, everything else on the main one.
    assert {call.task_queue for call in doubles.named(ActivityName.PROVISION_REGION)} == {queues.pulumi}
    assert {call.task_queue for call in doubles.named(ActivityName.COMMIT_MANIFESTS)} == {queues.main}

    # Staging, then prod wave 1, then prod wave 2 — each finished before the next began.
    staging_live = doubles.named(ActivityName.RECORD_REGION_STATE)[1]
    assert staging_live.key == STAGING
    us_start, us_live = doubles.first(ActivityName.GET_REGION_BASELINE, US), doubles.named(ActivityName.SYNC_AND_FOLLOW)
    wave2_start = min(doubles.first(ActivityName.GET_REGION_BASELINE, key).started for key in (EU, AP))
    assert staging_live.started < us_start.started
    us_follow = doubles.first(ActivityName.SYNC_AND_FOLLOW, US)
    assert us_follow.ended is not None
    assert us_follow.ended < wave2_start
    assert len(us_live) == 4

    # The two regions of wave 2 ran side by side.
    assert doubles.peak_paired == 2

    # Bake (1h) and the approval wait (2h, then proceed) happened in workflow time.
    prod_begins = doubles.first(ActivityName.GET_REGION_BASELINE, US).scheduled
    assert prod_begins - staging_live.scheduled >= timedelta(hours=3)
    wave2_begins = doubles.first(ActivityName.GET_REGION_BASELINE, EU).scheduled
    assert wave2_begins - doubles.first(ActivityName.SYNC_AND_FOLLOW, US).scheduled >= timedelta(hours=1)

    kinds = [(call.arg.kind, call.arg.environment) for call in doubles.named(ActivityName.NOTIFY)]
    assert kinds == [
        (NotificationKind.ENVIRONMENT_SUCCEEDED, "staging"),
        (NotificationKind.APPROVAL_NEEDED, "prod"),
        (NotificationKind.ENVIRONMENT_SUCCEEDED, "prod"),
    ]
    assert [entry.action for entry in result.audit] == ["approval timeout (proceed)"]

    # The UI shows timers by their summaries: two bakes and the approval deadline.
    history = await handle.fetch_history()
    timers = [event for event in history.events if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
    assert len(timers) == 3
    assert all(event.user_metadata.HasField("summary") for event in timers)
