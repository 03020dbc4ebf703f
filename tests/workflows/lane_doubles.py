"""Doubles for lanes: regions remember what was deployed to them (a rollback target is whatever ran before), the
audit is recorded in memory, and a lane's signals to other lanes go through the real activities on the real
server. `Lanes` reaches a service's lanes as the webhook and the CLI do."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.contracts import ActivityName, ProvisionInput, ProvisionResult, RegionBaseline
from activities.lanes import LaneActivities
from rollwright.domain.deployment import ENQUEUE_SIGNAL, STATUS_QUERY, PipelineSettings, PushEvent
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneAction, LaneInput, LaneStatus, lane_workflow_id
from rollwright.domain.plan import EnvironmentPlan
from rollwright.domain.source import SourceEvent
from tests.workflows.doubles import Doubles
from tests.workflows.harness import TEST_LIMITS, WORKFLOWS, Queues, eventually, plan
from workflows.lane import LaneWorkflow


@dataclass
class LaneDoubles(Doubles):
    # region key -> (tag, digest) of what was last provisioned there
    running: dict[str, tuple[str, str]] = field(default_factory=dict)
    # region key -> every (tag, digest) provisioned there, oldest first
    history: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    audited: list[LaneAction] = field(default_factory=list)

    def light(self) -> list[Callable[..., Any]]:
        return [*super().light(), self.record_lane_action]

    @activity.defn(name=ActivityName.GET_REGION_BASELINE)
    async def get_region_baseline(self, arg: RegionTarget) -> RegionBaseline:
        call = self._begin(ActivityName.GET_REGION_BASELINE, arg, arg.key)
        await self._work(call, 0.01)
        if arg.key in self.running:
            tag, digest = self.running[arg.key]
            # The store's last good version skips one marked bad; what runs there is whatever was deployed last.
            good = next(((t, d) for t, d in reversed(self.history[arg.key]) if d not in self.bad_digests), (None, None))
            return RegionBaseline(target=arg, digest=good[1], tag=good[0], running_digest=digest, running_tag=tag)
        before = self.baselines.get(arg.key)
        return RegionBaseline(target=arg, digest=before, tag="v0.9.0" if before else None)

    @activity.defn(name=ActivityName.PROVISION_REGION)
    async def provision_region(self, arg: ProvisionInput) -> ProvisionResult:
        result = await super().provision_region(arg)
        if arg.digest is not None and arg.tag is not None:
            self.running[arg.target.key] = (arg.tag, arg.digest)
            self.history.setdefault(arg.target.key, []).append((arg.tag, arg.digest))
        return result

    @activity.defn(name=ActivityName.RECORD_LANE_ACTION)
    async def record_lane_action(self, action: LaneAction) -> None:
        self._begin(ActivityName.RECORD_LANE_ACTION, action)
        self.audited.append(action)

    def live_in(self, key: str) -> str | None:
        return self.running[key][0] if key in self.running else None


def lane_activities(doubles: LaneDoubles) -> list[Callable[..., Any]]:
    """The light doubles and the real lane activities, which reach other lanes through the real server."""
    signals = LaneActivities()
    return [*doubles.light(), signals.offer_promotion, signals.tell_lanes_bad]


@contextlib.asynccontextmanager
async def lane_workers(client: Client, doubles: LaneDoubles) -> AsyncIterator[Queues]:
    queues = Queues(main=f"rw-{uuid.uuid4().hex[:8]}", pulumi=f"rw-pulumi-{uuid.uuid4().hex[:8]}")
    main = Worker(client, task_queue=queues.main, workflows=WORKFLOWS, activities=lane_activities(doubles))
    pulumi = Worker(client, task_queue=queues.pulumi, activities=doubles.heavy(), max_concurrent_activities=4)
    async with main, pulumi:
        try:
            yield queues
        finally:
            await _end_lanes(client, doubles)


async def _end_lanes(client: Client, doubles: LaneDoubles) -> None:
    """Lanes never end by themselves: terminate them and what they run, so nothing is left with work pending on a
    task queue nobody polls (on the time-skipping server that would stop time from skipping for later tests)."""
    for service, settings in doubles.plans.items():
        for env in settings.plan.environments:
            lane = client.get_workflow_handle(lane_workflow_id(service, env.name))
            with contextlib.suppress(RPCError, WorkflowQueryFailedError):
                status = await lane.query(STATUS_QUERY, result_type=LaneStatus)
                for deployment in status.recent:
                    if deployment.outcome is None:
                        with contextlib.suppress(RPCError):
                            await client.get_workflow_handle(deployment.workflow_id).terminate("test over")
            with contextlib.suppress(RPCError):
                await lane.terminate("test over")


class Lanes:
    """A service's lanes as the webhook and the CLI reach them."""

    def __init__(
        self,
        client: Client,
        queues: Queues,
        doubles: LaneDoubles,
        *environments: EnvironmentPlan,
        continue_as_new_after_events: int | None = None,
    ) -> None:
        self.client, self.queues = client, queues
        self.service = f"svc-{uuid.uuid4().hex[:6]}"
        self.first = environments[0].name
        self.continue_as_new_after_events = continue_as_new_after_events
        doubles.plans[self.service] = PipelineSettings(
            plan=plan(*environments, service=self.service), pulumi_task_queue=queues.pulumi, limits=TEST_LIMITS
        )

    def handle(self, env: str) -> WorkflowHandle[LaneWorkflow, None]:
        return self.client.get_workflow_handle_for(LaneWorkflow.run, lane_workflow_id(self.service, env))

    def key(self, env: str, region: str) -> str:
        return f"{self.service}/{env}/{region}"

    async def push(
        self, tag: str, digest: str | None = None, *, settings: PipelineSettings | None = None, actor: str | None = None
    ) -> None:
        """`digest`: the registry's own announcement of it; `settings`: a plan a stale sender attached; `actor`: who
        the registry says pushed it."""
        event = PushEvent(
            service=self.service,
            repository="shop/checkout-api",
            tag=tag,
            digest_hint=digest,
            source=SourceEvent(source="distribution", delivery_id=uuid.uuid4().hex, actor=actor),
            settings=settings,
        )
        await self.client.start_workflow(
            LaneWorkflow.run,
            LaneInput(
                service=self.service,
                environment=self.first,
                continue_as_new_after_events=self.continue_as_new_after_events,
            ),
            id=lane_workflow_id(self.service, self.first),
            task_queue=self.queues.main,
            start_signal=ENQUEUE_SIGNAL,
            start_signal_args=[event],
        )

    async def status(self, env: str) -> LaneStatus:
        return await self.handle(env).query(LaneWorkflow.status)

    async def live(self, env: str, tag: str, *, within: float = 30.0) -> None:
        async def there() -> bool:
            try:
                status = await self.status(env)
            except Exception:  # the lane may not have started yet
                return False
            return status.live is not None and status.live.tag == tag and status.current is None

        await eventually(there, within=within, what=f"{tag} live in {env}")

    async def running(self, env: str, tag: str) -> LaneStatus:
        async def there() -> bool:
            try:
                current = (await self.status(env)).current
            except Exception:
                return False
            return current is not None and current.tag == tag

        await eventually(there, what=f"{tag} deploying in {env}")
        return await self.status(env)
