"""Change control inside a deployment: it holds at its safe points while a freeze applies to it, waits for its
environment's next deploy window when it arrives outside one, and lets a verified break-glass through a window.

Holds are durable waits, never failures: a freeze is re-checked (an activity reading the version store) whenever the
freezes_changed signal says one was added or lifted, when the earliest freeze expires, and every FALLBACK_RECHECK in
case a signal was missed; a closed window is one timer to its next opening. Deliberate rollbacks and the unwind after
a failure or an abort never come here. Every hold is behind the CHANGE_CONTROL_HOLDS patch, so deployments started
before it replay as they ran.

Passed through the sandbox (workflows/deployment.py says why): nothing here may keep state outside a run's object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from activities.contracts import CheckFreezesInput
from rollwright.domain.attestation import attestation_problem
from rollwright.domain.deployment import ControlRequest, DeploymentInput, DeploymentPhase
from rollwright.domain.freeze import earliest_expiry
from rollwright.domain.lane import PinRequest
from rollwright.domain.plan import EnvironmentPlan
from rollwright.domain.windows import BreakGlass, break_glass_problem, closed_until
from workflows.deployment_log import DeploymentLog
from workflows.steps import Steps

# workflow.patched id: freezes and deploy windows hold a deployment (new activities, timers and signals).
CHANGE_CONTROL_HOLDS = "change-control-holds"
# A held deployment re-checks this often even without a signal (a freeze added while a signal was lost).
FALLBACK_RECHECK = timedelta(minutes=5)
# The shortest timer a hold sets: an expiry already due is re-checked at once, not in a busy loop.
_MIN_WAIT = timedelta(seconds=1)


def break_glass_refusal(
    request: ControlRequest | PinRequest, control: str, workflow_id: str, env: EnvironmentPlan | None
) -> str | None:
    """Why `request` may not break through `env`'s closed deploy window, or None when it may: it must come verified
    through the control API, and its operator must be in one of the environment's break_glass_groups (not checked
    when the plan is not known yet: the deployment checks them against its own plan)."""
    if not request.actor.strip() or not request.reason.strip():
        return "actor and reason are both required"
    attestation = request.attestation
    if attestation is None:
        return "break-glass needs a verified operator: send it through the control API (api.url), not as free text"
    problem = attestation_problem(attestation, control, workflow_id, request, workflow.now())
    if problem is not None:
        return f"break-glass refused: {problem}"
    if env is None:
        return None
    return break_glass_problem(attestation.operator.groups, env.break_glass_groups, env.name)


def break_glass_of(request: ControlRequest | PinRequest, environment: str) -> BreakGlass:
    """The break-glass a validated request gives, under the operator's verified name."""
    assert request.attestation is not None  # break_glass_refusal passed
    operator = request.attestation.operator
    return BreakGlass(actor=operator.subject, reason=request.reason, groups=operator.groups, environment=environment)


