"""ServicePipelineWorkflow: the per-service entity that turns pushes into one deployment at a time.

Its workflow id is the service (`pipeline_workflow_id`), so Temporal guarantees one pipeline per service;
the webhook and CLI feed it with signal-with-start. Pushes are queued by a synchronous signal handler
(never "in flight", so continue-as-new cannot lose one), screened by `inspect_candidate` in the main loop,
and deployed by a DeploymentWorkflow child, newest first, never a downgrade.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ChildWorkflowError, FailureError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

from rollwright.domain import search_attributes as sa
from workflows.deployment import DeploymentWorkflow
from workflows.pipeline_view import deployment_details, pipeline_details
from workflows.screening import Verdict, screen
from workflows.seen import forget, remember
from workflows.steps import Steps

with workflow.unsafe.imports_passed_through():
    from activities.contracts import CandidateInfo, InspectCandidateInput, OfferPromotionInput
    from rollwright.domain.deployment import (
        DEFAULT_PULUMI_TASK_QUEUE,
        ENQUEUE_SIGNAL,
        NEWER_VERSION_SIGNAL,
        PIPELINE_WORKFLOW,
        STATUS_QUERY,
        DeploymentInput,
        DeploymentLimits,
        DeploymentOutcome,
        DeploymentResult,
        NewerVersion,
        PipelineDeployment,
        PipelineInput,
        PipelineState,
        PipelineStatus,
        PushEvent,
        QueuedVersion,
        SupersededVersion,
    )
    from rollwright.domain.digest import short
    from rollwright.domain.lane import PromotionOffer

# workflow.patched id: the plan comes from the workers' config (activities/plans.py), not from pushes.
PLAN_FROM_WORKERS = "plan-from-workers"
# workflow.patched id: a version that waits ends the running deployment's post-deploy watch.
NEWER_ENDS_WATCH = "newer-version-ends-watch"
# workflow.patched id: lanes replace the per-service pipeline. One in the old shape finishes the deployment it runs,
# hands every version still waiting to the service's first lane, and ends (README: Upgrading to lanes).
HAND_OVER_TO_LANES = "hand-over-to-lanes"

# Keep the carried state (and so every continue-as-new input) small.
_KEEP_NOTES = 50
_KEEP_RECENT = 20


@workflow.defn(name=PIPELINE_WORKFLOW)
class ServicePipelineWorkflow:
    @workflow.init
    def __init__(self, inp: PipelineInput) -> None:
        self._service = inp.service
        self._s = inp.state or PipelineState()
        self._continue_after = inp.continue_as_new_after_events
        self._child: ChildWorkflowHandle[Any, DeploymentResult] | None = None
        self._decisions = 0
        self._handed_over = False

    @workflow.run
    async def run(self, inp: PipelineInput) -> None:
        workflow.upsert_search_attributes([sa.SERVICE.value_set(self._service)])
        self._show()
        while True:
            await workflow.wait_condition(
                lambda: (
                    bool(self._s.queue)
                    or (self._child is not None and self._child.done())
                    or (self._child is None and (self._s.next_up is not None or self._should_continue_as_new()))
                )
            )
            if self._s.queue:
                await self._screen_queue()
            elif self._child is not None:
                await self._settle()
            elif self._should_continue_as_new():
                # Only between deployments: a child outlives a continue-as-new, but its result would be lost.
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._s.queue:
                    workflow.continue_as_new(
                        PipelineInput(
                            service=self._service, state=self._s, continue_as_new_after_events=self._continue_after
                        )
                    )
            elif self._s.next_up is not None:
                if self._handing_over():
                    await self._hand_over(self._s.next_up)
                else:
                    await self._start(self._s.next_up)
            self._show()
            if self._idle() and self._handing_over():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._idle():
                    workflow.logger.info(f"{self._service}: handed over to its lanes; this pipeline ends")
                    return

    def _handing_over(self) -> bool:
        """Whether this pipeline hands over to lanes now. `workflow.patched` keeps its first answer for the rest of
        a run, and a pipeline from before lanes first asks while replaying (no marker there: False), so each
        decision asks under an id of its own until one answers True: the first decision the new code makes for
        real."""
        if not self._handed_over:
            self._decisions += 1
            patch = HAND_OVER_TO_LANES if self._decisions == 1 else f"{HAND_OVER_TO_LANES}/{self._decisions}"
            self._handed_over = workflow.patched(patch)
        return self._handed_over

    def _idle(self) -> bool:
        return self._child is None and not self._s.queue and self._s.next_up is None

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        if info.is_continue_as_new_suggested():
            return True
        return self._continue_after is not None and info.get_current_history_length() >= self._continue_after

    # -- intake --------------------------------------------------------------------------------------

    @workflow.signal(name=ENQUEUE_SIGNAL, description="A registry pushed a new image for this service")
    def enqueue(self, event: PushEvent) -> None:
        if event.settings is not None and not self._plan_from_workers():
            self._s.settings = event.settings
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

    def _plan_from_workers(self) -> bool:
        """Pipelines started before the workers owned the plan keep the one their pushes carried, until their
        next continue-as-new; every later run reads it from the workers' config when a deployment starts."""
        return workflow.patched(PLAN_FROM_WORKERS)

    def _steps(self) -> Steps:
        settings = self._s.settings
        if settings is None:
            return Steps(DeploymentLimits(), DEFAULT_PULUMI_TASK_QUEUE)
        return Steps(settings.limits, settings.pulumi_task_queue)

    async def _screen_queue(self) -> None:
        batch, self._s.queue = self._s.queue, []
        if not self._plan_from_workers() and self._s.settings is None:
            for version in batch:
                self._ignore(f"{version.tag}: no service settings yet; enqueue with the service's plan")
            return
        steps = self._steps()
        found = await asyncio.gather(*(self._inspect(steps, version) for version in batch))
        waiting = self._s.next_up
        for version, info in zip(batch, found, strict=True):
            if info is not None:
                self._judge(version, info)
        newer, child = self._s.next_up, self._child
        if (
            newer is not None
            and newer is not waiting
            and newer.digest is not None
            and child is not None
            and not child.done()
            and workflow.patched(NEWER_ENDS_WATCH)
        ):
            try:
                await child.signal(NEWER_VERSION_SIGNAL, NewerVersion(tag=newer.tag, digest=newer.digest))
            except FailureError as error:
                # It ended meanwhile: nothing left to tell it.
                workflow.logger.info(f"could not tell the running deployment about {newer.tag}: {error}")

    async def _inspect(self, steps: Steps, version: QueuedVersion) -> CandidateInfo | None:
        # The workers' config names the image; only a pre-patch pipeline still takes it from its pushes.
        image = None if self._plan_from_workers() or self._s.settings is None else self._s.settings.plan.image
        try:
            return await steps.inspect_candidate(
                InspectCandidateInput(
                    service=self._service, image=image, tag=version.tag, digest_hint=version.digest_hint
                )
            )
        except ActivityError as error:
            self._ignore(f"{version.tag}: could not inspect the image: {error.cause or error}")
            return None

    def _judge(self, version: QueuedVersion, info: CandidateInfo) -> None:
        resolved = version.model_copy(update={"digest": info.digest, "pushed_at": version.pushed_at or info.pushed_at})
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
        workflow.logger.info(verdict.reason)

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

    # -- deployments ---------------------------------------------------------------------------------

    async def _start(self, version: QueuedVersion) -> None:
        digest = version.digest
        assert digest is not None  # only screened versions become next_up, and screening resolves the digest
        self._s.next_up = None
        if self._plan_from_workers():
            try:
                self._s.settings = await self._steps().read_service_plan(self._service)
            except ActivityError as error:
                self._ignore(f"{version.tag}: no plan to deploy it with: {error.cause or error}")
                forget(self._s.seen_digests, digest)
                return
        settings = self._s.settings
        assert settings is not None  # a pre-patch pipeline screens only once its pushes brought settings
        self._s.deployments_started += 1
        workflow_id = f"deploy-{self._service}-{version.tag}-{digest[7:19]}-{self._s.deployments_started}"
        inp = DeploymentInput(
            plan=settings.plan,
            tag=version.tag,
            digest=digest,
            tag_policy=settings.tag_policy,
            promote_to=settings.promote_to,
            source=version.source,
            pulumi_task_queue=settings.pulumi_task_queue,
            limits=settings.limits,
        )
        self._child = await workflow.start_child_workflow(
            DeploymentWorkflow.run,
            inp,
            id=workflow_id,
            static_summary=f"deploy {self._service} {version.tag} ({short(digest)}…)",
            static_details=deployment_details(inp, workflow.info().workflow_id),
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.SERVICE, self._service),
                    SearchAttributePair(sa.TAG, version.tag),
                    SearchAttributePair(sa.DIGEST, digest),
                ]
            ),
            # Ending or terminating the pipeline must never cut a rollout (or its rollback) in half.
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self._s.current = version
        self._s.current_workflow_id = workflow_id
        self._s.recent.append(
            PipelineDeployment(workflow_id=workflow_id, tag=version.tag, digest=digest, started_at=workflow.now())
        )
        del self._s.recent[:-_KEEP_RECENT]

    async def _settle(self) -> None:
        child, current, record = self._child, self._s.current, self._s.recent[-1]
        assert child is not None
        assert current is not None
        try:
            result = await child
            record.outcome, record.reason = result.outcome, result.reason
        except ChildWorkflowError as error:
            record.outcome, record.reason = DeploymentOutcome.FAILED, str(error.cause or error)
        if record.outcome is DeploymentOutcome.SUCCEEDED:
            self._s.live_tag, self._s.live_digest = current.tag, current.digest
            self._s.live_pushed_at = current.pushed_at
        elif current.digest is not None:
            # A version that did not go live is judged again when pushed again: the version store's bad mark (set
            # by any rollback) refuses it until an engineer clears it; an outage or a timed-out approval does not
            # block it forever. Remembering it as "seen" would.
            forget(self._s.seen_digests, current.digest)
        self._child, self._s.current, self._s.current_workflow_id = None, None, None

    async def _hand_over(self, version: QueuedVersion) -> None:
        """The first lane screens it as it would a push (it may since have deployed something newer)."""
        self._s.next_up = None
        digest = version.digest
        assert digest is not None  # only screened versions become next_up
        try:
            settings = await self._steps().read_service_plan(self._service)
            first = settings.plan.environments[0].name
            await self._steps().offer_promotion(
                OfferPromotionInput(
                    service=self._service,
                    environment=first,
                    offer=PromotionOffer(
                        tag=version.tag,
                        digest=digest,
                        pushed_at=version.pushed_at,
                        from_environment="the service's old pipeline",
                        actor=version.source.actor or "rollwright",
                    ),
                    task_queue=workflow.info().task_queue,
                )
            )
        except ActivityError as error:
            self._ignore(f"{version.tag}: could not hand it to the service's first lane: {error.cause or error}")

    # -- inspection ----------------------------------------------------------------------------------

    def _show(self) -> None:
        workflow.set_current_details(pipeline_details(self._service, self._s))

    @workflow.query(name=STATUS_QUERY, description="What deploys now, what waits, and why pushes were ignored")
    def status(self) -> PipelineStatus:
        s = self._s
        return PipelineStatus(
            service=self._service,
            current_workflow_id=s.current_workflow_id,
            current=s.current,
            queue=s.queue,
            live_tag=s.live_tag,
            live_digest=s.live_digest,
            superseded=s.superseded,
            ignored=s.ignored,
            next_up=s.next_up,
            recent=s.recent,
            deployments_started=s.deployments_started,
        )
