"""Freezes on the real servers, with the real freeze check over a real SQLite version store: a running deployment
holds at its next safe point, a new one waits before publish, an unfreeze releases both within a second and nothing
rolls back (issue 17, acceptance 1); a freeze outlives the worker that saw it, and expires at its `until`."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contracts import ActivityName, ProvisionPurpose
from devstack.ports import free_port
from devstack.temporal import start_dev_server
from rollwright.control.freezes import freeze, unfreeze
from rollwright.domain.deployment import DeploymentOutcome, DeploymentPhase, DeploymentResult
from rollwright.domain.freeze import FreezeScope
from rollwright.versionstore import VersionStore
from tests.workflows.doubles import Doubles, digest_of
from tests.workflows.harness import (
    WORKFLOWS,
    Queues,
    check_replay,
    deployment_input,
    environment,
    eventually,
    plan,
    status,
)
from tests.workflows.lane_doubles import LaneDoubles, Lanes, lane_workers
from workflows.deployment import DeploymentWorkflow


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VersionStore]:
    with VersionStore(f"sqlite:///{tmp_path}/versions.db") as opened:
        yield opened


async def current(lanes: Lanes, env: str, tag: str) -> WorkflowHandle[DeploymentWorkflow, DeploymentResult]:
    running = await lanes.running(env, tag)
    assert running.current_workflow_id is not None
    return lanes.client.get_workflow_handle_for(DeploymentWorkflow.run, running.current_workflow_id)


async def held_at(handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult], where: str) -> None:
    async def there() -> bool:
        held = (await status(handle)).held
        return held is not None and held.startswith(where)

    await eventually(there, what=f"{handle.id} held {where}")


async def left_the_hold(handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult], since: float) -> float:
    """Seconds from `since` (loop time) until the deployment no longer shows a hold, polled every 20 ms."""
    loop = asyncio.get_running_loop()
    while (await status(handle)).held is not None:
        assert loop.time() - since < 10, f"{handle.id} still held 10 s after the unfreeze"
        await asyncio.sleep(0.02)
    return loop.time() - since


async def test_freeze_all_holds_a_running_deployment_and_a_new_one_and_unfreeze_releases_both_within_a_second(
    temporal_env: WorkflowEnvironment, store: VersionStore
) -> None:
    client = temporal_env.client
    doubles = LaneDoubles(baselines={}, freeze_store=store)
    async with lane_workers(client, doubles) as queues:
        running = Lanes(client, queues, doubles, environment("staging", [["stg-a"], ["stg-b"]]))
        pushed = Lanes(client, queues, doubles, environment("staging", [["stg-a"]]))
        configured = {running.service: ["staging"], pushed.service: ["staging"]}
        # The first wave follows its canary until the test lets it finish: the freeze comes in the middle of it.
        doubles.hold[running.key("staging", "stg-a")] = digest_of("v1.0.0")
        await running.push("v1.0.0")
        first = await current(running, "staging", "v1.0.0")

        async def following() -> bool:
            return any(c.key == running.key("staging", "stg-a") for c in doubles.named(ActivityName.SYNC_AND_FOLLOW))

        await eventually(following, what="wave 1 following its canary")
        frozen = await freeze(
            client, store, configured, all_services=True, reason="incident 42: stop the line", actor="alice"
        )
        assert first.id in frozen.signalled
        doubles.released.set()
        await held_at(first, "before staging wave 2")
        shown = await status(first)
        assert shown.phase is DeploymentPhase.HELD
        assert shown.held == "before staging wave 2: frozen by alice: incident 42: stop the line"
        assert shown.held_until is None
        # Wave 1 went live; wave 2 has not started.
        assert running.key("staging", "stg-b") not in doubles.keys(ActivityName.PROVISION_REGION)
        [hold] = [entry for entry in shown.audit if entry.action == "hold"]
        assert (hold.actor, hold.reason) == (
            "alice",
            "before staging wave 2 in staging: frozen: incident 42: stop the line",
        )

        # A push during the freeze: its deployment starts and waits before publish.
        await pushed.push("v2.0.0")
        second = await current(pushed, "staging", "v2.0.0")
        await held_at(second, "before publish")
        assert not [c for c in doubles.named(ActivityName.PUBLISH_IMAGE) if c.arg.service == pushed.service]
        await asyncio.sleep(0.5)  # still held a while later: nothing but an unfreeze moves them
        assert (await status(first)).held is not None
        assert (await status(second)).held is not None

        loop = asyncio.get_running_loop()
        since = loop.time()
        thawed = await unfreeze(client, store, configured, all_services=True, reason="incident over", actor="bob")
        waits = await asyncio.gather(left_the_hold(first, since), left_the_hold(second, since))
        assert max(waits) < 1.0, f"released after {waits} s"
        assert [f.id for f in thawed.lifted] == [frozen.freeze.id]

        await running.live("staging", "v1.0.0")
        await pushed.live("staging", "v2.0.0")
        for handle in (first, second):
            result = await handle.result()
            assert result.outcome is DeploymentOutcome.SUCCEEDED
            assert [entry.action for entry in result.audit if entry.action in ("hold", "release")] == [
                "hold",
                "release",
            ]
        rollbacks = [
            c for c in doubles.named(ActivityName.PROVISION_REGION) if c.arg.purpose is not ProvisionPurpose.DEPLOY
        ]
        assert rollbacks == []
        await check_replay(first, "deployment_frozen_then_released")


@contextlib.asynccontextmanager
async def workers_on(client: Client, queues: Queues, doubles: Doubles) -> AsyncIterator[None]:
    async with (
        Worker(client, task_queue=queues.main, workflows=WORKFLOWS, activities=doubles.light()),
        Worker(client, task_queue=queues.pulumi, activities=doubles.heavy()),
    ):
        yield


async def test_a_freeze_outlives_the_worker_that_saw_it_and_a_let_running_finish_one_spares_running_deployments(
    temporal_env: WorkflowEnvironment, store: VersionStore
) -> None:
    client = temporal_env.client
    suffix = uuid.uuid4().hex[:8]
    queues = Queues(main=f"rw-{suffix}", pulumi=f"rw-pulumi-{suffix}")
    service_plan = plan(environment("prod", [["us-east-1"]]), service=f"svc-{suffix}")
    configured = {service_plan.service: ["prod"]}
    first = await freeze(
        client, store, configured, services=[service_plan.service], reason="db migration", actor="alice"
    )
    async with workers_on(client, queues, Doubles(freeze_store=store)):
        handle = await client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(service_plan, queues),
            id=f"deploy-{suffix}",
            task_queue=queues.main,
        )
        await held_at(handle, "before publish")
    # No worker at all now; then a new one, which knows of the freeze only from history and the store.
    after = Doubles(freeze_store=store)
    async with workers_on(client, queues, after):
        await held_at(handle, "before publish")
        await asyncio.sleep(0.3)
        assert after.named(ActivityName.PUBLISH_IMAGE) == []
        # A freeze that lets running deployments finish does not hold this one, which started before it.
        await freeze(
            client,
            store,
            configured,
            services=[service_plan.service],
            environment="prod",
            reason="release freeze",
            actor="carol",
            let_running_finish=True,
        )
        await unfreeze(client, store, configured, freeze_id=first.freeze.id, reason="done", actor="bob")
        result = await asyncio.wait_for(handle.result(), 20)
    assert result.outcome is DeploymentOutcome.SUCCEEDED
    [release] = [entry for entry in result.audit if entry.action == "release"]
    assert release.reason == "no freeze holds prod any more; going on before publish"
    # The store still has both freezes, the lifted one with who lifted it and why.
    history = {f.reason: f for f in store.freeze_history()}
    assert (history["db migration"].lifted_by, history["db migration"].lift_reason) == ("bob", "done")
    assert history["release freeze"].lifted_at is None


async def test_a_freeze_expires_at_its_until_and_the_deployment_goes_on(
    time_skipping_env: WorkflowEnvironment, store: VersionStore
) -> None:
    client = time_skipping_env.client
    suffix = uuid.uuid4().hex[:8]
    queues = Queues(main=f"rw-{suffix}", pulumi=f"rw-pulumi-{suffix}")
    service_plan = plan(environment("prod", [["us-east-1"]]), service=f"svc-{suffix}")
    # The server's clock, which time skipping moves ahead of the wall clock.
    until = await time_skipping_env.get_current_time() + timedelta(hours=1)
    added = store.add_freeze(FreezeScope(services=(service_plan.service,)), reason="1h", actor="alice", until=until)
    doubles = Doubles(freeze_store=store)
    async with workers_on(client, queues, doubles):
        handle = await client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(service_plan, queues),
            id=f"deploy-{suffix}",
            task_queue=queues.main,
        )
        await held_at(handle, "before publish")
        assert (await status(handle)).held_until == added.until
        await time_skipping_env.sleep(timedelta(minutes=50))
        assert (await status(handle)).held is not None
        result = await handle.result()
    assert result.outcome is DeploymentOutcome.SUCCEEDED
    [publish] = doubles.named(ActivityName.PUBLISH_IMAGE)
    assert publish.scheduled >= until
    # Not lifted by anyone: it expired, and the store still says who froze and until when.
    [kept] = store.freeze_history()
    assert (kept.until, kept.lifted_at) == (until, None)


async def test_a_held_deployment_stays_held_across_a_temporal_restart_and_an_unfreeze_then_releases_it(
    tmp_path: Path, store: VersionStore
) -> None:
    # Its own dev server, on a database file and a fixed port, so it can be stopped and started again as it was.
    db_file, port = tmp_path / "temporal.db", free_port()
    suffix = uuid.uuid4().hex[:8]
    queues = Queues(main=f"rw-{suffix}", pulumi=f"rw-pulumi-{suffix}")
    service_plan = plan(environment("prod", [["us-east-1"]]), service=f"svc-{suffix}")
    configured = {service_plan.service: ["prod"]}
    first = await start_dev_server(port=port, db_file=db_file)
    try:
        frozen = await freeze(
            first.client, store, configured, services=[service_plan.service], reason="incident 7", actor="alice"
        )
        async with workers_on(first.client, queues, Doubles(freeze_store=store)):
            started = await first.client.start_workflow(
                DeploymentWorkflow.run,
                deployment_input(service_plan, queues),
                id=f"deploy-{suffix}",
                task_queue=queues.main,
            )
            await held_at(started, "before publish")
    finally:
        await first.shutdown()

    second = await start_dev_server(port=port, db_file=db_file)
    try:
        after = Doubles(freeze_store=store)
        async with workers_on(second.client, queues, after):
            handle = second.client.get_workflow_handle_for(DeploymentWorkflow.run, started.id)
            await held_at(handle, "before publish")
            await asyncio.sleep(0.3)
            assert after.named(ActivityName.PUBLISH_IMAGE) == []
            assert [f.id for f in store.active_freezes()] == [frozen.freeze.id]
            loop = asyncio.get_running_loop()
            since = loop.time()
            await unfreeze(second.client, store, configured, services=[service_plan.service], reason="ok", actor="bob")
            assert await left_the_hold(handle, since) < 1.0
            result = await asyncio.wait_for(handle.result(), 20)
    finally:
        await second.shutdown()
    assert result.outcome is DeploymentOutcome.SUCCEEDED
    assert [entry.action for entry in result.audit if entry.action in ("hold", "release")] == ["hold", "release"]
