"""One region's rollout (baseline → provision → commit → sync and follow) and its way back to the baseline.

A region counts as changed from the moment its Pulumi run starts: a cancelled or failed `up` may already
have touched cloud resources, and re-provisioning the baseline is harmless when it had not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio import workflow
from temporalio.exceptions import ActivityError, CancelledError, FailureError

from workflows.deployment_log import DeploymentLog
from workflows.steps import Steps
from workflows.stopping import Stop, StopKind, Stopping

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        CommitInput,
        HandoffInput,
        HandoffOutcome,
        HandoffResult,
        ProvisionInput,
        ProvisionPurpose,
        RecordRegionStateInput,
        RegionBaseline,
        RolloutActionInput,
    )
    from rollwright.domain.deployment import DeploymentInput, RegionPhase
    from rollwright.domain.digest import short
    from rollwright.domain.identity import RegionTarget
    from rollwright.domain.plan import CanaryStep, EnvironmentPlan, FirstDeployRollback
    from rollwright.domain.region_state import RegionState


# workflow.patched ids. A region that never reached its hand-off is not aborted (its Rollout is the stable one);
# and its rollback re-renders its old manifests with their canary steps, so no commit and no sync are needed.
ABORT_ONLY_HANDED_OFF = "abort-only-handed-off"
QUIET_ROLLBACK = "quiet-rollback"
# workflow.patched id: the regions of one wave roll back together, the waves newest first (before: one by one).
ROLLBACK_BY_WAVE = "rollback-by-wave"


@dataclass
class Changed:
    """A region this deployment changed, and what ran there before (the rollback target)."""

    target: RegionTarget
    environment: EnvironmentPlan
    baseline: RegionBaseline
    # Set once the hand-off was scheduled: before that, Argo CD never saw this version and the region's Rollout
    # still runs the stable template, which an abort would mark aborted (Degraded) for good.
    handed_off: bool = False
    # Which wave of its environment changed it: a rollback undoes one wave's regions together.
    wave: int = 0


@dataclass(frozen=True)
class Return:
    """What a region goes back to, and how: the rollback's Pulumi purpose, version and canary steps."""

    purpose: ProvisionPurpose
    digest: str | None
    tag: str | None
    goal: str
    canary_steps: list[CanaryStep]


def _failure_text(error: ActivityError) -> str:
    cause = error.cause
    detail = cause.message if isinstance(cause, FailureError) else str(cause or error)
    return f"{error.activity_type} failed: {detail}"


