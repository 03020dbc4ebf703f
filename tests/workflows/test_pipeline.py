"""The per-service pipeline: one deployment at a time, newest wins, no downgrades, state kept across continue-as-new."""

from __future__ import annotations

import uuid

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName
from rollwright.domain.deployment import (
    ENQUEUE_SIGNAL,
    DeploymentOutcome,
    PipelineInput,
    PipelineSettings,
    PipelineStatus,
    PushEvent,
    pipeline_workflow_id,
)
from rollwright.domain.source import SourceEvent
from rollwright.domain.verification import VerificationCheck, VerificationPlan
from tests.workflows.conftest import WorkersFactory
from tests.workflows.doubles import Doubles, digest_of
from tests.workflows.harness import TEST_LIMITS, Queues, check_replay, environment, eventually, plan
from workflows.deployment import DeploymentWorkflow
from workflows.pipeline import ServicePipelineWorkflow


class Pusher:
    """What the webhook does: signal-with-start the service's pipeline with a push event."""

    def __init__(self, client: Client, queues: Queues, doubles: Doubles, service: str) -> None:
        self.client, self.queues, self.service = client, queues, service
        # What the workers' config says about the service: the pipeline reads it when it starts a deployment.
        doubles.plans[service] = PipelineSettings(
            plan=plan(environment("prod", [["us-east-1"]]), service=service),
            pulumi_task_queue=queues.pulumi,
            limits=TEST_LIMITS,
        )
        self.handle = client.get_workflow_handle_for(ServicePipelineWorkflow.run, pipeline_workflow_id(service))

    async def push(self, tag: str, digest: str | None = None, *, settings: PipelineSettings | None = None) -> None:
        event = PushEvent(
            service=self.service,
            repository="shop/checkout-api",
            tag=tag,
            digest_hint=digest,
            source=SourceEvent(source="distribution", delivery_id=uuid.uuid4().hex),
            settings=settings,
        )
        await self.client.start_workflow(
            ServicePipelineWorkflow.run,
            PipelineInput(service=self.service, continue_as_new_after_events=40),
            id=pipeline_workflow_id(self.service),
            task_queue=self.queues.main,
            start_signal=ENQUEUE_SIGNAL,
            start_signal_args=[event],
        )

    async def status(self) -> PipelineStatus:
        return await self.handle.query(ServicePipelineWorkflow.status)


