"""The upgrade from per-service pipelines to lanes (patch hand-over-to-lanes): a pipeline in the old shape finishes
the deployment it runs, hands any version still waiting to the service's first lane, and ends.

"The new code arrives" is a workflow worker swap, as a rolling restart of the workers does it: a worker that
declines the patch (the code before the upgrade) runs the pipeline first, then one with today's code replays its
history and takes over. The activity workers (the doubles and the real lane activities) run throughout, so a
deployment held in its hand-off goes on across the swap.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import PatchActivationInput, Worker

from rollwright.domain.deployment import (
    ENQUEUE_SIGNAL,
    DeploymentOutcome,
    PipelineInput,
    PipelineStatus,
    PushEvent,
    pipeline_workflow_id,
)
from rollwright.domain.plan import PromotePlan
from rollwright.domain.source import SourceEvent
from tests.workflows.doubles import digest_of
from tests.workflows.harness import WORKFLOWS, Queues, check_replay, environment, eventually
from tests.workflows.lane_doubles import LaneDoubles, Lanes, lane_activities
from workflows.pipeline import HAND_OVER_TO_LANES, ServicePipelineWorkflow

STAGING = environment("staging", [["stg-a"]])
PROD = environment("prod", [["us-east-1"]]).model_copy(update={"promote": PromotePlan(source="staging")})


class OldPipeline:
    """A service's per-service pipeline as the webhook reached it before lanes: pushes signal-with-start it."""

    def __init__(self, client: Client, queues: Queues, service: str) -> None:
        self.client, self.queues, self.service = client, queues, service
        self.handle = client.get_workflow_handle_for(ServicePipelineWorkflow.run, pipeline_workflow_id(service))

    async def push(self, tag: str) -> None:
        event = PushEvent(
            service=self.service,
            repository="shop/checkout-api",
            tag=tag,
            source=SourceEvent(source="distribution", delivery_id=uuid.uuid4().hex),
        )
        await self.client.start_workflow(
            ServicePipelineWorkflow.run,
            PipelineInput(service=self.service),
            id=pipeline_workflow_id(self.service),
            task_queue=self.queues.main,
            start_signal=ENQUEUE_SIGNAL,
            start_signal_args=[event],
        )

    async def status(self) -> PipelineStatus:
        return await self.handle.query(ServicePipelineWorkflow.status)

    async def ended(self) -> None:
        async def completed() -> bool:
            return (await self.handle.describe()).status is WorkflowExecutionStatus.COMPLETED

        await eventually(completed, within=15, what=f"the pipeline of {self.service} completed")


@contextlib.asynccontextmanager
async def activity_workers(client: Client, doubles: LaneDoubles) -> AsyncIterator[Queues]:
    queues = Queues(main=f"rw-{uuid.uuid4().hex[:8]}", pulumi=f"rw-pulumi-{uuid.uuid4().hex[:8]}")
    light = Worker(client, task_queue=queues.main, activities=lane_activities(doubles))
    heavy = Worker(client, task_queue=queues.pulumi, activities=doubles.heavy(), max_concurrent_activities=4)
    async with light, heavy:
        yield queues


def _before_the_upgrade(patch: PatchActivationInput) -> bool:
    """The code before lanes knows no hand-over, under whatever id the pipeline asks for it."""
    return not patch.patch_id.startswith(HAND_OVER_TO_LANES)


def workflow_worker(client: Client, queues: Queues, *, before_upgrade: bool = False) -> Worker:
    """The workflows on the main queue; `before_upgrade`: the code before lanes (the patch declined)."""
    return Worker(
        client,
        task_queue=queues.main,
        workflows=WORKFLOWS,
        patch_activation_callback=_before_the_upgrade if before_upgrade else None,
    )