class RegionRunner:
    def __init__(
        self,
        inp: DeploymentInput,
        steps: Steps,
        log: DeploymentLog,
        checkpoint: Callable[[], Awaitable[None]],
        stop: Callable[[Stop], None],
    ) -> None:
        self._inp = inp
        self._steps = steps
        self._log = log
        self._checkpoint = checkpoint
        self._stop = stop
        self._workflow_id = workflow.info().workflow_id
        # The repository deployments pull from: the central one once publish promoted the image there.
        self.image = inp.plan.image
        self.changed: list[Changed] = []

    def _target(self, env: EnvironmentPlan, region: str) -> RegionTarget:
        return RegionTarget(service=self._inp.plan.service, environment=env.name, region=region)

    async def deploy(self, env: EnvironmentPlan, region: str, wave: int) -> None:
        """Roll one region forward. Never raises: a failure stops the deployment through `stop`."""
        target = self._target(env, region)
        try:
            await self._deploy(env, target, wave)
        except (Stopping, asyncio.CancelledError):
            self._log.region_phase(target, RegionPhase.CANCELLED, "stopped before it finished")
        except ActivityError as error:
            if isinstance(error.cause, CancelledError):
                self._log.region_phase(target, RegionPhase.CANCELLED, "cancelled while in flight")
            else:
                text = _failure_text(error)
                self._log.region_phase(target, RegionPhase.FAILED, text)
                self._stop(Stop(StopKind.STEP_FAILED, f"{target.key}: {text}"))

    async def _deploy(self, env: EnvironmentPlan, target: RegionTarget, wave: int) -> None:
        inp, steps, log = self._inp, self._steps, self._log
        await self._checkpoint()
        log.region_phase(target, RegionPhase.PROVISIONING)
        baseline = await steps.baseline(target)
        log.region(target).previous_digest = baseline.digest
        await self._checkpoint()
        await steps.record(self._record(target, RegionState.DEPLOYING))
        await self._checkpoint()
        change = Changed(target=target, environment=env, baseline=baseline, wave=wave)
        self.changed.append(change)
        log.touched(target)
        log.region(target).digest = inp.digest
        provisioned = await steps.provision(
            ProvisionInput(
                target=target,
                image=self.image,
                digest=inp.digest,
                tag=inp.tag,
                program=inp.plan.pulumi_program,
                pulumi_config=env.pulumi_config,
                canary_steps=list(inp.plan.canary.steps),
                analysis=inp.plan.analysis_for(env, target.region),
                workflow_id=self._workflow_id,
            ),
            f"pulumi up {target.stack_name} → {inp.tag} ({short(inp.digest)})",
        )
        await self._checkpoint()
        log.region(target).advisories = [str(verdict) for verdict in provisioned.advisories]
        log.region_phase(target, RegionPhase.COMMITTING, f"{provisioned.changed_resources} resource(s) changed")
        commit = await steps.commit(
            CommitInput(
                target=target,
                manifests=provisioned.manifests,
                manifests_ref=provisioned.manifests_ref,
                tag=inp.tag,
                digest=inp.digest,
                workflow_id=self._workflow_id,
            ),
            f"commit {target.gitops_path} for {inp.tag}",
        )
        log.region(target).revision = commit.sha
        await self._checkpoint()
        log.region_phase(target, RegionPhase.SYNCING, f"Argo CD syncs {commit.sha[:10]}")
        change.handed_off = True
        handoff = await steps.handoff(
            HandoffInput(
                target=target,
                app_name=target.app_name(inp.plan.argocd_app_template),
                revision=commit.sha,
                digest=inp.digest,
                progress_deadline_seconds=inp.plan.canary.progress_deadline.total_seconds(),
            ),
            f"sync {target.app_name(inp.plan.argocd_app_template)} to {commit.sha[:10]} and follow the canary",
        )
        log.region(target).canary_step = handoff.step_index
        if handoff.outcome is HandoffOutcome.CANARY_FAILED:
            reason = handoff.reason or "canary failed"
            log.region_phase(target, RegionPhase.FAILED, reason)
            self._stop(Stop(StopKind.CANARY_FAILED, f"{target.key}: {reason}", environment=env.name))
            return
        await steps.record(self._record(target, RegionState.LIVE))
        log.region_phase(target, RegionPhase.LIVE, f"healthy at {commit.sha[:10]}")

    def _record(self, target: RegionTarget, state: RegionState, detail: str | None = None) -> RecordRegionStateInput:
        return RecordRegionStateInput(
            target=target,
            digest=self._inp.digest,
            tag=self._inp.tag,
            state=state,
            workflow_id=self._workflow_id,
            detail=detail,
        )

    async def halt(self, reason: str) -> None:
        """Abort the canaries this deployment left running, so no more traffic reaches the new version."""
        for changed in self.changed:
            status = self._log.region(changed.target)
            if status.revision is None or status.phase is RegionPhase.LIVE:
                continue
            if not changed.handed_off and workflow.patched(ABORT_ONLY_HANDED_OFF):
                continue
            try:
                await self._steps.abort_rollout(
                    RolloutActionInput(
                        target=changed.target,
                        app_name=changed.target.app_name(self._inp.plan.argocd_app_template),
                        reason=reason,
                    )
                )
            except ActivityError as error:
                # The rollback below replaces the manifests anyway; a failed abort only delays that.
                self._log.note(f"{changed.target.key}: could not abort the canary ({_failure_text(error)})")

    async def roll_back_all(self) -> bool:
        """Every changed region back to its baseline, the newest change first; True when every one made it.

        A wave's regions were changed together, so they go back together; waves go back newest first, so an
        older wave never returns to the old version while a newer one still runs the new one."""
        if not workflow.patched(ROLLBACK_BY_WAVE):
            return all([await self.roll_back(changed) for changed in reversed(self.changed)])
        waves: dict[tuple[str, int], list[Changed]] = {}
        for changed in self.changed:
            waves.setdefault((changed.environment.name, changed.wave), []).append(changed)
        results: list[bool] = []
        for wave in reversed(list(waves.values())):
            results += await asyncio.gather(*(self.roll_back(changed) for changed in wave))
        return all(results)

    def in_flight(self) -> list[Changed]:
        """Regions whose canary runs now: handed off, not yet live, not failed."""
        return [
            changed
            for changed in self.changed
            if changed.handed_off and self._log.region(changed.target).phase is RegionPhase.SYNCING
        ]

    def live_in(self, env: EnvironmentPlan) -> list[RegionTarget]:
        return [
            changed.target
            for changed in self.changed
            if changed.environment.name == env.name and self._log.region(changed.target).phase is RegionPhase.LIVE
        ]

    def untouched_in(self, env: EnvironmentPlan) -> list[RegionTarget]:
        """The environment's regions this deployment has not changed: they still run the previous version."""
        changed = {changed.target.key for changed in self.changed}
        targets = (self._target(env, region) for wave in env.waves for region in wave)
        return [target for target in targets if target.key not in changed]

    def rollout_action(self, changed: Changed, reason: str) -> RolloutActionInput:
        app = changed.target.app_name(self._inp.plan.argocd_app_template)
        return RolloutActionInput(target=changed.target, app_name=app, reason=reason)

    def _rollback_steps(self, changed: Changed) -> list[CanaryStep]:
        """A handed-off region goes straight back to the known-good version, no canary steps to wait through.
        One that never was renders exactly what it had, so its rollback adds no commit to the GitOps history."""
        if changed.handed_off or not workflow.patched(QUIET_ROLLBACK):
            return []
        return list(self._inp.plan.canary.steps)

    async def roll_back(self, changed: Changed) -> bool:
        """Return one region to its baseline (or remove it when it had none); True when that worked."""
        inp, target, baseline = self._inp, changed.target, changed.baseline
        if baseline.digest is not None:
            purpose, digest, tag = ProvisionPurpose.ROLLBACK, baseline.digest, baseline.tag
            goal = f"back to {baseline.tag or ''} ({short(baseline.digest)})"
        elif inp.plan.first_deploy_rollback is FirstDeployRollback.SCALE_TO_ZERO:
            purpose, digest, tag, goal = ProvisionPurpose.SCALE_TO_ZERO, inp.digest, inp.tag, "scale to zero"
        else:
            purpose, digest, tag, goal = ProvisionPurpose.REMOVE, None, None, "remove (no earlier version)"
        self._log.region_phase(target, RegionPhase.ROLLING_BACK, goal)
        removed = purpose is ProvisionPurpose.REMOVE
        records = [self._record(target, RegionState.REMOVED if removed else RegionState.ROLLED_BACK, goal)]
        if baseline.digest is not None:
            records.append(
                RecordRegionStateInput(
                    target=target,
                    digest=baseline.digest,
                    tag=baseline.tag or "",
                    state=RegionState.LIVE,
                    workflow_id=self._workflow_id,
                    detail=f"restored after rolling back {inp.tag}",
                )
            )
        return await self._put_back(
            changed,
            Return(purpose=purpose, digest=digest, tag=tag, goal=goal, canary_steps=self._rollback_steps(changed)),
            records,
            leaves=baseline.digest,
        )

    async def restore(self, env: EnvironmentPlan, region: str, wave: int, why: str) -> bool:
        """A deliberate rollback of one region to the deployment's version (inp.tag/inp.digest), straight to 100%;
        True when the region runs it. A region that runs it already is left alone. Never raises."""
        inp, log, target = self._inp, self._log, self._target(env, region)
        await self._checkpoint()
        log.region_phase(target, RegionPhase.PROVISIONING, "reading what runs there")
        try:
            baseline = await self._steps.baseline(target)
        except ActivityError as error:
            log.region_phase(target, RegionPhase.ROLLBACK_FAILED, _failure_text(error))
            return False
        # What runs there, even if marked bad meanwhile (the baseline's `digest` is the last good one, which a
        # version rolled back elsewhere no longer is).
        running = RegionBaseline(
            target=target,
            digest=baseline.running_digest or baseline.digest,
            tag=baseline.running_tag if baseline.running_digest else baseline.tag,
        )
        baseline = running
        log.region(target).previous_digest = baseline.digest
        if baseline.digest == inp.digest:
            log.region(target).digest = inp.digest
            log.region_phase(target, RegionPhase.LIVE, f"already runs {inp.tag}; nothing to roll back")
            return True
        # The last safe point: once its Pulumi run starts, a region goes all the way, so none is left half-way.
        await self._checkpoint()
        log.touched(target)
        goal = f"roll back to {inp.tag} ({short(inp.digest)})"
        log.region_phase(target, RegionPhase.ROLLING_BACK, goal)
        records = []
        if baseline.digest is not None:
            records.append(
                RecordRegionStateInput(
                    target=target,
                    digest=baseline.digest,
                    tag=baseline.tag or "",
                    state=RegionState.ROLLED_BACK,
                    workflow_id=self._workflow_id,
                    detail=why,
                )
            )
        records.append(self._record(target, RegionState.LIVE, why))
        changed = Changed(target=target, environment=env, baseline=baseline, handed_off=True, wave=wave)
        todo = Return(purpose=ProvisionPurpose.ROLLBACK, digest=inp.digest, tag=inp.tag, goal=goal, canary_steps=[])
        return await self._put_back(changed, todo, records, leaves=inp.digest)

    async def _put_back(
        self, changed: Changed, todo: Return, records: list[RecordRegionStateInput], *, leaves: str | None
    ) -> bool:
        """Provision, commit and hand off `todo` in one region (already shown rolling back), then record `records`;
        True when all of it worked. `leaves` is the digest the region runs afterwards, as its status shows it."""
        inp, steps, log, target = self._inp, self._steps, self._log, changed.target
        goal = todo.goal
        try:
            provisioned = await steps.provision(
                ProvisionInput(
                    target=target,
                    image=self.image,
                    digest=todo.digest,
                    tag=todo.tag,
                    program=inp.plan.pulumi_program,
                    pulumi_config=changed.environment.pulumi_config,
                    canary_steps=todo.canary_steps,
                    analysis=inp.plan.analysis_for(changed.environment, target.region),
                    purpose=todo.purpose,
                    workflow_id=self._workflow_id,
                ),
                f"pulumi up {target.stack_name}: {goal}",
            )
            commit = await steps.commit(
                CommitInput(
                    target=target,
                    manifests=provisioned.manifests,
                    manifests_ref=provisioned.manifests_ref,
                    tag=todo.tag,
                    digest=todo.digest,
                    purpose=todo.purpose,
                    workflow_id=self._workflow_id,
                ),
                f"commit {target.gitops_path}: {goal}",
            )
            log.region(target).revision = commit.sha
            app = target.app_name(inp.plan.argocd_app_template)
            if not commit.created and not changed.handed_off and workflow.patched(QUIET_ROLLBACK):
                # Git holds what it held before this deployment and Argo CD never synced it: nothing to undo there.
                log.note(f"{target.key}: never handed off and its manifests are unchanged; no sync needed")
                handoff = HandoffResult(outcome=HandoffOutcome.HEALTHY, revision=commit.sha)
            else:
                handoff = await steps.handoff(
                    HandoffInput(
                        target=target,
                        app_name=app,
                        revision=commit.sha,
                        digest=todo.digest,
                        progress_deadline_seconds=inp.plan.canary.progress_deadline.total_seconds(),
                    ),
                    f"sync {app} to {commit.sha[:10]}: {goal}",
                )
            if handoff.outcome is HandoffOutcome.CANARY_FAILED:
                log.region_phase(target, RegionPhase.ROLLBACK_FAILED, handoff.reason or "rollback did not go healthy")
                return False
            for record in records:
                await steps.record(record)
        except ActivityError as error:
            log.region_phase(target, RegionPhase.ROLLBACK_FAILED, _failure_text(error))
            return False
        log.region(target).digest = leaves
        log.region_phase(target, RegionPhase.ROLLED_BACK, goal)
        return True
