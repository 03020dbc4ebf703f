"""The first lane's intake: one deployment at a time, newest wins, no downgrades, bad digests refused until their
mark is cleared, the plan from the workers' config, and its state kept across continue-as-new."""

from __future__ import annotations

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName
from rollwright.domain.deployment import DeploymentOutcome, PipelineSettings
from rollwright.domain.verification import VerificationCheck, VerificationPlan
from tests.workflows.doubles import digest_of
from tests.workflows.harness import TEST_LIMITS, check_replay, environment, eventually, plan
from tests.workflows.lane_doubles import LaneDoubles, Lanes, lane_workers
from workflows.deployment import DeploymentWorkflow

PROD = environment("prod", [["us-east-1"]])


async def test_newest_wins_duplicates_older_and_bad_versions_start_nothing(temporal_env: WorkflowEnvironment) -> None:
    client = temporal_env.client
    bad = digest_of("v2.0.0")
    doubles = LaneDoubles(hold_digests={digest_of("v1.0.0")}, bad_digests={bad})
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, PROD, continue_as_new_after_events=40)
        service, lane = lanes.service, lanes.handle("prod")
        await lanes.push("v1.0.0")
        await lanes.running("prod", "v1.0.0")
        first_run = (await lane.describe()).run_id

        for minor in range(1, 6):
            await lanes.push(f"v1.{minor}.0")
        await lanes.push("v1.5.0", digest_of("v1.5.0"))  # the registry announced the same image twice
        await lanes.push("v0.8.0")
        await lanes.push("v2.0.0", bad)

        async def all_screened() -> bool:
            return len((await lanes.status("prod")).ignored) == 3

        await eventually(all_screened, what="three pushes ignored")
        waiting = await lanes.status("prod")
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
        await lanes.live("prod", "v1.5.0")
        # The first run continued as new between the two deployments, carrying v1.5.0 as next up.
        assert (await lane.describe()).run_id != first_run
        first = client.get_workflow_handle(lane.id, run_id=first_run)
        assert (await first.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW

        # Dedup state survived: neither the live digest nor a superseded one starts anything again.
        await lanes.push("v1.5.0", digest_of("v1.5.0"))
        await lanes.push("v1.3.0")

        async def both_ignored_again() -> bool:
            return len((await lanes.status("prod")).ignored) == 5

        await eventually(both_ignored_again, what="re-pushes ignored after continue-as-new")
        final = await lanes.status("prod")
        assert [(d.tag, d.outcome) for d in final.recent] == [
            ("v1.0.0", DeploymentOutcome.SUCCEEDED),
            ("v1.5.0", DeploymentOutcome.SUCCEEDED),
        ]
        # The count of deployments started went through continue-as-new too: the second is number 2.
        assert final.recent[1].workflow_id == f"deploy-{service}-prod-v1.5.0-{digest_of('v1.5.0')[7:19]}-2"
        assert [c.arg.tag for c in doubles.named(ActivityName.PUBLISH_IMAGE)] == ["v1.0.0", "v1.5.0"]

        await check_replay(first, "lane_continue_as_new")
        await lane.terminate("test over")

    async def two_deployments_listed() -> bool:
        query = f"WorkflowType = 'DeploymentWorkflow' AND RollwrightService = '{service}'"
        return (await client.count_workflows(query)).count == 2

    await eventually(two_deployments_listed, what="exactly two DeploymentWorkflow runs for the service")


async def test_rolled_back_digest_is_refused_until_its_bad_mark_is_cleared(temporal_env: WorkflowEnvironment) -> None:
    client = temporal_env.client
    broken = digest_of("v1.1.0")
    doubles = LaneDoubles()
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, PROD)
        doubles.canary_fails[lanes.key("prod", "us-east-1")] = broken
        await lanes.push("v1.1.0", broken)

        async def rolled_back() -> bool:
            recent = (await lanes.status("prod")).recent
            return bool(recent) and recent[-1].outcome is DeploymentOutcome.ROLLED_BACK

        await eventually(rolled_back, what="v1.1.0 rolled back")
        assert broken in doubles.bad_digests

        await lanes.push("v1.1.0", broken)  # the registry announces it again: refused while marked bad

        async def refused() -> bool:
            return any("marked bad" in reason for reason in (await lanes.status("prod")).ignored)

        await eventually(refused, what="re-push refused as bad")

        doubles.bad_digests.discard(broken)  # an engineer ran `rollwright unblock`
        doubles.canary_fails.clear()  # and fixed what made its canary fail
        await lanes.push("v1.1.0", broken)

        async def deployed_again() -> bool:
            recent = (await lanes.status("prod")).recent
            return len(recent) == 2 and recent[-1].outcome is DeploymentOutcome.SUCCEEDED

        await eventually(deployed_again, what="v1.1.0 deployed again after unblock")
        await lanes.handle("prod").terminate("test over")


