"""Deliberate rollbacks (DeploymentKind.ROLLBACK): back to a chosen version, waves newest first, a wave's regions at
once, no canary steps, approval, bake or checks; and a newer version ending a wait for approval."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName, ProvisionPurpose
from rollwright.domain import search_attributes as sa
from rollwright.domain.deployment import (
    NEWER_VERSION_SIGNAL,
    ControlName,
    ControlRequest,
    DeploymentInput,
    DeploymentKind,
    DeploymentOutcome,
    DeploymentPhase,
    DeploymentResult,
    NewerVersion,
    RegionPhase,
    RollbackOrder,
    VersionRef,
)
from rollwright.domain.notification import NotificationKind
from rollwright.domain.plan import ServicePlan
from rollwright.domain.region_state import RegionState
from tests.workflows.conftest import WorkersFactory
from tests.workflows.doubles import Doubles, digest_of
from tests.workflows.harness import (
    NEW,
    OLD,
    Queues,
    check_replay,
    deployment_input,
    environment,
    eventually,
    plan,
    request,
    running_workers,
    status,
)
from workflows.deployment import DeploymentWorkflow

US, EU, AP = "checkout-api/prod/us-east-1", "checkout-api/prod/eu-west-1", "checkout-api/prod/ap-south-1"
STAGING = "checkout-api/staging/stg-a"
# Approval and bake on purpose: a rollback must skip both.
PROD = plan(environment("prod", [["us-east-1"], ["eu-west-1", "ap-south-1"]], approval=True, bake=timedelta(hours=1)))
Handle = WorkflowHandle[DeploymentWorkflow, DeploymentResult]


def rollback_input(
    queues: Queues, *, mark_replaced_bad: bool = True, service_plan: ServicePlan = PROD
) -> DeploymentInput:
    """Back to v0.9.0 (OLD), replacing v1.0.0 (NEW), as alice asks."""
    return deployment_input(service_plan, queues, tag="v0.9.0").model_copy(
        update={
            "kind": DeploymentKind.ROLLBACK,
            "rollback": RollbackOrder(
                replaces=VersionRef(tag="v1.0.0", digest=NEW),
                actor="alice",
                reason="checkout errors since v1.0.0",
                mark_replaced_bad=mark_replaced_bad,
            ),
        }
    )


async def start(client: Client, inp: DeploymentInput, queues: Queues, kind: str) -> Handle:
    return await client.start_workflow(
        DeploymentWorkflow.run, inp, id=f"deploy-{kind}-{uuid.uuid4().hex[:6]}", task_queue=queues.main
    )


async def regions_attribute(handle: Handle) -> Sequence[str] | None:
    return (await handle.describe()).typed_search_attributes.get(sa.REGIONS)


async def test_a_rollback_goes_newest_wave_first_straight_to_the_version_and_marks_the_replaced_one_bad(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(baselines={US: NEW, EU: NEW, AP: NEW}, pair_up=lambda arg: arg.target.key in (EU, AP))
    async with running_workers(time_skipping_env.client, doubles) as queues:
        handle = await start(time_skipping_env.client, rollback_input(queues), queues, "rollback")
        result = await handle.result()
        await check_replay(handle, "deployment_deliberate_rollback")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert result.reason is None
    assert (result.tag, result.digest) == ("v0.9.0", OLD)
    assert {r.region: (r.phase, r.digest, r.previous_digest) for r in result.regions} == dict.fromkeys(
        ("us-east-1", "eu-west-1", "ap-south-1"), (RegionPhase.ROLLED_BACK, OLD, NEW)
    )
    assert [(e.action, e.actor, e.reason) for e in result.audit] == [
        ("rollback", "alice", "checkout errors since v1.0.0")
    ]
    # Nothing of a rollout: no publish, no approval asked, no checks, no bake (the time-skipping server would skip it,
    # but no timer was ever started).
    assert doubles.named(ActivityName.PUBLISH_IMAGE) == []
    assert doubles.named(ActivityName.RUN_CHECKS) == []
    kinds = [c.arg.kind for c in doubles.named(ActivityName.NOTIFY)]
    assert kinds == [NotificationKind.ROLLED_BACK]
    history = await handle.fetch_history()
    assert not [e for e in history.events if e.HasField("timer_started_event_attributes")]

    # The newest wave first, its two regions at once; each straight to 100% on v0.9.0, one rollback commit each.
    provisions = doubles.named(ActivityName.PROVISION_REGION)
    assert {c.key for c in provisions[:2]} == {EU, AP}
    assert [c.key for c in provisions[2:]] == [US]
    assert doubles.peak_paired == 2
    assert {(c.arg.purpose, c.arg.digest, tuple(c.arg.canary_steps)) for c in provisions} == {
        (ProvisionPurpose.ROLLBACK, OLD, ())
    }
    commits = doubles.named(ActivityName.COMMIT_MANIFESTS)
    assert sorted(c.key or "" for c in commits) == sorted([US, EU, AP])
    assert {(c.arg.purpose, c.arg.digest, c.arg.tag) for c in commits} == {(ProvisionPurpose.ROLLBACK, OLD, "v0.9.0")}
    assert sorted((c.key or "", c.arg.digest) for c in doubles.named(ActivityName.SYNC_AND_FOLLOW)) == sorted(
        [(US, OLD), (EU, OLD), (AP, OLD)]
    )
    # Each region: the replaced version rolled back, the target live.
    for key in (US, EU, AP):
        records = [(c.arg.digest, c.arg.state) for c in doubles.named(ActivityName.RECORD_REGION_STATE) if c.key == key]
        assert records == [(NEW, RegionState.ROLLED_BACK), (OLD, RegionState.LIVE)]

    marks = [c.arg for c in doubles.named(ActivityName.MARK_DIGEST_BAD)]
    assert [(m.digest, m.actor) for m in marks] == [(NEW, "alice")]
    assert "alice" in marks[0].reason
    assert "checkout errors since v1.0.0" in marks[0].reason
    (rolled_back,) = [c.arg for c in doubles.named(ActivityName.NOTIFY)]
    assert sorted(rolled_back.regions) == sorted([US, EU, AP])

    touched = await regions_attribute(handle)
    assert touched is not None
    assert sorted(touched) == ["prod/ap-south-1", "prod/eu-west-1", "prod/us-east-1"]
    assert list(touched)[-1] == "prod/us-east-1", "the older wave's region is touched last"


async def test_keep_good_marks_nothing_and_a_region_already_on_the_version_is_left_alone(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(baselines={US: OLD, EU: NEW, AP: NEW})
    async with running_workers(time_skipping_env.client, doubles) as queues:
        handle = await start(
            time_skipping_env.client, rollback_input(queues, mark_replaced_bad=False), queues, "rollback-keep"
        )
        result = await handle.result()
        await check_replay(handle, "deployment_deliberate_rollback_keep_good")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    regions = {r.region: r for r in result.regions}
    assert (regions["us-east-1"].phase, regions["us-east-1"].digest) == (RegionPhase.LIVE, OLD)
    assert "already runs v0.9.0" in (regions["us-east-1"].message or "")
    assert {name: regions[name].phase for name in ("eu-west-1", "ap-south-1")} == dict.fromkeys(
        ("eu-west-1", "ap-south-1"), RegionPhase.ROLLED_BACK
    )
    assert sorted(doubles.keys(ActivityName.PROVISION_REGION)) == sorted([EU, AP])
    assert sorted(doubles.keys(ActivityName.COMMIT_MANIFESTS)) == sorted([EU, AP])
    assert US not in doubles.keys(ActivityName.RECORD_REGION_STATE)
    assert doubles.named(ActivityName.MARK_DIGEST_BAD) == []
    (rolled_back,) = [c.arg for c in doubles.named(ActivityName.NOTIFY)]
    assert sorted(rolled_back.regions) == sorted([EU, AP])
    touched = await regions_attribute(handle)
    assert sorted(touched or []) == ["prod/ap-south-1", "prod/eu-west-1"]


async def test_a_region_failing_fails_the_rollback_its_wave_finishes_and_later_waves_are_not_started(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(baselines={US: NEW, EU: NEW, AP: NEW}, canary_fails={EU: OLD})
    async with running_workers(time_skipping_env.client, doubles) as queues:
        handle = await start(time_skipping_env.client, rollback_input(queues), queues, "rollback-fails")
        result = await handle.result()
        await check_replay(handle, "deployment_deliberate_rollback_failed")

    assert result.outcome is DeploymentOutcome.FAILED
    assert result.reason is not None
    assert result.reason == f"rollback to v0.9.0 failed in {EU}; not started: {US}"
    regions = {r.region: r for r in result.regions}
    assert regions["eu-west-1"].phase is RegionPhase.ROLLBACK_FAILED
    assert regions["eu-west-1"].message == "analysis failed"
    assert (regions["ap-south-1"].phase, regions["ap-south-1"].digest) == (RegionPhase.ROLLED_BACK, OLD)
    assert regions["us-east-1"].phase is RegionPhase.PENDING
    assert "not started" in (regions["us-east-1"].message or "")
    # us-east-1 was never read nor touched; nothing rolled the rollback back, nothing was marked bad.
    assert US not in doubles.keys(ActivityName.GET_REGION_BASELINE)
    assert sorted(doubles.keys(ActivityName.PROVISION_REGION)) == sorted([EU, AP])
    assert doubles.named(ActivityName.MARK_DIGEST_BAD) == []
    (failed,) = [c.arg for c in doubles.named(ActivityName.NOTIFY)]
    assert (failed.kind, failed.regions) == (NotificationKind.FAILED, [EU])


async def refused(handle: Handle, control: ControlName, req: ControlRequest) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(control.value, req, result_type=None)
    return str(failure.value.cause)


async def test_a_rollback_refuses_abort_and_cancellation_and_pauses_between_waves(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory
) -> None:
    # Updates on the dev server: the Java time-skipping server handles them poorly (see test_deployment_controls).
    doubles = Doubles(baselines={US: NEW, EU: NEW, AP: NEW}, hold={EU: OLD})
    async with workers(doubles) as queues:
        handle = await start(temporal_env.client, rollback_input(queues), queues, "rollback-controls")

        async def eu_syncing() -> bool:
            phases = {r.region: r.phase for r in (await status(handle)).regions}
            return phases["eu-west-1"] is RegionPhase.ROLLING_BACK and EU in doubles.keys(ActivityName.SYNC_AND_FOLLOW)

        await eventually(eu_syncing, what="eu-west-1 syncing its rollback")
        assert "regions split" in await refused(handle, ControlName.ABORT, request("stop it"))
        assert "nothing is waiting for approval" in await refused(handle, ControlName.APPROVE, request("lgtm"))
        await handle.execute_update(DeploymentWorkflow.pause, request("hold the last wave", actor="bob"))
        await handle.cancel()  # the UI's Request Cancellation: audited, and the rollback goes on
        doubles.released.set()

        async def wave_two_done() -> bool:
            phases = {r.region: r.phase for r in (await status(handle)).regions}
            return phases["eu-west-1"] is RegionPhase.ROLLED_BACK and phases["ap-south-1"] is RegionPhase.ROLLED_BACK

        await eventually(wave_two_done, what="the newest wave rolled back")
        await asyncio.sleep(1.0)
        paused = await status(handle)
        assert paused.phase is DeploymentPhase.PAUSED
        assert US not in doubles.keys(ActivityName.GET_REGION_BASELINE), "a paused rollback must not start a wave"
        await handle.execute_update(DeploymentWorkflow.resume, request("go on", actor="carol"))
        result = await handle.result()
        await check_replay(handle, "deployment_deliberate_rollback_controls")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert {r.phase for r in result.regions} == {RegionPhase.ROLLED_BACK}
    assert [(e.action, e.actor) for e in result.audit] == [
        ("rollback", "alice"),
        ("pause", "bob"),
        ("cancel refused", "temporal"),
        ("resume", "carol"),
    ]
    assert (await handle.describe()).typed_search_attributes.get(sa.ACTOR) == "carol"


GUARDED_PROD = plan(environment("prod", [["us-east-1"]], approval=True))
STAGED = plan(environment("staging", [["stg-a"]]), environment("prod", [["us-east-1"]], approval=True))


async def test_a_newer_version_supersedes_a_deployment_waiting_for_approval_before_any_change(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # Signals only: the Java time-skipping server handles updates poorly.
    doubles = Doubles(baselines={US: OLD})
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, deployment_input(GUARDED_PROD, queues), queues, "superseded")

        async def waiting() -> bool:
            return (await status(handle)).awaiting_approval == "prod"

        await eventually(waiting, what="prod waiting for approval")
        await handle.signal(NEWER_VERSION_SIGNAL, NewerVersion(tag="v1.2.0", digest=digest_of("v1.2.0")))
        result = await handle.result()
        await check_replay(handle, "deployment_superseded_at_approval")

    assert result.outcome is DeploymentOutcome.SUPERSEDED
    assert result.reason == "superseded by v1.2.0 while waiting for approval of prod"
    assert [(r.phase, r.digest) for r in result.regions] == [(RegionPhase.PENDING, None)]
    for name in (ActivityName.GET_REGION_BASELINE, ActivityName.PROVISION_REGION, ActivityName.MARK_DIGEST_BAD):
        assert doubles.named(name) == [], name
    assert [c.arg.kind for c in doubles.named(ActivityName.NOTIFY)] == [NotificationKind.APPROVAL_NEEDED]
    assert (await handle.describe()).typed_search_attributes.get(sa.OUTCOME) == "superseded"


async def test_a_deployment_that_changed_a_region_keeps_waiting_for_its_approval_when_a_newer_version_comes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    doubles = Doubles(baselines={STAGING: OLD, US: OLD})
    client = time_skipping_env.client
    async with running_workers(client, doubles) as queues:
        handle = await start(client, deployment_input(STAGED, queues), queues, "newer-after-change")

        async def waiting() -> bool:
            return (await status(handle)).awaiting_approval == "prod"

        await eventually(waiting, what="prod waiting for approval")
        await handle.signal(NEWER_VERSION_SIGNAL, NewerVersion(tag="v1.2.0", digest=digest_of("v1.2.0")))
        await asyncio.sleep(1.0)
        assert (await status(handle)).awaiting_approval == "prod", "staging changed: the approval wait goes on"
        await handle.signal(
            ControlName.APPROVE.signal_name, ControlRequest(actor="carol", reason="CAB ok", environment="prod")
        )
        result = await handle.result()
        await check_replay(handle, "deployment_newer_keeps_approval_after_change")

    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert {r.region: r.digest for r in result.regions} == {"stg-a": NEW, "us-east-1": NEW}
    attributes = (await handle.describe()).typed_search_attributes
    assert list(attributes.get(sa.REGIONS) or []) == ["staging/stg-a", "prod/us-east-1"]
    assert attributes.get(sa.ACTOR) == "carol"