async def test_newest_wins_duplicates_older_and_bad_versions_start_nothing(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    bad = digest_of("v2.0.0")
    doubles = Doubles(hold_digests={digest_of("v1.0.0")}, bad_digests={bad})
    async with workers(doubles) as queues:
        pusher = Pusher(temporal_env.client, queues, doubles, service)
        await pusher.push("v1.0.0")

        async def first_deploying() -> bool:
            current = (await pusher.status()).current
            return current is not None and current.tag == "v1.0.0"

        await eventually(first_deploying, what="v1.0.0 deploying")
        first_run = (await pusher.handle.describe()).run_id

        for minor in range(1, 6):
            await pusher.push(f"v1.{minor}.0")
        await pusher.push("v1.5.0", digest_of("v1.5.0"))  # the registry announced the same image twice
        await pusher.push("v0.8.0")
        await pusher.push("v2.0.0", bad)

        async def all_screened() -> bool:
            return len((await pusher.status()).ignored) == 3

        await eventually(all_screened, what="three pushes ignored")
        waiting = await pusher.status()
        assert waiting.next_up is not None
        assert waiting.next_up.tag == "v1.5.0"
        assert [s.tag for s in waiting.superseded] == ["v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0"]
        assert {s.superseded_by for s in waiting.superseded} <= {"v1.2.0", "v1.3.0", "v1.4.0", "v1.5.0"}
        ignored = "\n".join(waiting.ignored)
        assert "v1.5.0" in ignored
        assert "already seen" in ignored
        assert "v0.8.0" in ignored
        assert "not newer than v1.0.0" in ignored
        assert "v2.0.0" in ignored
        assert "marked bad" in ignored

        doubles.released.set()

        async def newest_live() -> bool:
            current = await pusher.status()
            return current.live_tag == "v1.5.0" and current.current is None

        await eventually(newest_live, what="v1.5.0 live")
        # The first run continued as new between the two deployments, carrying v1.5.0 as next up.
        second_run = (await pusher.handle.describe()).run_id
        assert second_run != first_run
        first = temporal_env.client.get_workflow_handle(pipeline_workflow_id(service), run_id=first_run)
        assert (await first.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW

        # Dedup state survived: neither the live digest nor a superseded one starts anything again.
        await pusher.push("v1.5.0", digest_of("v1.5.0"))
        await pusher.push("v1.3.0")

        async def both_ignored_again() -> bool:
            return len((await pusher.status()).ignored) == 5

        await eventually(both_ignored_again, what="re-pushes ignored after continue-as-new")
        final = await pusher.status()
        assert final.deployments_started == 2
        assert [(d.tag, d.outcome) for d in final.recent] == [
            ("v1.0.0", DeploymentOutcome.SUCCEEDED),
            ("v1.5.0", DeploymentOutcome.SUCCEEDED),
        ]
        assert final.recent[1].workflow_id == f"deploy-{service}-v1.5.0-{digest_of('v1.5.0')[7:19]}-2"
        assert [c.arg.tag for c in doubles.named(ActivityName.PUBLISH_IMAGE)] == ["v1.0.0", "v1.5.0"]

        await check_replay(first, "pipeline_continue_as_new")
        await pusher.handle.terminate("test over")

    async def two_deployments_listed() -> bool:
        query = f"WorkflowType = 'DeploymentWorkflow' AND RollwrightService = '{service}'"
        return (await temporal_env.client.count_workflows(query)).count == 2

    await eventually(two_deployments_listed, what="exactly two DeploymentWorkflow runs for the service")


async def test_rolled_back_digest_is_refused_until_its_bad_mark_is_cleared(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    broken = digest_of("v1.1.0")
    doubles = Doubles(canary_fails={f"{service}/prod/us-east-1": broken})
    async with workers(doubles) as queues:
        pusher = Pusher(temporal_env.client, queues, doubles, service)
        await pusher.push("v1.1.0", broken)

        async def rolled_back() -> bool:
            recent = (await pusher.status()).recent
            return bool(recent) and recent[-1].outcome is DeploymentOutcome.ROLLED_BACK

        await eventually(rolled_back, what="v1.1.0 rolled back")
        assert broken in doubles.bad_digests

        await pusher.push("v1.1.0", broken)  # the registry announces it again: refused while marked bad

        async def refused() -> bool:
            return any("marked bad" in reason for reason in (await pusher.status()).ignored)

        await eventually(refused, what="re-push refused as bad")

        doubles.bad_digests.discard(broken)  # an engineer ran `rollwright unblock`
        doubles.canary_fails.clear()  # and fixed what made its canary fail
        await pusher.push("v1.1.0", broken)

        async def deployed_again() -> bool:
            recent = (await pusher.status()).recent
            return len(recent) == 2 and recent[-1].outcome is DeploymentOutcome.SUCCEEDED

        await eventually(deployed_again, what="v1.1.0 deployed again after unblock")
        await pusher.handle.terminate("test over")


async def test_the_plan_comes_from_the_workers_config_not_from_the_push(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    doubles = Doubles()
    async with workers(doubles) as queues:
        pusher = Pusher(temporal_env.client, queues, doubles, service)
        workers_plan = plan(environment("prod", [["us-east-1"], ["eu-west-1", "ap-south-1"]]), service=service)
        doubles.plans[service] = doubles.plans[service].model_copy(update={"plan": workers_plan})
        # A laptop with a stale rollwright.yaml (or a sender from before this change) attaches its own plan:
        # one wave in another region, behind an approval nobody will give.
        stale = PipelineSettings(
            plan=plan(environment("prod", [["sa-east-1"]], approval=True), service=service),
            pulumi_task_queue=queues.pulumi,
            limits=TEST_LIMITS,
        )
        await pusher.push("v1.0.0", settings=stale)

        async def live() -> bool:
            return (await pusher.status()).live_tag == "v1.0.0"

        await eventually(live, what="v1.0.0 live with the workers' plan")
        regions = [f"{service}/prod/{region}" for region in ("us-east-1", "eu-west-1", "ap-south-1")]
        provisioned = doubles.keys(ActivityName.PROVISION_REGION)
        # Wave one alone, then wave two's regions in parallel; no approval held it, no stale region touched.
        assert (provisioned[0], sorted(provisioned[1:])) == (regions[0], sorted(regions[1:]))
        assert [c.arg.service for c in doubles.named(ActivityName.READ_SERVICE_PLAN)] == [service]
        await pusher.handle.terminate("test over")


async def test_a_newer_push_ends_the_running_deployments_watch_and_deploys_next(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    doubles = Doubles()
    check = VerificationCheck(name="error-ratio", query="errors", success_condition="result <= 0.05")
    async with workers(doubles) as queues:
        pusher = Pusher(temporal_env.client, queues, doubles, service)
        watched = environment("prod", [["us-east-1"]]).model_copy(
            update={
                "prometheus_address": "http://prometheus:9090",
                "verification": VerificationPlan(checks=[check], watch="1h"),
            }
        )
        doubles.plans[service] = doubles.plans[service].model_copy(update={"plan": plan(watched, service=service)})
        await pusher.push("v1.0.0")

        async def first_watching() -> bool:
            current = await pusher.status()
            if current.current_workflow_id is None:
                return False
            child = temporal_env.client.get_workflow_handle_for(DeploymentWorkflow.run, current.current_workflow_id)
            return (await child.query(DeploymentWorkflow.status)).watching_until is not None

        await eventually(first_watching, what="v1.0.0 in its post-deploy watch")
        await pusher.push("v1.1.0")

        async def newer_deploying() -> bool:
            current = await pusher.status()
            return current.current is not None and current.current.tag == "v1.1.0"

        # The hour-long watch of v1.0.0 ended because v1.1.0 waited; v1.1.0 deploys (and watches) next.
        await eventually(newer_deploying, what="v1.1.0 deploying after v1.0.0's watch ended", within=60)
        now = await pusher.status()
        assert now.live_tag == "v1.0.0"
        assert [(d.tag, d.outcome) for d in now.recent] == [
            ("v1.0.0", DeploymentOutcome.SUCCEEDED),
            ("v1.1.0", None),
        ]
        await check_replay(pusher.handle, "pipeline_watch_ended_by_newer")
        await pusher.handle.terminate("test over")
        assert now.current_workflow_id is not None
        await temporal_env.client.get_workflow_handle(now.current_workflow_id).terminate("test over")
