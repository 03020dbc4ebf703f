"""The phases of a deployment, which DeploymentWorkflow (workflows/deployment.py) runs in order: publish, then per
environment an approval, then waves (regions of a wave in parallel) with a bake between them (checked, when the
environment has checks), then the post-deploy watch; any failed canary, failed check, failed step or operator abort
stops new work, cancels what is in flight and rolls back every region this deployment changed, wave by wave, the
newest first. Where the environment says `on_failure: halt`, a failed canary or check holds the deployment instead,
for an engineer's abort or resume. A newer version waiting ends an approval wait while no region has changed
(superseded). A deliberate rollback (kind rollback or bad_elsewhere) is a phase of its own: every region back to
the deployment's version, waves newest first, nothing published, approved, baked or checked. The rules of the
operator controls live here too; their handlers are the workflow's.

Passed through the sandbox (workflows/deployment.py says why): nothing here may keep state outside a run's object.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from activities.contracts import MarkDigestBadInput, PublishInput
from rollwright.domain.deployment import (
    Approval,
    ControlAnswer,
    ControlName,
    ControlRequest,
    DeploymentInput,
    DeploymentKind,
    DeploymentOutcome,
    DeploymentPhase,
    DeploymentResult,
    NewerVersion,
    RegionPhase,
)
from rollwright.domain.durations import format_duration
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import ROLLING_BACK_SIGNAL, BadElsewhere
from rollwright.domain.notification import Notification, NotificationKind
from rollwright.domain.plan import ApprovalDefault, EnvironmentPlan
from rollwright.domain.verification import OnFailure
from workflows.callers import Caller, unverified_refusal, update_caller, verification_problem
from workflows.controls import ControlView, rejection
from workflows.deployment_log import DELIBERATE_ROLLBACKS, DeploymentLog
from workflows.holds import Holds, break_glass_of, break_glass_refusal
from workflows.regions import RegionRunner
from workflows.steps import Steps
from workflows.stopping import Stop, StopKind, Stopping
from workflows.verification import Verifier

# Failures an environment's `on_failure: halt` turns into a hold; a broken step or an abort always unwinds.
_HALTABLE = frozenset({StopKind.CANARY_FAILED, StopKind.CHECK_FAILED})
# workflow.patched id: a newer version ends an approval wait of a deployment that has changed no region yet.
SUPERSEDED_AT_APPROVAL = "superseded-at-approval"
# workflow.patched id: the lane hears of the rollback as it begins (a signal), not only from the deployment's result.
ANNOUNCE_ROLLBACK = "announce-rollback"
# workflow.patched id: the deployment's own rollback takes its Pulumi slots before the lane hears of it, so the
# environment whose canary failed goes back first; the other lanes' rollbacks, which that news starts, queue behind.
OWN_ROLLBACK_FIRST = "own-rollback-first"


@dataclass(frozen=True)
class Ended:
    """An environment ended the deployment early, with nothing to roll back."""

    outcome: DeploymentOutcome
    reason: str


class DeploymentPhases:
    """One deployment's state and every step of it; DeploymentWorkflow.run puts the steps in order."""

    def __init__(self, inp: DeploymentInput) -> None:
        self._inp = inp
        self._log = DeploymentLog(inp)
        self._steps = Steps(inp.limits, inp.pulumi_task_queue)
        self._regions = RegionRunner(inp, self._steps, self._log, self._checkpoint, self._request_stop)
        self._verifier = Verifier(self._steps, self._log, self._regions)
        self._stop: Stop | None = None
        self._halt: Stop | None = None
        self._approved: str | None = None
        self._wave: list[asyncio.Task[None]] = []
        # Rollout actions a halt or a resume started; waited for before the deployment ends.
        self._actions: list[asyncio.Task[None]] = []
        self._newer: NewerVersion | None = None
        self._holds = Holds(inp, self._steps, self._log, lambda: self._stop is not None)

    # -- the rollout ---------------------------------------------------------------------------------

    async def _publish(self) -> None:
        await self._checkpoint()
        await self._holds.while_frozen(self._inp.plan.environments[0].name, "before publish")
        await self._checkpoint()
        try:
            published = await self._steps.publish(
                PublishInput(
                    service=self._inp.plan.service,
                    image=self._inp.plan.image,
                    tag=self._inp.tag,
                    digest=self._inp.digest,
                    tag_policy=self._inp.tag_policy,
                    promote_to=self._inp.promote_to,
                    source=self._inp.source,
                    workflow_id=workflow.info().workflow_id,
                )
            )
        except ActivityError as error:
            self._request_stop(Stop(StopKind.STEP_FAILED, f"publish failed: {error.cause or error}"))
            raise Stopping from None
        self._regions.image = published.image
        self._log.note(f"published {published.image}:{published.tag} ({published.digest[:19]})")
        self._log.set_phase(DeploymentPhase.DEPLOYING)

    async def _deploy_environment(self, env: EnvironmentPlan) -> Ended | None:
        """Deploy every wave of one environment; how the deployment ended when it ended waiting for the approval."""
        self._log.at(env.name, None)
        if env.approval.required:
            ended = await self._await_approval(env)
            if ended is not None:
                return ended
        await self._through_window(env)
        for index, wave in enumerate(env.waves, start=1):
            await self._checkpoint()
            await self._holds.while_frozen(env.name, f"before {env.name} wave {index}")
            await self._checkpoint()
            self._log.at(env.name, index)
            self._log.note(f"{env.name} wave {index}/{len(env.waves)}: {', '.join(wave)}")
            await self._deploy_wave(env, wave, index)
            if env.bake and not self._is_last_wave(env, index):
                await self._bake(env, index, env.bake)
        await self._notify(NotificationKind.ENVIRONMENT_SUCCEEDED, env.name, reason=None)
        self._log.note(f"{env.name} is live on {self._inp.tag}")
        return None

    async def _deploy_wave(self, env: EnvironmentPlan, wave: list[str], index: int) -> None:
        self._wave = [asyncio.create_task(self._regions.deploy(env, region, index)) for region in wave]
        await workflow.wait_condition(lambda: all(task.done() for task in self._wave) or self._stop is not None)
        await self._stop_wave()
        if self._stop is not None:
            raise Stopping

    async def _stop_wave(self) -> None:
        for task in self._wave:
            if not task.done():
                task.cancel()
        # Region tasks never raise; waiting lets cancelled Pulumi runs finish stopping before any rollback.
        await asyncio.gather(*self._wave, return_exceptions=True)

    def _is_last_wave(self, env: EnvironmentPlan, index: int) -> bool:
        return env.name == self._inp.plan.environments[-1].name and index == len(env.waves)

    async def _bake(self, env: EnvironmentPlan, index: int, bake: timedelta) -> None:
        """Let the wave run under real traffic before anything else changes; an abort ends the bake early. With
        checks, they run every interval meanwhile and a failure ends the bake too."""
        self._log.set_phase(DeploymentPhase.BAKING)
        what = f"bake {env.name} wave {index}"
        if env.verification.checks:
            failure = await self._verifier.check_for(
                [env],
                bake,
                what,
                interval=env.verification.interval,
                initial_delay=env.verification.initial_delay,
                done=lambda: self._stop is not None,
            )
            if failure is not None:
                self._request_stop(failure)
        else:
            self._log.note(f"baking {env.name} wave {index} for {format_duration(bake)}")
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._stop is not None,
                    timeout=bake,
                    timeout_summary=f"{what} for {format_duration(bake)}",
                )
        self._log.set_phase(DeploymentPhase.DEPLOYING)
        await self._checkpoint()

    async def _watch(self) -> None:
        """After the last wave: keep checking every environment with checks for the last one's watch window. A
        newer version waiting ends the watch (it takes over); a failure rolls back everything, or halts."""
        last = self._inp.plan.environments[-1]
        window = last.verification.watch
        if window is None:
            return
        if self._newer is not None:
            self._log.note(f"no post-deploy watch: {self._newer.tag} waits to deploy")
            return
        self._log.set_phase(DeploymentPhase.WATCHING)
        self._log.status.watching_until = workflow.now() + window
        checked = [env for env in self._inp.plan.environments if env.verification.checks]
        failure = await self._verifier.check_for(
            checked,
            window,
            f"watch for {format_duration(window)}",
            interval=last.verification.interval,
            initial_delay=last.verification.initial_delay,
            done=lambda: self._stop is not None or self._newer is not None,
        )
        self._log.status.watching_until = None
        if failure is not None:
            self._request_stop(failure)
        elif self._newer is not None:
            self._log.note(f"watch ended early: {self._newer.tag} waits to deploy and takes over")
        await self._checkpoint()

    async def _await_approval(self, env: EnvironmentPlan) -> Ended | None:
        """Wait for the environment's approval; how the deployment ends when it must not go on (None: go on).

        Until a region changed, a newer version waiting ends the wait: this version would only be replaced."""
        await self._checkpoint()
        self._approved = None
        self._log.status.awaiting_approval = env.name
        self._log.status.approvals_needed = env.approval.approvers
        self._log.set_phase(DeploymentPhase.AWAITING_APPROVAL)
        await self._notify(NotificationKind.APPROVAL_NEEDED, env.name, reason=f"{env.name} needs an approval")
        supersedable = not self._regions.changed and workflow.patched(SUPERSEDED_AT_APPROVAL)
        timeout = env.approval.timeout
        try:
            await workflow.wait_condition(
                lambda: (
                    self._approved == env.name or self._stop is not None or (supersedable and self._newer is not None)
                ),
                timeout=timeout,
                timeout_summary=f"approval of {env.name} times out after {format_duration(timeout)}",
            )
        except TimeoutError:
            default = env.approval.on_timeout
            self._log.audit(f"approval timeout ({default.value})", "rollwright", f"no answer for {env.name}")
            if default is ApprovalDefault.STOP:
                return Ended(DeploymentOutcome.STOPPED, f"approval for {env.name} timed out")
        finally:
            self._log.status.awaiting_approval = None
            self._log.status.approvals_needed = None
            self._log.set_phase(DeploymentPhase.DEPLOYING)
        if self._stop is not None:
            raise Stopping
        if self._approved != env.name and self._newer is not None and supersedable:
            reason = f"superseded by {self._newer.tag} while waiting for approval of {env.name}"
            self._log.note(f"{reason}; no region was changed")
            return Ended(DeploymentOutcome.SUPERSEDED, reason)
        return None

    async def _through_window(self, env: EnvironmentPlan) -> None:
        """Wait for `env`'s deploy window (a durable timer); a deployment's own break-glass is notified here."""
        await self._checkpoint()
        glass = await self._holds.while_closed(env)
        if glass is not None:
            await self._notify(NotificationKind.BREAK_GLASS, env.name, reason=f"by {glass.actor}: {glass.reason}")
        await self._checkpoint()

    async def _checkpoint(self) -> None:
        """A safe point: hold here while paused; unwind from here once the deployment is stopping."""
        if self._log.status.paused and self._stop is None:
            await workflow.wait_condition(lambda: not self._log.status.paused or self._stop is not None)
        if self._stop is not None:
            raise Stopping

    def _request_stop(self, stop: Stop) -> None:
        if self._stop is not None:
            return
        if stop.kind in _HALTABLE and self._on_failure(stop.environment) is OnFailure.HALT:
            self._hold(stop)
            return
        self._stop = stop
        self._log.note(f"stopping: {stop.reason}")

    def _on_failure(self, environment: str | None) -> OnFailure:
        for env in self._inp.plan.environments:
            if env.name == environment:
                return env.verification.on_failure
        return OnFailure.ROLLBACK

    def _hold(self, stop: Stop) -> None:
        """`on_failure: halt`: pause the canaries in flight, hold at the next safe point, wait for an engineer."""
        if self._halt is not None:
            self._log.note(f"also failed while halted: {stop.reason}")
            return
        self._halt = stop
        self._log.status.halted = stop.reason
        self._log.status.paused = True
        self._log.audit("halt", "rollwright", stop.reason)
        self._actions.append(asyncio.create_task(self._pause_in_flight(stop)))

    async def _pause_in_flight(self, stop: Stop) -> None:
        for changed in self._regions.in_flight():
            try:
                await self._steps.pause_rollout(self._regions.rollout_action(changed, stop.reason))
            except ActivityError as error:
                self._log.note(f"{changed.target.key}: could not pause the canary: {error.cause or error}")
        await self._notify(NotificationKind.HALTED, stop.environment, reason=stop.reason)

    async def _resume_in_flight(self, reason: str) -> None:
        for changed in self._regions.in_flight():
            try:
                await self._steps.resume_rollout(self._regions.rollout_action(changed, reason))
            except ActivityError as error:
                self._log.note(f"{changed.target.key}: could not resume the canary: {error.cause or error}")

    # -- a deliberate rollback -----------------------------------------------------------------------

    async def _roll_back_on_purpose(self) -> DeploymentResult:
        """Every region of the plan back to this deployment's version (inp.tag/inp.digest): no publish, approval,
        bake or checks; waves newest first, a wave's regions at once, each straight to 100%. A region that fails
        lets the others of its wave finish; later waves do not start, and nothing rolls back a rollback."""
        inp = self._inp
        order = inp.rollback
        actor = order.actor if order else "rollwright"
        reason = order.reason if order else f"{inp.kind.value} to {inp.tag}"
        why = f"{inp.kind.value} to {inp.tag} by {actor}: {reason}"
        self._log.audit(inp.kind.value, actor, reason)
        self._log.set_phase(DeploymentPhase.ROLLING_BACK)
        # The image as the roll-forward deployed it: from the central repository when publish promoted it there.
        self._regions.image = inp.promote_to or inp.plan.image
        failed: list[str] = []
        not_started: list[str] = []
        for env in inp.plan.environments:
            for index in range(len(env.waves), 0, -1):
                wave = env.waves[index - 1]
                if failed:
                    for region in wave:
                        not_started.append(self._target(env, region).key)
                        self._log.region(self._target(env, region)).message = "not started: an earlier wave failed"
                    continue
                await self._checkpoint()
                self._log.at(env.name, index)
                self._log.note(f"{env.name} wave {index}/{len(env.waves)} back to {inp.tag}: {', '.join(wave)}")
                restoring = [asyncio.create_task(self._regions.restore(env, region, index, why)) for region in wave]
                results = await asyncio.gather(*restoring)
                failed += [self._target(env, region).key for region, ok in zip(wave, results, strict=True) if not ok]
        if failed:
            text = f"{inp.kind.value} to {inp.tag} failed in {', '.join(failed)}"
            if not_started:
                text += f"; not started: {', '.join(not_started)}"
            await self._notify(NotificationKind.FAILED, None, reason=text, regions=failed)
            return await self._finish(DeploymentOutcome.FAILED, text)
        replaced = order.replaces if order else None
        if order is not None and order.mark_replaced_bad and replaced is not None:
            await self._mark_bad(replaced.digest, f"rolled back to {inp.tag} by {actor}: {reason}", actor)
        changed = [
            RegionTarget(service=r.service, environment=r.environment, region=r.region).key
            for r in self._log.status.regions
            if r.phase is RegionPhase.ROLLED_BACK
        ]
        await self._notify(NotificationKind.ROLLED_BACK, None, reason=why, regions=changed)
        return await self._finish(DeploymentOutcome.SUCCEEDED, None)

    def _target(self, env: EnvironmentPlan, region: str) -> RegionTarget:
        return RegionTarget(service=self._inp.plan.service, environment=env.name, region=region)

    async def _despite_cancellation(self, rollback: Coroutine[Any, Any, DeploymentResult]) -> DeploymentResult:
        """A rollback stopped half-way would leave its regions split between two versions, so a cancellation from
        Temporal is audited and the rollback goes on (a terminate still stops it, leaving what it leaves)."""
        task = asyncio.create_task(rollback)
        while True:
            try:
                await workflow.wait_condition(task.done)
            except asyncio.CancelledError:
                self._log.audit("cancel refused", "temporal", "a rollback goes on until every region is done")
                continue
            return task.result()

    # -- the way back --------------------------------------------------------------------------------

    async def _unwind(self) -> DeploymentResult:
        stop = self._stop
        assert stop is not None  # Stopping is only raised once a stop was requested
        changed = self._regions.changed
        if not changed:
            outcome = DeploymentOutcome.ABORTED if stop.kind is StopKind.ABORTED else DeploymentOutcome.FAILED
            await self._notify(NotificationKind.FAILED, None, reason=stop.reason)
            return await self._finish(outcome, stop.reason)
        self._log.set_phase(DeploymentPhase.ROLLING_BACK)
        # Whatever stopped it, a rolled-back digest must never come back on its own: only an engineer's
        # `rollwright unblock` clears the mark (the brief's promise against Image Updater/Flux re-deploys).
        await self._mark_bad(self._inp.digest, stop.reason, stop.actor)
        if workflow.patched(OWN_ROLLBACK_FIRST):
            await self._regions.halt(stop.reason)
            # Its newest wave's Pulumi runs are scheduled in the same workflow task as the signal, while the other
            # lanes' rollbacks are still workflow tasks away from asking for a slot: with fewer Pulumi slots than
            # regions to go back, staging's rollback no longer holds one while a region of this deployment waits.
            rolling_back = asyncio.create_task(self._regions.roll_back_all())
            await self._tell_lane_rolling_back(stop.reason)
            rolled_back = await rolling_back
        else:
            await self._tell_lane_rolling_back(stop.reason)
            await self._regions.halt(stop.reason)
            rolled_back = await self._regions.roll_back_all()
        keys = [region.target.key for region in changed]
        if not rolled_back:
            reason = f"{stop.reason}; rollback failed in some regions — see the region status"
            await self._notify(NotificationKind.FAILED, None, reason=reason, regions=keys)
            return await self._finish(DeploymentOutcome.FAILED, reason)
        await self._notify(NotificationKind.ROLLED_BACK, None, reason=stop.reason, regions=keys)
        outcome = DeploymentOutcome.ABORTED if stop.kind is StopKind.ABORTED else DeploymentOutcome.ROLLED_BACK
        return await self._finish(outcome, stop.reason)

    async def _tell_lane_rolling_back(self, reason: str) -> None:
        """The digest is bad from now on: the lane passes that on to the other lanes, whose own rollbacks then run
        alongside this one's instead of after its last region."""
        inp = self._inp
        if inp.lane_workflow_id is None or inp.kind is not DeploymentKind.ROLL_FORWARD:
            return
        if not workflow.patched(ANNOUNCE_ROLLBACK):
            return
        news = BadElsewhere(
            digest=inp.digest,
            tag=inp.tag,
            environment=", ".join(env.name for env in inp.plan.environments),
            reason=reason,
            workflow_id=workflow.info().workflow_id,
        )
        try:
            await workflow.get_external_workflow_handle(inp.lane_workflow_id).signal(ROLLING_BACK_SIGNAL, news)
        except FailureError as error:
            # The lane still learns of it from this deployment's result.
            self._log.note(f"could not tell lane {inp.lane_workflow_id} of the rollback: {error}")

    async def _mark_bad(self, digest: str, reason: str, actor: str) -> None:
        try:
            await self._steps.mark_bad(
                MarkDigestBadInput(
                    service=self._inp.plan.service,
                    digest=digest,
                    reason=reason,
                    actor=actor,
                    workflow_id=workflow.info().workflow_id,
                )
            )
        except ActivityError as error:
            self._log.note(f"could not mark {digest[:19]} bad: {error.cause or error}")

    async def _notify(
        self, kind: NotificationKind, environment: str | None, *, reason: str | None, regions: list[str] | None = None
    ) -> None:
        """Best effort: a notification that cannot be sent must not change how a rollout ends."""
        try:
            await self._steps.notify(
                Notification(
                    kind=kind,
                    service=self._inp.plan.service,
                    tag=self._inp.tag,
                    digest=self._inp.digest,
                    environment=environment,
                    regions=regions or [],
                    reason=reason,
                    workflow_id=workflow.info().workflow_id,
                )
            )
        except ActivityError as error:
            self._log.note(f"could not notify {kind.value}: {error.cause or error}")

    async def _finish(self, outcome: DeploymentOutcome, reason: str | None) -> DeploymentResult:
        await asyncio.gather(*self._actions)
        self._log.finish(outcome, reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        s = self._log.status
        return DeploymentResult(
            outcome=outcome, tag=s.tag, digest=s.digest, reason=reason, regions=s.regions, audit=s.audit
        )

    # -- operator controls ---------------------------------------------------------------------------

    def _view(self) -> ControlView:
        status = self._log.status
        waiting = status.awaiting_approval
        env = self._environment(waiting)
        return ControlView(
            finished=status.outcome is not None,
            stopping=self._stop is not None,
            paused=status.paused,
            awaiting_approval=waiting,
            rolling_back_on_purpose=self._inp.kind in DELIBERATE_ROLLBACKS,
            approval=env.approval if env is not None and waiting is not None else None,
            approved_by=tuple(a.actor for a in status.approvals if a.environment == waiting),
            initiator=self._inp.source.actor,
        )

    def _environment(self, name: str | None) -> EnvironmentPlan | None:
        for env in self._inp.plan.environments:
            if env.name == name:
                return env
        return None

    def _controlled_environment(self, control: ControlName, request: ControlRequest) -> EnvironmentPlan:
        """The environment whose rules a control answers to: the one waiting for approval (or named by the
        approval), else the one the deployment is in now, else its first."""
        status = self._log.status
        name = status.awaiting_approval or status.current_environment
        if control is ControlName.APPROVE and request.environment is not None:
            name = request.environment
        return self._environment(name) or self._inp.plan.environments[0]

    def _must_be_verified(self, control: ControlName, request: ControlRequest) -> EnvironmentPlan | None:
        """The environment that refuses `control` unverified, or None. An abort never waits for verification:
        it only takes regions back to what ran before, and the lane's own abort of a version marked bad
        elsewhere is a signal."""
        env = self._controlled_environment(control, request)
        if control is ControlName.ABORT or not env.require_verified:
            return None
        return env

    def _validate(self, control: ControlName, request: ControlRequest) -> None:
        if control is ControlName.APPROVE and request.break_glass:
            self._refuse(self._break_glass_problem(request))
            return
        strict = self._must_be_verified(control, request)
        problem = verification_problem(
            control.value,
            request,
            request.attestation,
            workflow_id=workflow.info().workflow_id,
            now=workflow.now(),
            environment=strict.name if strict else None,
            require_verified=strict is not None,
        ) or rejection(control, request, self._view(), update_caller(request.actor, request.attestation))
        self._refuse(problem)

    def _refuse(self, problem: str | None) -> None:
        if problem is not None:
            raise ApplicationError(problem, type="ControlRejected", non_retryable=True)

    def _apply(self, control: ControlName, request: ControlRequest) -> ControlAnswer:
        """An update's effect: its validator checked the attestation, so the attested subject is who asked."""
        if control is ControlName.APPROVE and request.break_glass:
            return self._break_glass(request)
        return self._effect(control, request, update_caller(request.actor, request.attestation))

    def _effect(self, control: ControlName, request: ControlRequest, who: Caller) -> ControlAnswer:
        status = self._log.status
        if control is ControlName.PAUSE:
            status.paused = True
            message = "paused: holding at the next safe point"
        elif control is ControlName.RESUME:
            status.paused = False
            message = "resumed"
            if self._halt is not None:
                message = f"resumed after the halt ({self._halt.reason}); nothing is rolled back"
                self._halt, status.halted = None, None
                self._actions.append(asyncio.create_task(self._resume_in_flight(f"resumed by {who.name}")))
        elif control is ControlName.ABORT:
            self._request_stop(Stop(StopKind.ABORTED, f"aborted by {who.name}: {request.reason}", who.name))
            message = "aborting: stopping in-flight regions and rolling back what changed"
        else:
            message = self._count_approval(who)
        self._log.audit(control.value, who.name, request.reason, verified=who.verified)
        self._log.controlled_by(who.name)
        return ControlAnswer(message=message)

    def _count_approval(self, who: Caller) -> str:
        """One more distinct approver of the environment waiting; it goes on once its policy has them all."""
        status = self._log.status
        waiting = status.awaiting_approval
        assert waiting is not None  # the rejection refuses an approval when nothing waits
        status.approvals.append(Approval(environment=waiting, actor=who.name, at=workflow.now(), verified=who.verified))
        given = sum(1 for approval in status.approvals if approval.environment == waiting)
        needed = status.approvals_needed or 1
        if given < needed:
            return f"approval {given} of {needed} for {waiting}: waiting for {needed - given} more"
        self._approved = waiting
        return f"approved {waiting}"

    def _apply_signal(self, control: ControlName, request: ControlRequest) -> None:
        # A signal has no validator, so it is never verified (whatever it carries), and one that makes no sense
        # now is logged and dropped: signals cannot be refused.
        who = Caller(request.actor)
        if control is ControlName.APPROVE and request.break_glass:
            self._log.note(f"ignored break-glass signal from {who.name}: it needs a verified operator (control API)")
            return
        strict = self._must_be_verified(control, request)
        if strict is not None:
            self._log.audit(
                f"{control.value} refused", who.name, f"{request.reason} — {unverified_refusal(strict.name)}"
            )
            return
        problem = rejection(control, request, self._view(), who)
        if problem is not None:
            self._log.note(f"ignored {control.value} signal from {request.actor}: {problem}")
            return
        self._effect(control, request, who)

    # -- break-glass ---------------------------------------------------------------------------------

    def _glass_environment(self) -> EnvironmentPlan | None:
        """The environment a break-glass would let through now: the one whose window, or approval, it waits for."""
        waiting = self._holds.window or self._log.status.awaiting_approval
        return next((env for env in self._inp.plan.environments if env.name == waiting), None)

    def _break_glass_problem(self, request: ControlRequest) -> str | None:
        view = self._view()
        if view.finished or view.stopping:
            return rejection(ControlName.APPROVE, request, view, update_caller(request.actor, request.attestation))
        env = self._glass_environment()
        if env is None:
            return "cannot break glass: the deployment waits for neither a deploy window nor an approval"
        if request.environment not in (None, env.name):
            return f"cannot break glass in {request.environment}: the deployment waits for {env.name}"
        return break_glass_refusal(request, ControlName.APPROVE.value, workflow.info().workflow_id, env)

    def _break_glass(self, request: ControlRequest) -> ControlAnswer:
        """`approve --break-glass`: through the environment's closed window at once, approving it if it waits for
        that too; audited under the verified operator and notified."""
        env = self._glass_environment()
        assert env is not None  # _break_glass_problem found it
        glass = break_glass_of(request, env.name)
        self._holds.break_glass(glass)
        message = f"break-glass: {env.name} goes through its deploy window"
        if self._log.status.awaiting_approval == env.name:
            self._approved = env.name
            message += f"; approved {env.name}"
        self._log.audit("break-glass", glass.actor, f"{env.name}: {glass.reason}", verified=True)
        self._log.controlled_by(glass.actor)
        reason = f"by {glass.actor}: {glass.reason}"
        self._actions.append(asyncio.create_task(self._notify(NotificationKind.BREAK_GLASS, env.name, reason=reason)))
        return ControlAnswer(message=message)