class Holds:
    """One deployment's freezes and windows; DeploymentPhases calls it at each safe point."""

    def __init__(self, inp: DeploymentInput, steps: Steps, log: DeploymentLog, stopping: Callable[[], bool]) -> None:
        self._inp = inp
        self._steps = steps
        self._log = log
        self._stopping = stopping
        self._changed = False
        # Environments a verified break-glass let through their closed windows (from `deploy --break-glass` or
        # `approve --break-glass`).
        self._broken: dict[str, BreakGlass] = {}
        # The deployment's own break-glass, where this plan's groups do not allow it: why, per environment.
        self._refused: dict[str, str] = {}
        glass = inp.break_glass
        if glass is not None:
            for env in inp.plan.environments:
                if glass.environment not in (None, env.name):
                    continue
                problem = break_glass_problem(glass.groups, env.break_glass_groups, env.name)
                if problem is None:
                    self._broken[env.name] = glass
                else:
                    self._refused[env.name] = problem
        # The environment whose closed window the deployment waits for now.
        self.window: str | None = None

    def freezes_changed(self) -> None:
        self._changed = True

    # -- freezes -------------------------------------------------------------------------------------

    async def while_frozen(self, environment: str, where: str) -> None:
        """Hold `where` (a safe point) while a freeze applies to this deployment in `environment`."""
        if not workflow.patched(CHANGE_CONTROL_HOLDS):
            return
        held_by: str | None = None
        while not self._stopping():
            self._changed = False
            try:
                found = await self._steps.check_freezes(
                    CheckFreezesInput(
                        service=self._inp.plan.service,
                        environment=environment,
                        started_at=workflow.info().start_time,
                        at=workflow.now(),
                    )
                )
            except ActivityError as error:
                # A store gone for the whole budget: a freeze nobody can read must not stop the line forever.
                self._log.note(f"could not read the freezes ({error.cause or error}); going on")
                break
            if not found.holding:
                break
            first = found.holding[0]
            until = earliest_expiry(found.holding)
            why = f"{where}: {first.describe()}" + (
                f" (and {len(found.holding) - 1} more)" if found.holding[1:] else ""
            )
            if held_by is None:
                self._log.audit("hold", first.actor, f"{where} in {environment}: frozen: {first.reason}")
            held_by = first.actor
            self._show(why, until)
            wait = FALLBACK_RECHECK if until is None else min(FALLBACK_RECHECK, until - workflow.now())
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._changed or self._stopping(),
                    timeout=max(wait, _MIN_WAIT),
                    timeout_summary=f"frozen {where}: re-check"
                    + (f" at the expiry {until:%H:%M:%S} UTC" if until and until - workflow.now() <= wait else ""),
                )
        if held_by is not None:
            self._clear()
            if not self._stopping():
                self._log.audit("release", "rollwright", f"no freeze holds {environment} any more; going on {where}")

    # -- deploy windows ------------------------------------------------------------------------------

    async def while_closed(self, env: EnvironmentPlan) -> BreakGlass | None:
        """Wait, on a durable timer, until `env` takes changes. Returns the deployment's own break-glass (from
        `deploy --break-glass`) when it went through a closed window on it, for the caller to notify."""
        if not (env.windows or env.deny_windows) or not workflow.patched(CHANGE_CONTROL_HOLDS):
            return None
        waited = False
        broken: BreakGlass | None = None
        glass_of_input = self._inp.break_glass
        while not self._stopping():
            closed = closed_until(workflow.now(), env.windows, env.deny_windows)
            if closed is None:
                break
            broken = self._broken.get(env.name)
            if broken is not None:
                # An `approve --break-glass` was audited when it came; the deployment's own is audited here.
                if broken == self._inp.break_glass:
                    self._log.audit("break-glass", broken.actor, f"through {env.name}'s closed window: {broken.reason}")
                break
            if not waited:
                refused = self._refused.get(env.name)
                if refused is not None and glass_of_input is not None:
                    self._log.audit("break-glass refused", glass_of_input.actor, refused)
                self._log.audit("window closed", "rollwright", f"{env.name} {closed.reason}")
            waited = True
            self.window = env.name
            self._show(f"{env.name} closed until {closed.until:%Y-%m-%d %H:%M} UTC: {closed.reason}", closed.until)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: env.name in self._broken or self._stopping(),
                    timeout=max(closed.until - workflow.now(), _MIN_WAIT),
                    timeout_summary=f"{env.name} closed until {closed.until:%Y-%m-%d %H:%M} UTC",
                )
        self.window = None
        if waited:
            self._clear()
            if broken is None and not self._stopping():
                self._log.audit("window open", "rollwright", f"{env.name} takes changes now")
        return broken if broken is not None and broken == self._inp.break_glass else None

    def break_glass(self, glass: BreakGlass) -> None:
        """A validated `approve --break-glass`: the environment's closed window no longer holds this deployment."""
        assert glass.environment is not None
        self._broken[glass.environment] = glass

    # -- showing it ----------------------------------------------------------------------------------

    def _show(self, why: str, until: datetime | None) -> None:
        status = self._log.status
        if status.held != why or status.held_until != until:
            status.held, status.held_until = why, until
            self._log.note(f"held: {why}")
        self._log.set_phase(DeploymentPhase.HELD)

    def _clear(self) -> None:
        self._log.status.held, self._log.status.held_until = None, None
        going_on = DeploymentPhase.DEPLOYING if self._log.status.current_environment else DeploymentPhase.PUBLISHING
        self._log.set_phase(going_on)