async def test_the_plan_comes_from_the_workers_config_not_from_the_push(temporal_env: WorkflowEnvironment) -> None:
    client = temporal_env.client
    doubles = LaneDoubles()
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, environment("prod", [["us-east-1"], ["eu-west-1", "ap-south-1"]]))
        service = lanes.service
        # A laptop with a stale rollwright.yaml (or a sender from before the workers owned the plan) attaches its
        # own: one wave in another region, behind an approval nobody will give.
        stale = PipelineSettings(
            plan=plan(environment("prod", [["sa-east-1"]], approval=True), service=service),
            pulumi_task_queue=queues.pulumi,
            limits=TEST_LIMITS,
        )
        await lanes.push("v1.0.0", settings=stale)
        await lanes.live("prod", "v1.0.0")
        regions = [lanes.key("prod", region) for region in ("us-east-1", "eu-west-1", "ap-south-1")]
        provisioned = doubles.keys(ActivityName.PROVISION_REGION)
        # Wave one alone, then wave two's regions in parallel; no approval held it, no stale region touched.
        assert (provisioned[0], sorted(provisioned[1:])) == (regions[0], sorted(regions[1:]))
        reads = doubles.named(ActivityName.READ_SERVICE_PLAN)
        assert reads
        assert {c.arg.service for c in reads} == {service}
        await lanes.handle("prod").terminate("test over")


async def test_a_newer_push_ends_the_running_deployments_watch_and_deploys_next(
    temporal_env: WorkflowEnvironment,
) -> None:
    client = temporal_env.client
    doubles = LaneDoubles()
    check = VerificationCheck(name="error-ratio", query="errors", success_condition="result <= 0.05")
    watched = PROD.model_copy(
        update={
            "prometheus_address": "http://prometheus:9090",
            "verification": VerificationPlan(checks=[check], watch="1h"),
        }
    )
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, watched)
        await lanes.push("v1.0.0")

        async def first_watching() -> bool:
            try:
                current = await lanes.status("prod")
            except Exception:  # the lane may not have started yet
                return False
            if current.current_workflow_id is None:
                return False
            child = client.get_workflow_handle_for(DeploymentWorkflow.run, current.current_workflow_id)
            return (await child.query(DeploymentWorkflow.status)).watching_until is not None

        await eventually(first_watching, what="v1.0.0 in its post-deploy watch")
        await lanes.push("v1.1.0")
        # The hour-long watch of v1.0.0 ended because v1.1.0 waited; v1.1.0 deploys (and watches) next.
        now = await lanes.running("prod", "v1.1.0")
        assert now.live is not None
        assert now.live.tag == "v1.0.0"
        assert [(d.tag, d.outcome) for d in now.recent] == [
            ("v1.0.0", DeploymentOutcome.SUCCEEDED),
            ("v1.1.0", None),
        ]
        await check_replay(lanes.handle("prod"), "lane_watch_ended_by_newer")
        await lanes.handle("prod").terminate("test over")
        assert now.current_workflow_id is not None
        await client.get_workflow_handle(now.current_workflow_id).terminate("test over")
