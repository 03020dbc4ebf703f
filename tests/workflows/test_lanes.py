"""Lanes on the time-skipping server: promotion on a durable timer, supersede while prod waits for approval,
deliberate rollback with a hold, pins, and a bad mark that every lane hears of."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName, ProvisionPurpose
from rollwright.domain.deployment import (
    DeploymentKind,
    DeploymentOutcome,
    DeploymentResult,
)
from rollwright.domain.lane import (
    HoldKind,
    LaneActionKind,
    LaneAnswer,
    LaneControl,
    PinRequest,
    ReleaseRequest,
    RollbackRequest,
)
from rollwright.domain.plan import EnvironmentPlan, OnBadElsewhere, PromotePlan
from tests.workflows.doubles import digest_of
from tests.workflows.harness import check_replay, environment, eventually
from tests.workflows.lane_doubles import LaneDoubles, Lanes, lane_workers
from workflows.deployment import DeploymentWorkflow

OLD = digest_of("v0.9.0")


def later(env: EnvironmentPlan, source: str, after: timedelta = timedelta(0), **changes: object) -> EnvironmentPlan:
    return env.model_copy(update={"promote": PromotePlan(source=source, after=after), **changes})


async def awaiting_approval(client: Client, workflow_id: str, env: str) -> None:
    handle = client.get_workflow_handle_for(DeploymentWorkflow.run, workflow_id)

    async def waiting() -> bool:
        return (await handle.query(DeploymentWorkflow.status)).awaiting_approval == env

    await eventually(waiting, what=f"{workflow_id} waiting for approval of {env}")


async def test_a_newer_version_deploys_to_staging_while_prod_waits_and_supersedes_it_once_due(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    doubles = LaneDoubles(baselines={})
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(
            client,
            queues,
            doubles,
            environment("staging", [["stg-a"]]),
            later(environment("prod", [["us-east-1"]], approval=True), "staging", timedelta(minutes=30)),
        )
        await lanes.push("v1.1.0")
        await lanes.live("staging", "v1.1.0")
        due = (await lanes.status("staging")).promotion
        assert due is not None
        assert due.to == ["prod"]
        assert due.tag == "v1.1.0"

        await time_skipping_env.sleep(timedelta(minutes=31))
        waiting = await lanes.running("prod", "v1.1.0")
        assert waiting.current_workflow_id is not None
        await awaiting_approval(client, waiting.current_workflow_id, "prod")

        # Prod waiting for its approval does not hold staging back.
        await lanes.push("v1.2.0")
        await lanes.live("staging", "v1.2.0")
        assert (await lanes.status("prod")).current_workflow_id == waiting.current_workflow_id

        await time_skipping_env.sleep(timedelta(minutes=31))
        newer = await lanes.running("prod", "v1.2.0")
        assert newer.current_workflow_id is not None
        await awaiting_approval(client, newer.current_workflow_id, "prod")
        superseded = next(d for d in newer.recent if d.tag == "v1.1.0")
        assert superseded.outcome is DeploymentOutcome.SUPERSEDED
        assert doubles.live_in(lanes.key("prod", "us-east-1")) is None  # v1.1.0 never touched prod
        await check_replay(lanes.handle("prod"), "lane_superseded_while_waiting_for_approval")


async def test_a_deliberate_rollback_returns_every_region_holds_the_lane_and_marks_the_version_bad(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    doubles = LaneDoubles()
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(
            client,
            queues,
            doubles,
            environment("staging", [["stg-a"]]),
            later(environment("prod", [["us-east-1"], ["eu-west-1", "ap-south-1"]]), "staging"),
        )
        for tag in ("v1.0.0", "v1.1.0"):
            await lanes.push(tag)
            await lanes.live("staging", tag)
            await lanes.live("prod", tag)
        before = len(doubles.named(ActivityName.COMMIT_MANIFESTS))

        answer = await lanes.handle("prod").execute_update(
            LaneControl.ROLLBACK.value, RollbackRequest(actor="alice", reason="checkout errors"), result_type=LaneAnswer
        )
        assert answer is not None
        await lanes.live("prod", "v1.0.0")
        prod = await lanes.status("prod")
        assert prod.hold is not None
        assert prod.hold.kind is HoldKind.ROLLBACK
        assert (prod.hold.actor, prod.hold.reason) == ("alice", "checkout errors")
        rollback = prod.recent[-1]
        assert (rollback.kind, rollback.outcome) == (DeploymentKind.ROLLBACK, DeploymentOutcome.SUCCEEDED)

        commits = doubles.named(ActivityName.COMMIT_MANIFESTS)[before:]
        prod_commits = [c for c in commits if c.arg.target.environment == "prod"]
        assert sorted(c.arg.target.region for c in prod_commits) == ["ap-south-1", "eu-west-1", "us-east-1"]
        assert {c.arg.purpose for c in prod_commits} == {ProvisionPurpose.ROLLBACK}
        assert prod_commits[-1].arg.target.region == "us-east-1"  # the newest wave went back first
        assert digest_of("v1.1.0") in doubles.bad_digests

        # The bad mark reaches staging, which rolls back by its default rule; it is not held.
        await lanes.live("staging", "v1.0.0")
        assert (await lanes.status("staging")).hold is None

        await lanes.push("v1.2.0")
        await lanes.live("staging", "v1.2.0")
        await eventually(lambda: _next_up_is(lanes, "prod", "v1.2.0"), what="v1.2.0 queued behind prod's hold")
        assert doubles.live_in(lanes.key("prod", "us-east-1")) == "v1.0.0"

        await lanes.handle("prod").execute_update(
            LaneControl.RELEASE.value, ReleaseRequest(actor="bob", reason="fixed in v1.2.0"), result_type=LaneAnswer
        )
        await lanes.live("prod", "v1.2.0")
        actions = [(a.environment, a.action, a.actor) for a in doubles.audited]
        assert ("prod", LaneActionKind.ROLLBACK, "alice") in actions
        assert ("prod", LaneActionKind.HOLD, "alice") in actions
        assert ("prod", LaneActionKind.RELEASE, "bob") in actions
        await check_replay(lanes.handle("prod"), "lane_rollback_hold_release")


async def test_a_pin_deploys_an_older_version_through_the_canary_and_holds_only_its_lane(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    doubles = LaneDoubles()
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(
            client,
            queues,
            doubles,
            environment("staging", [["stg-a"]]),
            later(environment("prod", [["us-east-1"]]), "staging"),
        )
        for tag in ("v1.0.0", "v1.1.0"):
            await lanes.push(tag)
            await lanes.live("prod", tag)

        await lanes.handle("staging").execute_update(
            LaneControl.PIN.value,
            PinRequest(actor="carol", reason="reproduce a bug", tag="v1.0.0", digest=digest_of("v1.0.0")),
            result_type=LaneAnswer,
        )
        await lanes.live("staging", "v1.0.0")
        staging = await lanes.status("staging")
        assert staging.hold is not None
        assert staging.hold.kind is HoldKind.PIN
        assert staging.recent[-1].kind is DeploymentKind.PIN
        pinned = [c for c in doubles.named(ActivityName.PROVISION_REGION) if c.arg.digest == digest_of("v1.0.0")][-1]
        assert pinned.arg.purpose is ProvisionPurpose.DEPLOY
        assert pinned.arg.canary_steps  # the normal rollout, canary and all
        prod_live = (await lanes.status("prod")).live
        assert prod_live is not None
        assert prod_live.tag == "v1.1.0"

        await lanes.push("v1.2.0")
        await eventually(
            lambda: _next_up_is(lanes, "staging", "v1.2.0"), what="v1.2.0 queued behind the pin in staging"
        )
        assert doubles.live_in(lanes.key("staging", "stg-a")) == "v1.0.0"
        await check_replay(lanes.handle("staging"), "lane_pin")


async def _next_up_is(lanes: Lanes, env: str, tag: str) -> bool:
    status = await lanes.status(env)
    return status.next_up is not None and status.next_up.tag == tag and status.current is None


@pytest.mark.parametrize("rule", [OnBadElsewhere.ROLLBACK, OnBadElsewhere.KEEP])
async def test_a_digest_marked_bad_in_prod_is_rolled_back_or_kept_in_staging_as_configured(
    time_skipping_env: WorkflowEnvironment, rule: OnBadElsewhere
) -> None:
    client = time_skipping_env.client
    doubles = LaneDoubles()
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(
            client,
            queues,
            doubles,
            environment("staging", [["stg-a"]]).model_copy(update={"on_bad_elsewhere": rule}),
            later(environment("prod", [["us-east-1"]]), "staging"),
        )
        doubles.canary_fails[lanes.key("prod", "us-east-1")] = digest_of("v1.1.0")
        await lanes.push("v1.0.0")
        await lanes.live("prod", "v1.0.0")
        await lanes.push("v1.1.0")
        await lanes.live("staging", "v1.1.0")

        async def prod_rolled_back() -> bool:
            recent = (await lanes.status("prod")).recent
            return recent[-1].tag == "v1.1.0" and recent[-1].outcome is DeploymentOutcome.ROLLED_BACK

        await eventually(prod_rolled_back, what="v1.1.0 rolled back in prod")
        if rule is OnBadElsewhere.ROLLBACK:
            await lanes.live("staging", "v1.0.0")
            staging = await lanes.status("staging")
            assert staging.recent[-1].kind is DeploymentKind.BAD_ELSEWHERE
            assert doubles.live_in(lanes.key("staging", "stg-a")) == "v1.0.0"  # really re-deployed, not skipped
            assert staging.hold is None
            await check_replay(lanes.handle("staging"), "lane_bad_elsewhere_rollback")
        else:

            async def noted() -> bool:
                return any("on_bad_elsewhere: keep" in note for note in (await lanes.status("staging")).ignored)

            await eventually(noted, what="staging keeping v1.1.0")
            kept = (await lanes.status("staging")).live
            assert kept is not None
            assert kept.tag == "v1.1.0"
        # Either way the bad digest never comes back: a re-push of it is refused in the first lane.
        await lanes.push("v1.1.0")

        async def refused() -> bool:
            notes = (await lanes.status("staging")).ignored
            return any(note.startswith("v1.1.0") and "refused, digest marked bad" in note for note in notes)

        await eventually(refused, what="a re-push of v1.1.0 refused")


async def test_staging_rolls_a_bad_digest_back_while_prod_is_still_rolling_it_back(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    doubles = LaneDoubles()
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(
            client,
            queues,
            doubles,
            environment("staging", [["stg-a"]]),
            later(environment("prod", [["us-east-1"]]), "staging"),
        )
        prod = lanes.key("prod", "us-east-1")
        doubles.canary_fails[prod] = digest_of("v1.1.0")
        # Prod's own rollback cannot finish until staging's has: staging must hear of the bad digest as prod's
        # rollback begins, not from its result.
        doubles.held_rollbacks.add(prod)
        await lanes.push("v1.0.0")
        await lanes.live("prod", "v1.0.0")
        await lanes.push("v1.1.0")
        await lanes.live("staging", "v1.1.0")

        async def staging_back() -> bool:
            recent = (await lanes.status("staging")).recent
            last = recent[-1]
            return last.kind is DeploymentKind.BAD_ELSEWHERE and last.outcome is DeploymentOutcome.SUCCEEDED

        await eventually(staging_back, what="staging rolled back while prod's rollback waits")
        assert doubles.live_in(lanes.key("staging", "stg-a")) == "v1.0.0"
        rolling_back = (await lanes.status("prod")).current
        assert rolling_back is not None
        assert rolling_back.tag == "v1.1.0"
        deployment = client.get_workflow_handle_for(
            DeploymentWorkflow.run, (await lanes.status("prod")).recent[-1].workflow_id
        )
        doubles.rollbacks_released.set()

        async def prod_rolled_back() -> bool:
            recent = (await lanes.status("prod")).recent
            return recent[-1].tag == "v1.1.0" and recent[-1].outcome is DeploymentOutcome.ROLLED_BACK

        await eventually(prod_rolled_back, what="v1.1.0 rolled back in prod")
        # Told once: the result of prod's deployment adds nothing staging acts on a second time.
        staging = await lanes.status("staging")
        assert [d.kind for d in staging.recent].count(DeploymentKind.BAD_ELSEWHERE) == 1
        assert await _rollback_asked_for_with_the_news(deployment)
        await check_replay(lanes.handle("prod"), "lane_rollback_announced")
        await check_replay(deployment, "deployment_rollback_own_first")


async def _rollback_asked_for_with_the_news(deployment: WorkflowHandle[DeploymentWorkflow, DeploymentResult]) -> bool:
    """Whether the deployment scheduled its rollback's Pulumi run in the workflow task that signals its lane, so
    the other lanes' rollbacks, which the signal starts, cannot take a Pulumi slot before it."""
    task = signalled = provisioned = 0
    for event in (await deployment.fetch_history()).events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task = event.event_id
        elif event.event_type == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
            signalled = task
        elif (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and event.activity_task_scheduled_event_attributes.activity_type.name == ActivityName.PROVISION_REGION
        ):
            provisioned = task  # the last one: the rollback's
    return signalled != 0 and signalled == provisioned


async def test_controls_that_make_no_sense_now_are_rejected_with_the_reason(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    doubles = LaneDoubles()
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, environment("staging", [["stg-a"]]))
        await lanes.push("v1.0.0")
        await lanes.live("staging", "v1.0.0")
        handle = lanes.handle("staging")
        with pytest.raises(WorkflowUpdateFailedError) as release:
            await handle.execute_update(
                LaneControl.RELEASE.value, ReleaseRequest(actor="a", reason="b"), result_type=LaneAnswer
            )
        assert "staging is not held" in str(release.value.cause)
        with pytest.raises(WorkflowUpdateFailedError) as rollback:
            await handle.execute_update(
                LaneControl.ROLLBACK.value, RollbackRequest(actor="a", reason="b"), result_type=LaneAnswer
            )
        assert "no earlier good version" in str(rollback.value.cause)
