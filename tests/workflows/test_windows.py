"""Deploy windows on the real servers (issue 17, acceptance 2): a deployment reaching prod outside its window waits on
a durable timer until it opens, then proceeds; a verified break-glass by an allowed group goes through at once,
audited and notified; one by a group not allowed, or unverified, is refused with a reason."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ActivityName
from rollwright.domain.attestation import Operator, attest, install_control_key, installed_control_key
from rollwright.domain.deployment import (
    ControlAnswer,
    ControlName,
    ControlRequest,
    DeploymentOutcome,
    DeploymentPhase,
    DeploymentResult,
)
from rollwright.domain.lane import LaneAnswer, LaneControl, PinRequest
from rollwright.domain.notification import NotificationKind
from rollwright.domain.plan import EnvironmentPlan
from rollwright.domain.windows import DeployWindow, closed_until
from tests.workflows.conftest import WorkersFactory
from tests.workflows.doubles import Doubles, digest_of
from tests.workflows.harness import (
    check_replay,
    deployment_input,
    environment,
    eventually,
    plan,
    running_workers,
    status,
)
from tests.workflows.lane_doubles import LaneDoubles, Lanes, lane_workers
from workflows.deployment import DeploymentWorkflow

KEY = b"test-key"


@pytest.fixture
def control_key() -> Iterator[bytes]:
    before = installed_control_key()
    install_control_key(KEY)
    try:
        yield KEY
    finally:
        install_control_key(before)


def closed_now(now: datetime, name: str = "prod", **changes: object) -> EnvironmentPlan:
    """An environment open every day for two hours starting three hours from `now` (so closed at `now`)."""
    opens = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
    window = DeployWindow(days="mon-sun", start=opens.time(), end=(opens + timedelta(hours=2)).time(), tz="UTC")
    return environment(name, [["us-east-1"]]).model_copy(update={"windows": (window,), **changes})


async def held_by_window(handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult], env: str = "prod") -> None:
    async def there() -> bool:
        held = (await status(handle)).held
        return held is not None and held.startswith(f"{env} closed until")

    await eventually(there, what=f"the deployment waiting for {env}'s window")


async def test_a_deployment_outside_its_window_waits_until_it_opens_then_proceeds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    now = await time_skipping_env.get_current_time()
    prod = closed_now(now)
    expected = closed_until(now, prod.windows, prod.deny_windows)
    assert expected is not None
    doubles = Doubles()
    async with running_workers(client, doubles) as queues:
        handle = await client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(plan(prod), queues),
            id=f"deploy-window-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )
        await held_by_window(handle)
        shown = await status(handle)
        assert shown.phase is DeploymentPhase.HELD
        assert shown.held_until == expected.until
        assert shown.held == f"prod closed until {expected.until:%Y-%m-%d %H:%M} UTC: {expected.reason}"
        assert doubles.named(ActivityName.PROVISION_REGION) == []
        await time_skipping_env.sleep(timedelta(hours=2))
        assert doubles.named(ActivityName.PROVISION_REGION) == []
        result = await handle.result()
    assert result.outcome is DeploymentOutcome.SUCCEEDED
    [provision] = doubles.named(ActivityName.PROVISION_REGION)
    assert provision.scheduled >= expected.until
    actions = [entry.action for entry in result.audit]
    assert actions == ["window closed", "window open"]
    await check_replay(handle, "deployment_window_wait")


def glass(handle_id: str, groups: tuple[str, ...], *, signed: bool = True) -> ControlRequest:
    request = ControlRequest(actor="free text", reason="sev1 hotfix", break_glass=True)
    if not signed:
        return request
    attestation = attest(
        KEY, Operator(subject="carol@example.com", groups=groups), "approve", handle_id, request, datetime.now(UTC)
    )
    return request.model_copy(update={"attestation": attestation})


async def refused(handle: WorkflowHandle[DeploymentWorkflow, DeploymentResult], request: ControlRequest) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(ControlName.APPROVE.value, request, result_type=None)
    return str(failure.value.cause)


async def test_break_glass_by_an_allowed_group_goes_through_at_once_and_others_are_refused(
    temporal_env: WorkflowEnvironment, workers: WorkersFactory, control_key: bytes
) -> None:
    client = temporal_env.client
    prod = closed_now(datetime.now(UTC), break_glass_groups=("sre",))
    doubles = Doubles()
    async with workers(doubles) as queues:
        handle = await client.start_workflow(
            DeploymentWorkflow.run,
            deployment_input(plan(prod), queues),
            id=f"deploy-glass-{uuid.uuid4().hex[:6]}",
            task_queue=queues.main,
        )
        await held_by_window(handle)

        problem = await refused(handle, glass(handle.id, ("dev",)))
        assert "break-glass in prod needs a member of sre (the operator's groups: dev)" in problem
        assert "needs a verified operator" in await refused(handle, glass(handle.id, ("sre",), signed=False))
        assert "does not match" in await refused(handle, glass("another-workflow", ("sre",)))
        assert (await status(handle)).held is not None

        answer = await handle.execute_update(
            ControlName.APPROVE.value, glass(handle.id, ("sre", "dev")), result_type=ControlAnswer
        )
        assert answer.message == "break-glass: prod goes through its deploy window"
        result = await handle.result()
    assert result.outcome is DeploymentOutcome.SUCCEEDED
    [entry] = [entry for entry in result.audit if entry.action == "break-glass"]
    # Audited under the verified subject, not the free-text actor.
    assert (entry.actor, entry.reason) == ("carol@example.com", "prod: sev1 hotfix")
    [told] = [call.arg for call in doubles.named(ActivityName.NOTIFY) if call.arg.kind is NotificationKind.BREAK_GLASS]
    assert (told.environment, told.reason) == ("prod", "by carol@example.com: sev1 hotfix")
    assert not any(entry.action == "window open" for entry in result.audit)


def pin(lanes: Lanes, groups: tuple[str, ...]) -> PinRequest:
    request = PinRequest(
        actor="free text", reason="hotfix v1.1.0", tag="v1.1.0", digest=digest_of("v1.1.0"), break_glass=True
    )
    lane_id = lanes.handle("staging").id
    operator = Operator(subject="dave@example.com", groups=groups)
    attestation = attest(KEY, operator, LaneControl.PIN.value, lane_id, request, datetime.now(UTC))
    return request.model_copy(update={"attestation": attestation})


async def test_deploy_break_glass_pins_a_version_through_a_closed_window_for_an_allowed_group_only(
    temporal_env: WorkflowEnvironment, control_key: bytes
) -> None:
    client = temporal_env.client
    doubles = LaneDoubles(baselines={})
    async with lane_workers(client, doubles) as queues:
        lanes = Lanes(client, queues, doubles, closed_now(datetime.now(UTC), "staging", break_glass_groups=("sre",)))
        await lanes.push("v1.0.0")
        waiting = await lanes.running("staging", "v1.0.0")
        assert waiting.current_workflow_id is not None
        first = client.get_workflow_handle_for(DeploymentWorkflow.run, waiting.current_workflow_id)
        await held_by_window(first, "staging")

        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await lanes.handle("staging").execute_update(LaneControl.PIN.value, pin(lanes, ("dev",)))
        assert "break-glass in staging needs a member of sre" in str(failure.value.cause)

        # The waiting version makes way (nothing changed, nothing to roll back), and the pin goes through at once.
        await first.execute_update(ControlName.ABORT.value, ControlRequest(actor="dave", reason="hotfix first"))
        assert (await first.result()).outcome is DeploymentOutcome.ABORTED
        answer = await lanes.handle("staging").execute_update(
            LaneControl.PIN.value, pin(lanes, ("sre",)), result_type=LaneAnswer
        )
        assert answer.message.startswith("pinning staging on v1.1.0")
        await lanes.live("staging", "v1.1.0")
        pinned = (await lanes.status("staging")).recent[-1]
        result = await client.get_workflow_handle_for(DeploymentWorkflow.run, pinned.workflow_id).result()
    assert result.outcome is DeploymentOutcome.SUCCEEDED
    [entry] = [entry for entry in result.audit if entry.action == "break-glass"]
    assert (entry.actor, entry.reason) == ("dave@example.com", "through staging's closed window: hotfix v1.1.0")
    notified = [
        call.arg for call in doubles.named(ActivityName.NOTIFY) if call.arg.kind is NotificationKind.BREAK_GLASS
    ]
    assert [(told.tag, told.reason) for told in notified] == [("v1.1.0", "by dave@example.com: hotfix v1.1.0")]
