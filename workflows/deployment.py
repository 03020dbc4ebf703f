"""DeploymentWorkflow: one version of one service, environment by environment, wave by wave, region by region.

Reads top to bottom like the rollout: publish, then per environment an approval, then waves with a bake between
them, then the post-deploy watch; a stop anywhere unwinds to the rollback. A deliberate rollback (DeploymentKind
ROLLBACK, BAD_ELSEWHERE) instead takes every region back to its version, the newest wave first. The phases, and
the rules of the operator controls, are in workflows/deployment_phases.py; this module is the workflow's Temporal
surface: its run, its updates and signals, its status query.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

# The sandbox re-imports a workflow's module, and every module it imports outside this block, for every run it
# starts: the phases and their parts would cost ~210 KB a cached deployment, so this module keeps only what Temporal
# must find on the workflow class (~26 KB). The phases and their parts keep no state of their own (a run's is in its
# object) and import only contracts and domain models, so one copy of them serves every run.
with workflow.unsafe.imports_passed_through():
    from rollwright.domain.deployment import (
        DEPLOYMENT_WORKFLOW,
        FREEZES_CHANGED_SIGNAL,
        NEWER_VERSION_SIGNAL,
        STATUS_QUERY,
        ControlAnswer,
        ControlName,
        ControlRequest,
        DeploymentInput,
        DeploymentOutcome,
        DeploymentResult,
        DeploymentStatus,
        FreezesChanged,
        NewerVersion,
    )
    from workflows.deployment_log import DELIBERATE_ROLLBACKS
    from workflows.deployment_phases import DeploymentPhases
    from workflows.stopping import Stop, StopKind, Stopping


@workflow.defn(name=DEPLOYMENT_WORKFLOW)
class DeploymentWorkflow(DeploymentPhases):
    @workflow.init
    def __init__(self, inp: DeploymentInput) -> None:
        super().__init__(inp)

    @workflow.run
    async def run(self, inp: DeploymentInput) -> DeploymentResult:
        self._log.note(f"{self._log.title} started")
        if inp.kind in DELIBERATE_ROLLBACKS:
            return await self._despite_cancellation(self._roll_back_on_purpose())
        try:
            await self._publish()
            for env in inp.plan.environments:
                ended = await self._deploy_environment(env)
                if ended is not None:
                    return await self._finish(ended.outcome, ended.reason)
            await self._watch()
            return await self._finish(DeploymentOutcome.SUCCEEDED, None)
        except Stopping:
            return await self._unwind()
        except asyncio.CancelledError:
            # "Request Cancellation" is the UI's most visible button: it must not leave a half-rolled-out
            # version behind, so it means what abort means. The cancel was delivered once; what follows runs.
            self._request_stop(Stop(StopKind.ABORTED, "cancellation requested in Temporal", actor="temporal"))
            await self._stop_wave()
            return await self._unwind()

    # -- operator controls ---------------------------------------------------------------------------

    @workflow.update(name=ControlName.PAUSE.value, description="Hold at the next safe point; nothing rolls back")
    def pause(self, request: ControlRequest) -> ControlAnswer:
        return self._apply(ControlName.PAUSE, request)

    @pause.validator
    def _validate_pause(self, request: ControlRequest) -> None:
        self._validate(ControlName.PAUSE, request)

    @workflow.update(name=ControlName.RESUME.value, description="Continue a paused deployment")
    def resume(self, request: ControlRequest) -> ControlAnswer:
        return self._apply(ControlName.RESUME, request)

    @resume.validator
    def _validate_resume(self, request: ControlRequest) -> None:
        self._validate(ControlName.RESUME, request)

    @workflow.update(name=ControlName.ABORT.value, description="Stop and roll back every region this changed")
    def abort(self, request: ControlRequest) -> ControlAnswer:
        return self._apply(ControlName.ABORT, request)

    @abort.validator
    def _validate_abort(self, request: ControlRequest) -> None:
        self._validate(ControlName.ABORT, request)

    @workflow.update(name=ControlName.APPROVE.value, description="Approve the environment that waits for approval")
    def approve(self, request: ControlRequest) -> ControlAnswer:
        return self._apply(ControlName.APPROVE, request)

    @approve.validator
    def _validate_approve(self, request: ControlRequest) -> None:
        self._validate(ControlName.APPROVE, request)

    @workflow.signal(name=ControlName.PAUSE.signal_name)
    def pause_signal(self, request: ControlRequest) -> None:
        self._apply_signal(ControlName.PAUSE, request)

    @workflow.signal(name=ControlName.RESUME.signal_name)
    def resume_signal(self, request: ControlRequest) -> None:
        self._apply_signal(ControlName.RESUME, request)

    @workflow.signal(name=ControlName.ABORT.signal_name)
    def abort_signal(self, request: ControlRequest) -> None:
        self._apply_signal(ControlName.ABORT, request)

    @workflow.signal(name=ControlName.APPROVE.signal_name)
    def approve_signal(self, request: ControlRequest) -> None:
        self._apply_signal(ControlName.APPROVE, request)

    @workflow.signal(
        name=NEWER_VERSION_SIGNAL,
        description="A newer version waits: end the post-deploy watch, or an approval wait before any region changed",
    )
    def newer_version(self, newer: NewerVersion) -> None:
        self._newer = newer

    @workflow.signal(
        name=FREEZES_CHANGED_SIGNAL,
        description="A freeze was added or lifted (rollwright freeze/unfreeze): a held deployment re-checks at once",
    )
    def freezes_changed(self, change: FreezesChanged) -> None:
        self._holds.freezes_changed()

    @workflow.query(name=STATUS_QUERY, description="Per-region progress and the audit trail")
    def status(self) -> DeploymentStatus:
        return self._log.snapshot()