async def test_a_push_that_still_reaches_a_pipeline_is_handed_to_the_first_lane_and_the_pipeline_ends(
    temporal_env: WorkflowEnvironment,
) -> None:
    """During the upgrade a webhook receiver of the old release still signals the pipeline."""
    client = temporal_env.client
    doubles = LaneDoubles()
    async with activity_workers(client, doubles) as queues, workflow_worker(client, queues):
        lanes = Lanes(client, queues, doubles, STAGING, PROD)
        pipeline = OldPipeline(client, queues, lanes.service)
        await pipeline.push("v1.0.0")
        await pipeline.ended()
        await lanes.live("staging", "v1.0.0")
        await lanes.live("prod", "v1.0.0")  # and the lanes promote it on as if it had been pushed to staging
        status = await pipeline.status()
        assert (status.recent, status.next_up, status.current) == ([], None, None)  # it deployed nothing itself
        staging = await lanes.status("staging")
        assert [(d.tag, d.outcome) for d in staging.recent] == [("v1.0.0", DeploymentOutcome.SUCCEEDED)]
        assert staging.recent[0].workflow_id.startswith(f"deploy-{lanes.service}-staging-v1.0.0-")
        await check_replay(pipeline.handle, "pipeline_hand_over_to_lanes")

        # A later one starts a new pipeline run that hands it over the same way; the lane screens it as a push.
        await pipeline.push("v0.9.0")
        await pipeline.ended()

        async def refused() -> bool:
            ignored = (await lanes.status("staging")).ignored
            return any(note.startswith("v0.9.0") and "not newer than v1.0.0" in note for note in ignored)

        await eventually(refused, what="v0.9.0 refused by the first lane: never a downgrade")


async def test_a_pipeline_deploying_when_the_new_code_arrives_finishes_then_hands_the_waiting_version_over(
    temporal_env: WorkflowEnvironment,
) -> None:
    client = temporal_env.client
    doubles = LaneDoubles(hold_digests={digest_of("v1.0.0")})
    async with activity_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, STAGING, PROD)
        pipeline = OldPipeline(client, queues, lanes.service)
        async with workflow_worker(client, queues, before_upgrade=True):
            await pipeline.push("v1.0.0")

            async def deploying() -> bool:
                current = (await pipeline.status()).current
                return current is not None and current.tag == "v1.0.0"

            await eventually(deploying, what="the old pipeline deploying v1.0.0")
            await pipeline.push("v1.1.0")

            async def waiting() -> bool:
                next_up = (await pipeline.status()).next_up
                return next_up is not None and next_up.tag == "v1.1.0"

            await eventually(waiting, what="v1.1.0 waiting in the old pipeline")
            old_run = (await pipeline.handle.describe()).run_id

        async with workflow_worker(client, queues):
            doubles.released.set()
            await pipeline.ended()
            assert (await pipeline.handle.describe()).run_id == old_run
            status = await pipeline.status()
            assert [(d.tag, d.outcome) for d in status.recent] == [("v1.0.0", DeploymentOutcome.SUCCEEDED)]
            assert status.live_tag == "v1.0.0"
            # The first lane learned v1.0.0 from its regions, and deploys v1.1.0 as the next version.
            await lanes.live("staging", "v1.1.0")
            staging = await lanes.status("staging")
            assert [good.tag for good in staging.good] == ["v1.0.0", "v1.1.0"]
            assert [(d.tag, d.outcome) for d in staging.recent] == [("v1.1.0", DeploymentOutcome.SUCCEEDED)]
            await lanes.live("prod", "v1.1.0")
            await check_replay(pipeline.handle, "pipeline_drained_after_upgrade")


async def test_an_idle_pipeline_from_before_the_upgrade_hands_the_next_push_to_the_first_lane(
    temporal_env: WorkflowEnvironment,
) -> None:
    client = temporal_env.client
    doubles = LaneDoubles()
    async with activity_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, STAGING, PROD)
        pipeline = OldPipeline(client, queues, lanes.service)
        async with workflow_worker(client, queues, before_upgrade=True):
            await pipeline.push("v1.0.0")

            async def idle() -> bool:
                status = await pipeline.status()
                return status.live_tag == "v1.0.0" and status.current is None

            await eventually(idle, what="the old pipeline idle with v1.0.0 live")
            old_run = (await pipeline.handle.describe()).run_id

        async with workflow_worker(client, queues):
            await pipeline.push("v1.1.0")
            await pipeline.ended()
            assert (await pipeline.handle.describe()).run_id == old_run  # the push went to the idle run
            status = await pipeline.status()
            assert [d.tag for d in status.recent] == ["v1.0.0"]  # v1.1.0 was not deployed by the pipeline
            await lanes.live("staging", "v1.1.0")
            assert [good.tag for good in (await lanes.status("staging")).good] == ["v1.0.0", "v1.1.0"]
