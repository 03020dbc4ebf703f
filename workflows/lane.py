"""LaneWorkflow: one environment of one service, one deployment at a time; the lanes of a service are promotion
lanes.

Its workflow id is the service and environment (`lane_workflow_id`), so Temporal keeps one lane per environment.
The first lane takes pushes (newest wins, supersede, never an automatic downgrade, bad digests refused); a later
lane takes the versions the lane before it offers once they have been live and healthy there for its rule's
`after` (the earlier lane holds that durable timer), or only an engineer's `rollwright promote`. Waiting for one
lane's approval never blocks another lane.

Engineers act on a lane with Updates (validated before anything reaches history): a deliberate rollback (its
own deployment: no canary, waves newest first), a pin (an exact version through the normal rollout), a release of
the hold either puts on the lane, a manual promotion. A digest that goes bad in any lane is refused everywhere,
and lanes that run it roll back or keep it by their `on_bad_elsewhere`.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, FailureError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

from rollwright.domain import search_attributes as sa
from workflows.callers import update_caller, verification_problem
from workflows.deployment import DeploymentWorkflow
from workflows.lane_rules import (
    lane_details,
    pin_rejection,
    previous_good,
    promote_rejection,
    release_rejection,
    rollback_rejection,
)
from workflows.pipeline_view import deployment_details
from workflows.screening import Verdict, screen
from workflows.seen import forget, remember
from workflows.steps import Steps

with workflow.unsafe.imports_passed_through():
    from activities.contracts import CandidateInfo, InspectCandidateInput, OfferPromotionInput, TellLanesBadInput
    from rollwright.domain.deployment import (
        DEFAULT_PULUMI_TASK_QUEUE,
        ENQUEUE_SIGNAL,
        NEWER_VERSION_SIGNAL,
        STATUS_QUERY,
        ControlName,
        ControlRequest,
        DeploymentInput,
        DeploymentKind,
        DeploymentLimits,
        DeploymentOutcome,
        DeploymentResult,
        NewerVersion,
        PushEvent,
        QueuedVersion,
        RegionPhase,
        RollbackOrder,
        SupersededVersion,
        VersionRef,
    )
    from rollwright.domain.digest import short
    from rollwright.domain.identity import RegionTarget
    from rollwright.domain.lane import (
        BAD_ELSEWHERE_SIGNAL,
        LANE_WORKFLOW,
        OFFER_SIGNAL,
        ROLLING_BACK_SIGNAL,
        BadElsewhere,
        Hold,
        HoldKind,
        LaneAction,
        LaneActionKind,
        LaneAnswer,
        LaneControl,
        LaneDeployment,
        LaneInput,
        LaneState,
        LaneStatus,
        LiveVersion,
        PendingPromotion,
        PendingRollback,
        PinRequest,
        PromoteRequest,
        PromotionOffer,
        ReleaseRequest,
        RollbackRequest,
        lane_name,
    )
    from rollwright.domain.plan import EnvironmentPlan, OnBadElsewhere
    from rollwright.domain.source import SourceEvent
    from workflows.holds import break_glass_of, break_glass_refusal

_KEEP_NOTES = 50
_KEEP_RECENT = 20
_KEEP_GOOD = 20

# A rollback's regions were changed when any of them went this far.
_UNDONE = frozenset({RegionPhase.ROLLING_BACK, RegionPhase.ROLLED_BACK, RegionPhase.ROLLBACK_FAILED})
_ROLLBACKS = frozenset({DeploymentKind.ROLLBACK, DeploymentKind.BAD_ELSEWHERE})


@workflow.defn(name=LANE_WORKFLOW)
class LaneWorkflow:
    @workflow.init
    def __init__(self, inp: LaneInput) -> None:
        self._service = inp.service
        self._env = inp.environment
        self._s = inp.state or LaneState()
        self._continue_after = inp.continue_as_new_after_events
        self._child: ChildWorkflowHandle[Any, DeploymentResult] | None = None
        self._rollback_order: RollbackOrder | None = None
        # The running deployment's word that it began rolling back: its digest is to be marked bad everywhere now.
        self._rolling_back: BadElsewhere | None = None

    @workflow.run
    async def run(self, inp: LaneInput) -> None:
        workflow.upsert_search_attributes(
            [
                sa.SERVICE.value_set(self._service),
                sa.ENVIRONMENT.value_set(self._env),
                sa.LANE.value_set(lane_name(self._service, self._env)),
            ]
        )
        if inp.state is None:
            await self._learn_live()
        self._show()
        while True:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(self._has_work, timeout=self._until_next_promotion())
            if self._s.queue:
                await self._screen_queue()
            elif self._s.bad_elsewhere:
                await self._act_on_bad_elsewhere()
            elif self._s.unaudited:
                await self._audit()
            elif self._rolling_back is not None:
                news, self._rolling_back = self._rolling_back, None
                await self._mark_bad_everywhere(news.tag or news.digest, news.digest, news.reason)
            elif self._child is not None and self._child.done():
                await self._settle()
            elif self._due_promotions():
                await self._offer_due()
            elif self._child is None and self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not (self._s.queue or self._s.bad_elsewhere or self._s.unaudited):
                    workflow.continue_as_new(
                        LaneInput(
                            service=self._service,
                            environment=self._env,
                            state=self._s,
                            continue_as_new_after_events=self._continue_after,
                        )
                    )
            elif self._child is None:
                await self._start_next()
            self._show()

    def _has_work(self) -> bool:
        s = self._s
        if s.queue or s.bad_elsewhere or s.unaudited or self._rolling_back or self._due_promotions():
            return True
        if self._child is not None:
            return self._child.done()
        return self._startable() or self._should_continue_as_new()

    def _startable(self) -> bool:
        s = self._s
        return s.next_rollback is not None or s.next_pin is not None or (s.next_up is not None and s.hold is None)

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        if info.is_continue_as_new_suggested():
            return True
        return self._continue_after is not None and info.get_current_history_length() >= self._continue_after

    def _steps(self) -> Steps:
        settings = self._s.settings
        if settings is None:
            return Steps(DeploymentLimits(), DEFAULT_PULUMI_TASK_QUEUE)
        return Steps(settings.limits, settings.pulumi_task_queue)

    def _plan_env(self) -> EnvironmentPlan | None:
        settings = self._s.settings
        if settings is None:
            return None
        try:
            return settings.plan.environment(self._env)
        except KeyError:
            return None

    async def _learn_live(self) -> None:
        """A new lane (a fresh install, or the upgrade from per-service pipelines) learns what runs in its regions
        from the version store, so its first candidate is judged against it: never an automatic downgrade."""
        if not await self._read_settings():
            return
        env = self._plan_env()
        if env is None:
            return
        steps = self._steps()
        targets = [
            RegionTarget(service=self._service, environment=self._env, region=region)
            for wave in env.waves
            for region in wave
        ]
        try:
            baselines = await asyncio.gather(*(steps.baseline(target) for target in targets))
        except ActivityError as error:
            self._ignore(f"could not read what runs in {self._env}: {error.cause or error}")
            return
        # What runs there (the store's last good version where an older store knows no more).
        now = [(b.running_tag, b.running_digest) if b.running_digest else (b.tag, b.digest) for b in baselines]
        running = {(tag, digest) for tag, digest in now if digest is not None}
        if len(running) > 1:
            versions = ", ".join(sorted(f"{tag or '?'} ({short(digest)})" for tag, digest in running if digest))
            self._ignore(f"{self._env}'s regions run different versions ({versions}): nothing counts as live yet")
            return
        if not running or any(digest is None for _, digest in now):
            return
        tag, digest = running.pop()
        assert digest is not None
        live = LiveVersion(tag=tag or digest[:19], digest=digest, since=workflow.now())
        self._s.live = live
        self._s.good.append(live)
        remember(self._s.seen_digests, digest)

    # -- candidates ----------------------------------------------------------------------------------

    @workflow.signal(name=ENQUEUE_SIGNAL, description="A registry pushed a new image (the first lane's intake)")
    def enqueue(self, event: PushEvent) -> None:
        delivery = f"{event.source.source}:{event.source.delivery_id}"
        if delivery in self._s.seen_delivery_ids:
            return
        remember(self._s.seen_delivery_ids, delivery)
        if event.digest_hint is not None and event.digest_hint in self._s.seen_digests:
            self._ignore(f"{event.tag} ({short(event.digest_hint)}): digest already seen")
            return
        self._s.queue.append(
            QueuedVersion(tag=event.tag, digest_hint=event.digest_hint, pushed_at=event.pushed_at, source=event.source)
        )

    @workflow.signal(name=OFFER_SIGNAL, description="The lane before this one vouches for a version")
    def offer(self, offer: PromotionOffer) -> None:
        self._s.queue.append(
            QueuedVersion(
                tag=offer.tag,
                digest_hint=offer.digest,
                pushed_at=offer.pushed_at,
                source=SourceEvent(
                    source=f"promotion from {offer.from_environment}",
                    delivery_id=f"{offer.from_environment}:{offer.digest}",
                    received_at=workflow.now(),
                    actor=offer.actor,
                ),
            )
        )

    async def _screen_queue(self) -> None:
        batch, self._s.queue = self._s.queue, []
        if self._s.settings is None:
            await self._read_settings()
        steps = self._steps()
        found = await asyncio.gather(*(self._inspect(steps, version) for version in batch))
        waiting = self._s.next_pin or self._s.next_up
        for version, info in zip(batch, found, strict=True):
            if info is not None:
                self._judge(version, info)
        newer = self._s.next_pin or self._s.next_up
        if newer is not None and newer is not waiting and newer.digest is not None:
            await self._tell_child_newer(newer)

    async def _inspect(self, steps: Steps, version: QueuedVersion) -> CandidateInfo | None:
        try:
            return await steps.inspect_candidate(
                InspectCandidateInput(
                    service=self._service, image=None, tag=version.tag, digest_hint=version.digest_hint
                )
            )
        except ActivityError as error:
            self._ignore(f"{version.tag}: could not inspect the image: {error.cause or error}")
            return None

    def _judge(self, version: QueuedVersion, info: CandidateInfo) -> None:
        resolved = version.model_copy(update={"digest": info.digest, "pushed_at": version.pushed_at or info.pushed_at})
        name = f"{version.tag} ({short(info.digest)})"
        if version.source.source == "pin":
            self._judge_pin(resolved, info, name)
            return
        if info.marked_bad:
            # Before the seen-digest rule: the reason a bad version starts nothing is that it is bad.
            self._ignore(f"{name}: refused, digest marked bad ({info.bad_reason or 'no reason'})")
            return
        # The store is the judge: a digest `rollwright unblock` cleared is judged again like any other.
        forget(self._s.bad_digests, info.digest)
        verdict = screen(resolved, info, self._s)
        if verdict.verdict is Verdict.IGNORE:
            self._ignore(verdict.reason)
            return
        remember(self._s.seen_digests, info.digest)
        if verdict.verdict is Verdict.SUPERSEDED:
            assert self._s.next_up is not None  # screen only says SUPERSEDED when something waits
            self._supersede(resolved, self._s.next_up)
            return
        if self._s.next_up is not None:
            self._supersede(self._s.next_up, resolved)
        self._s.next_up = resolved
        workflow.logger.info(verdict.reason + (" once the lane is released" if self._s.hold else ""))

    def _judge_pin(self, pin: QueuedVersion, info: CandidateInfo, name: str) -> None:
        """A pin skips the newer-than-live rule, never the bad mark or the tag policy."""
        refusal = None
        if info.marked_bad or (pin.digest in self._s.bad_digests):
            refusal = f"{name}: pin refused, digest marked bad ({info.bad_reason or 'in another lane'})"
        elif not info.tag_allowed:
            refusal = f"{name}: pin refused, tag does not match the policy {info.tag_policy!r}"
        if refusal is not None:
            self._ignore(refusal)
            if self._s.hold is not None and self._s.hold.kind is HoldKind.PIN and self._s.hold.version is None:
                self._s.hold = None
            return
        if self._s.next_pin is not None:
            self._supersede(self._s.next_pin, pin)
        self._s.next_pin = pin
        if self._s.hold is not None and self._s.hold.kind is HoldKind.PIN:
            self._s.hold.version = VersionRef(tag=pin.tag, digest=info.digest)

    def _supersede(self, old: QueuedVersion, new: QueuedVersion) -> None:
        self._s.superseded.append(
            SupersededVersion(tag=old.tag, digest=old.digest, superseded_by=new.tag, at=workflow.now())
        )
        del self._s.superseded[:-_KEEP_NOTES]
        workflow.logger.info(f"{old.tag} superseded by {new.tag}")

    def _ignore(self, reason: str) -> None:
        self._s.ignored.append(reason)
        del self._s.ignored[:-_KEEP_NOTES]
        workflow.logger.info(f"ignored {reason}")

    async def _tell_child_newer(self, newer: QueuedVersion) -> None:
        """A running deployment's watch (or its wait for an approval) ends when a newer version waits."""
        child = self._child
        if child is None or child.done() or self._s.current_kind in _ROLLBACKS or newer.digest is None:
            return
        try:
            await child.signal(NEWER_VERSION_SIGNAL, NewerVersion(tag=newer.tag, digest=newer.digest))
        except FailureError as error:
            workflow.logger.info(f"could not tell the running deployment about {newer.tag}: {error}")

    # -- deployments ---------------------------------------------------------------------------------

    async def _read_settings(self) -> bool:
        try:
            self._s.settings = await self._steps().read_service_plan(self._service)
        except ActivityError as error:
            self._ignore(f"no plan for {self._service}: {error.cause or error}")
            return False
        return True

    async def _start_next(self) -> None:
        s = self._s
        if s.next_rollback is not None:
            rollback, s.next_rollback = s.next_rollback, None
            replaces = rollback.order.replaces
            if rollback.kind is DeploymentKind.BAD_ELSEWHERE and (
                s.live is None or replaces is None or s.live.digest != replaces.digest
            ):
                # What ran the bad digest was replaced meanwhile (a deployment that was running went live).
                self._ignore(f"no rollback to {rollback.to.tag}: {self._env} no longer runs the bad version")
                return
            version = QueuedVersion(
                tag=rollback.to.tag,
                digest=rollback.to.digest,
                source=SourceEvent(
                    source=rollback.kind.value, delivery_id=rollback.workflow_id, actor=rollback.order.actor
                ),
            )
            await self._start(version, rollback.kind, rollback.order, rollback.workflow_id)
        elif s.next_pin is not None:
            version, s.next_pin = s.next_pin, None
            await self._start(version, DeploymentKind.PIN, None, None)
        elif s.next_up is not None and s.hold is None:
            version, s.next_up = s.next_up, None
            await self._start(version, DeploymentKind.ROLL_FORWARD, None, None)

    def _reserve_id(self, kind: DeploymentKind, tag: str, digest: str) -> str:
        self._s.deployments_started += 1
        verb = "rollback" if kind in _ROLLBACKS else "deploy"
        return f"{verb}-{self._service}-{self._env}-{tag}-{digest[7:19]}-{self._s.deployments_started}"

    async def _start(
        self, version: QueuedVersion, kind: DeploymentKind, order: RollbackOrder | None, workflow_id: str | None
    ) -> None:
        digest = version.digest
        assert digest is not None  # screened versions and rollback targets carry their digest
        if not await self._read_settings():
            forget(self._s.seen_digests, digest)
            return
        settings = self._s.settings
        assert settings is not None
        env = self._plan_env()
        if env is None:
            self._ignore(f"{version.tag}: {self._service} has no environment {self._env} in the workers' config")
            return
        workflow_id = workflow_id or self._reserve_id(kind, version.tag, digest)
        inp = DeploymentInput(
            plan=settings.plan.only(self._env),
            tag=version.tag,
            digest=digest,
            break_glass=version.break_glass,
            tag_policy=settings.tag_policy,
            promote_to=settings.promote_to,
            source=version.source,
            pulumi_task_queue=settings.pulumi_task_queue,
            limits=settings.limits,
            kind=kind,
            rollback=order,
            lane_workflow_id=workflow.info().workflow_id,
        )
        what = "roll back" if kind in _ROLLBACKS else "deploy"
        self._child = await workflow.start_child_workflow(
            DeploymentWorkflow.run,
            inp,
            id=workflow_id,
            static_summary=f"{what} {self._service}/{self._env} {version.tag} ({short(digest)}…)",
            static_details=deployment_details(inp, workflow.info().workflow_id),
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.SERVICE, self._service),
                    SearchAttributePair(sa.ENVIRONMENT, self._env),
                    SearchAttributePair(sa.LANE, lane_name(self._service, self._env)),
                    SearchAttributePair(sa.TAG, version.tag),
                    SearchAttributePair(sa.DIGEST, digest),
                ]
            ),
            # Ending or terminating the lane must never cut a rollout (or its rollback) in half.
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self._s.current, self._s.current_workflow_id, self._s.current_kind = version, workflow_id, kind
        self._rollback_order = order
        self._s.recent.append(
            LaneDeployment(
                workflow_id=workflow_id, kind=kind, tag=version.tag, digest=digest, started_at=workflow.now()
            )
        )
        del self._s.recent[:-_KEEP_RECENT]

    async def _settle(self) -> None:
        child, current, kind, record = self._child, self._s.current, self._s.current_kind, self._s.recent[-1]
        assert child is not None
        assert current is not None
        assert current.digest is not None
        assert kind is not None
        regions_undone = False
        try:
            result = await child
            record.outcome, record.reason = result.outcome, result.reason
            regions_undone = any(region.phase in _UNDONE for region in result.regions)
        except ChildWorkflowError as error:
            record.outcome, record.reason = DeploymentOutcome.FAILED, str(error.cause or error)
        self._child, self._s.current, self._s.current_workflow_id, self._s.current_kind = None, None, None, None
        self._rolling_back = None
        if record.outcome is DeploymentOutcome.SUCCEEDED:
            await self._went_live(current, kind)
            return
        if kind in _ROLLBACKS:
            self._ignore(f"the rollback of {self._env} to {current.tag} did not finish: {record.reason}")
            return
        if record.outcome is not DeploymentOutcome.SUPERSEDED:
            # Not live: a new push of it is judged again (the store's bad mark refuses a rolled-back one until an
            # engineer clears it; an outage or a timed-out approval does not block it forever).
            forget(self._s.seen_digests, current.digest)
        if regions_undone:
            # The deployment marked its digest bad as it rolled back: every other lane must hear of it.
            await self._mark_bad_everywhere(current.tag, current.digest, record.reason or "rolled back")

    async def _went_live(self, version: QueuedVersion, kind: DeploymentKind) -> None:
        s = self._s
        assert version.digest is not None
        replaced = s.live
        live = LiveVersion(
            tag=version.tag,
            digest=version.digest,
            pushed_at=version.pushed_at,
            since=workflow.now(),
            initiator=version.source.actor,
        )
        s.live = live
        s.good = [good for good in s.good if good.digest != live.digest] + [live]
        del s.good[:-_KEEP_GOOD]
        s.promotions = []
        if kind in _ROLLBACKS:
            order = self._rollback_order
            self._rollback_order = None
            if replaced is not None and order is not None and order.mark_replaced_bad:
                # The rollback marked it bad in the store; the other lanes must refuse it and undo it too.
                reason = f"rolled back by {order.actor}: {order.reason}"
                await self._mark_bad_everywhere(replaced.tag, replaced.digest, reason)
            return
        if s.hold is not None:
            # A held lane (a pin) vouches for nothing: its version was chosen for this lane only.
            return
        env = self._plan_env()
        settings = s.settings
        if env is None or settings is None:
            return
        due: dict[timedelta, list[str]] = {}
        for later in settings.plan.promoted_from(self._env):
            assert later.promote is not None  # promoted_from only lists lanes with a rule
            due.setdefault(later.promote.after, []).append(later.name)
        for after, lanes in sorted(due.items()):
            s.promotions.append(
                PendingPromotion(
                    tag=live.tag,
                    digest=live.digest,
                    pushed_at=live.pushed_at,
                    due_at=live.since + after,
                    to=lanes,
                    initiator=live.initiator,
                )
            )

    # -- promotions ----------------------------------------------------------------------------------

    def _due_promotions(self) -> list[PendingPromotion]:
        now = workflow.now()
        return [promotion for promotion in self._s.promotions if promotion.due_at <= now]

    def _until_next_promotion(self) -> timedelta | None:
        if not self._s.promotions:
            return None
        earliest = min(promotion.due_at for promotion in self._s.promotions)
        return max(earliest - workflow.now(), timedelta(milliseconds=1))

    async def _offer_due(self) -> None:
        due = self._due_promotions()
        self._s.promotions = [promotion for promotion in self._s.promotions if promotion not in due]
        live = self._s.live
        for promotion in due:
            if live is None or live.digest != promotion.digest or self._s.hold is not None:
                continue
            for lane in promotion.to:
                # The pusher rides along: the later lane's approval policy may refuse them as its approver.
                offer = PromotionOffer(
                    tag=promotion.tag,
                    digest=promotion.digest,
                    pushed_at=promotion.pushed_at,
                    from_environment=self._env,
                    actor=promotion.initiator or "rollwright",
                )
                try:
                    await self._steps().offer_promotion(
                        OfferPromotionInput(
                            service=self._service,
                            environment=lane,
                            offer=offer,
                            task_queue=workflow.info().task_queue,
                        )
                    )
                except ActivityError as error:
                    self._ignore(f"could not offer {promotion.tag} to {lane}: {error.cause or error}")

    # -- bad marks -----------------------------------------------------------------------------------

    @workflow.signal(name=ROLLING_BACK_SIGNAL, description="This lane's deployment began rolling back")
    def deployment_rolling_back(self, news: BadElsewhere) -> None:
        s = self._s
        if news.workflow_id != s.current_workflow_id or s.current_kind in _ROLLBACKS:
            return  # a deployment this lane no longer runs, or a rollback (whose digest is the good one)
        if s.current is not None and s.current.digest == news.digest:
            self._rolling_back = news

    @workflow.signal(name=BAD_ELSEWHERE_SIGNAL, description="A digest was marked bad in another lane")
    def digest_marked_bad(self, bad: BadElsewhere) -> None:
        if bad.digest not in self._s.bad_digests:
            self._s.bad_elsewhere.append(bad)

    async def _mark_bad_everywhere(self, tag: str, digest: str, reason: str) -> None:
        s = self._s
        if digest in s.bad_digests:
            return
        remember(s.bad_digests, digest)
        s.good = [good for good in s.good if good.digest != digest]
        s.promotions = [promotion for promotion in s.promotions if promotion.digest != digest]
        settings = s.settings
        others = [env.name for env in settings.plan.environments if env.name != self._env] if settings else []
        if not others:
            return
        bad = BadElsewhere(
            digest=digest, tag=tag, environment=self._env, reason=reason, workflow_id=workflow.info().workflow_id
        )
        try:
            await self._steps().tell_lanes_bad(TellLanesBadInput(service=self._service, environments=others, bad=bad))
        except ActivityError as error:
            self._ignore(f"could not tell {', '.join(others)} that {short(digest)} is bad: {error.cause or error}")

    async def _act_on_bad_elsewhere(self) -> None:
        """Drop the digest from everything that waits; stop a deployment of it; roll back a live one (by rule)."""
        s = self._s
        batch, s.bad_elsewhere = s.bad_elsewhere, []
        for bad in batch:
            if bad.digest in s.bad_digests:
                continue
            remember(s.bad_digests, bad.digest)
            s.good = [good for good in s.good if good.digest != bad.digest]
            s.promotions = [promotion for promotion in s.promotions if promotion.digest != bad.digest]
            why = f"marked bad in {bad.environment}: {bad.reason}"
            for waiting in ("next_up", "next_pin"):
                version: QueuedVersion | None = getattr(s, waiting)
                if version is not None and version.digest == bad.digest:
                    setattr(s, waiting, None)
                    self._ignore(f"{version.tag} ({short(bad.digest)}): dropped, {why}")
            if s.current is not None and s.current.digest == bad.digest and self._child is not None:
                await self._abort_child(why)
            elif s.live is not None and s.live.digest == bad.digest:
                self._roll_back_bad(bad, why)

    async def _abort_child(self, why: str) -> None:
        assert self._child is not None
        try:
            await self._child.signal(ControlName.ABORT.signal_name, ControlRequest(actor="rollwright", reason=why))
        except FailureError as error:
            workflow.logger.info(f"could not abort {self._s.current_workflow_id}: {error}")

    def _roll_back_bad(self, bad: BadElsewhere, why: str) -> None:
        s = self._s
        env = self._plan_env()
        live = s.live
        assert live is not None
        if env is not None and env.on_bad_elsewhere is OnBadElsewhere.KEEP:
            self._ignore(f"{live.tag} stays live in {self._env} (on_bad_elsewhere: keep): {why}")
            return
        target = previous_good(s)
        if target is None:
            self._ignore(f"{live.tag} is {why}, but {self._env} has no earlier good version to return to")
            return
        to = VersionRef(tag=target.tag, digest=target.digest)
        s.next_rollback = PendingRollback(
            kind=DeploymentKind.BAD_ELSEWHERE,
            to=to,
            order=RollbackOrder(
                replaces=VersionRef(tag=live.tag, digest=live.digest),
                actor="rollwright",
                reason=why,
                mark_replaced_bad=False,
            ),
            workflow_id=self._reserve_id(DeploymentKind.BAD_ELSEWHERE, to.tag, to.digest),
        )

    # -- engineers' controls -------------------------------------------------------------------------

    def _reject(self, problem: str | None) -> None:
        if problem is not None:
            raise ApplicationError(problem, type="ControlRejected", non_retryable=True)

    def _unverifiable(
        self, control: LaneControl, request: RollbackRequest | PinRequest | ReleaseRequest | PromoteRequest
    ) -> str | None:
        """Why the request's sender cannot be taken at its word: a failing attestation, or none where the lane's
        environment requires verified controls (a lane that has not read its plan yet requires nothing)."""
        env = self._plan_env()
        return verification_problem(
            control.value,
            request,
            request.attestation,
            workflow_id=workflow.info().workflow_id,
            now=workflow.now(),
            environment=self._env,
            require_verified=env is not None and env.require_verified,
        )

    def _audit_later(
        self,
        action: LaneActionKind,
        actor: str,
        reason: str,
        workflow_id: str | None,
        version: VersionRef | None,
        verified: bool = False,
    ) -> None:
        self._s.last_actor = actor
        workflow.upsert_search_attributes([sa.ACTOR.value_set(actor)])
        self._s.unaudited.append(
            LaneAction(
                service=self._service,
                environment=self._env,
                action=action,
                actor=actor,
                reason=reason,
                at=workflow.now(),
                workflow_id=workflow_id or workflow.info().workflow_id,
                tag=version.tag if version else None,
                digest=version.digest if version else None,
                verified=verified,
            )
        )

    async def _audit(self) -> None:
        batch, self._s.unaudited = self._s.unaudited, []
        for action in batch:
            try:
                await self._steps().record_lane_action(action)
            except ActivityError as error:
                self._ignore(f"could not audit {action.action.value} by {action.actor}: {error.cause or error}")

    def _hold(
        self,
        kind: HoldKind,
        actor: str,
        reason: str,
        version: VersionRef | None,
        workflow_id: str | None,
        verified: bool = False,
    ) -> None:
        self._s.hold = Hold(kind=kind, actor=actor, reason=reason, since=workflow.now(), version=version)
        self._audit_later(LaneActionKind.HOLD, actor, reason, workflow_id, version, verified)

    @workflow.update(name=LaneControl.ROLLBACK.value, description="Roll this lane back and hold it there")
    def rollback(self, request: RollbackRequest) -> LaneAnswer:
        who = update_caller(request.actor, request.attestation)
        s = self._s
        live = s.live
        assert live is not None  # the validator refuses a lane with nothing live
        target = request.to
        if target is None:
            good = previous_good(s)
            assert good is not None  # the validator refuses when there is none
            target = VersionRef(tag=good.tag, digest=good.digest)
        workflow_id = self._reserve_id(DeploymentKind.ROLLBACK, target.tag, target.digest)
        replaced = VersionRef(tag=live.tag, digest=live.digest)
        s.next_rollback = PendingRollback(
            kind=DeploymentKind.ROLLBACK,
            to=target,
            order=RollbackOrder(
                replaces=replaced,
                actor=who.name,
                reason=request.reason,
                mark_replaced_bad=not request.keep_good,
            ),
            workflow_id=workflow_id,
        )
        if s.next_pin is not None:
            self._supersede(s.next_pin, QueuedVersion(tag=target.tag, digest=target.digest, source=s.next_pin.source))
            s.next_pin = None
        self._audit_later(LaneActionKind.ROLLBACK, who.name, request.reason, workflow_id, target, who.verified)
        self._hold(HoldKind.ROLLBACK, who.name, request.reason, target, workflow_id, who.verified)
        marked = "" if request.keep_good else f"; {live.tag} will be marked bad"
        return LaneAnswer(
            message=f"rolling {self._env} back from {live.tag} to {target.tag}{marked}; {self._env} is held until "
            "`rollwright release`",
            workflow_id=workflow_id,
        )

    @rollback.validator
    def _validate_rollback(self, request: RollbackRequest) -> None:
        self._reject(
            self._unverifiable(LaneControl.ROLLBACK, request) or rollback_rejection(request, self._s, self._env)
        )

    @workflow.update(name=LaneControl.PIN.value, description="Deploy this exact version here and hold the lane on it")
    def pin(self, request: PinRequest) -> LaneAnswer:
        who = update_caller(request.actor, request.attestation)
        delivery_id = f"pin-{workflow.info().workflow_id}-{len(self._s.recent)}-{workflow.now().isoformat()}"
        self._s.queue.append(
            QueuedVersion(
                tag=request.tag,
                digest_hint=request.digest,
                source=SourceEvent(source="pin", delivery_id=delivery_id, received_at=workflow.now(), actor=who.name),
                break_glass=break_glass_of(request, self._env) if request.break_glass else None,
            )
        )
        version = VersionRef(tag=request.tag, digest=request.digest) if request.digest else None
        self._audit_later(LaneActionKind.PIN, who.name, request.reason, None, version, who.verified)
        self._hold(HoldKind.PIN, who.name, request.reason, version, None, who.verified)
        return LaneAnswer(
            message=f"pinning {self._env} on {request.tag}: it deploys through the normal rollout, and {self._env} "
            "is held on it until `rollwright release`"
        )

    @pin.validator
    def _validate_pin(self, request: PinRequest) -> None:
        self._reject(
            self._unverifiable(LaneControl.PIN, request)
            or pin_rejection(request, self._s, self._env)
            or self._pin_break_glass_problem(request)
        )

    def _pin_break_glass_problem(self, request: PinRequest) -> str | None:
        """`deploy --break-glass`: checked here, before the pin touches history, as `approve --break-glass` is."""
        if not request.break_glass:
            return None
        # Before the lane's first deployment its plan is unknown: the deployment then checks the groups itself.
        return break_glass_refusal(request, LaneControl.PIN.value, workflow.info().workflow_id, self._plan_env())

    @workflow.update(name=LaneControl.RELEASE.value, description="Let automatic roll-forward resume in this lane")
    def release(self, request: ReleaseRequest) -> LaneAnswer:
        who = update_caller(request.actor, request.attestation)
        hold = self._s.hold
        assert hold is not None  # the validator refuses a lane that is not held
        self._s.hold = None
        self._audit_later(LaneActionKind.RELEASE, who.name, request.reason, None, hold.version, who.verified)
        waiting = f"; {self._s.next_up.tag} goes next" if self._s.next_up is not None else ""
        return LaneAnswer(message=f"released {self._env} (was held: {hold.reason}){waiting}")

    @release.validator
    def _validate_release(self, request: ReleaseRequest) -> None:
        self._reject(self._unverifiable(LaneControl.RELEASE, request) or release_rejection(self._s, self._env))

    @workflow.update(name=LaneControl.PROMOTE.value, description="Take this version into the lane now")
    def promote(self, request: PromoteRequest) -> LaneAnswer:
        who = update_caller(request.actor, request.attestation)
        self._s.queue.append(
            QueuedVersion(
                tag=request.tag,
                digest_hint=request.digest,
                source=SourceEvent(
                    source="promote",
                    delivery_id=f"promote-{request.digest}-{workflow.now().isoformat()}",
                    received_at=workflow.now(),
                    actor=who.name,
                ),
            )
        )
        version = VersionRef(tag=request.tag, digest=request.digest)
        self._audit_later(LaneActionKind.PROMOTE, who.name, request.reason, None, version, who.verified)
        return LaneAnswer(message=f"promoting {request.tag} into {self._env}: it is screened and queued like a push")

    @promote.validator
    def _validate_promote(self, request: PromoteRequest) -> None:
        self._reject(self._unverifiable(LaneControl.PROMOTE, request) or promote_rejection(request, self._s, self._env))

    # -- inspection ----------------------------------------------------------------------------------

    def _show(self) -> None:
        workflow.set_current_details(lane_details(self._service, self._env, self._s))

    @workflow.query(name=STATUS_QUERY, description="Live, running, queued, held and due in this lane")
    def status(self) -> LaneStatus:
        s = self._s
        return LaneStatus(
            service=self._service,
            environment=self._env,
            live=s.live,
            current_workflow_id=s.current_workflow_id,
            current=s.current,
            current_kind=s.current_kind,
            next_up=s.next_up,
            next_pin=s.next_pin,
            next_rollback=s.next_rollback,
            hold=s.hold,
            promotion=min(s.promotions, key=lambda promotion: promotion.due_at) if s.promotions else None,
            promotions=s.promotions,
            superseded=s.superseded,
            ignored=s.ignored,
            recent=s.recent,
            good=s.good,
        )
