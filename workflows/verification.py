"""Rollwright's own checks of the regions a deployment made live: one round measures every check of every checked
environment at one instant; a window repeats rounds every interval until it closes, a check fails, or the
deployment stops (or, for the post-deploy watch, a newer version waits).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.deployment_log import DeploymentLog
from workflows.regions import RegionRunner
from workflows.steps import Steps
from workflows.stopping import Stop, StopKind

with workflow.unsafe.imports_passed_through():
    from activities.contracts import RegionToCheck, RunChecksInput
    from rollwright.domain.durations import format_duration
    from rollwright.domain.plan import EnvironmentPlan


class Verifier:
    def __init__(self, steps: Steps, log: DeploymentLog, regions: RegionRunner) -> None:
        self._steps = steps
        self._log = log
        self._regions = regions

    def _regions_to_check(self, env: EnvironmentPlan) -> list[RegionToCheck]:
        live = [(target, True) for target in self._regions.live_in(env)]
        untouched = [(target, False) for target in self._regions.untouched_in(env)]
        return [
            RegionToCheck(target=target, prometheus_address=address, changed=changed)
            for target, changed in live + untouched
            if (address := env.prometheus_for(target.region)) is not None
        ]

    async def check_once(self, envs: list[EnvironmentPlan], what: str) -> Stop | None:
        """One round over every checked environment; the stop its first failure asks for, or None."""
        for env in envs:
            regions = self._regions_to_check(env)
            if not env.verification.checks or not any(region.changed for region in regions):
                continue
            try:
                measured = await self._steps.run_checks(
                    RunChecksInput(checks=list(env.verification.checks), regions=regions),
                    f"{what}: check {env.name} ({', '.join(r.target.region for r in regions if r.changed)})",
                )
            except ActivityError as error:
                reason = f"{env.name}: checks could not run: {error.cause or error}"
                return Stop(StopKind.CHECK_FAILED, reason, environment=env.name)
            self._log.record_checks(env.name, measured.results)
            if measured.failures:
                return Stop(StopKind.CHECK_FAILED, f"{env.name}: {measured.failures[0].detail}", environment=env.name)
        return None

    async def check_for(
        self,
        envs: list[EnvironmentPlan],
        window: timedelta,
        what: str,
        *,
        interval: timedelta,
        done: Callable[[], bool],
        initial_delay: timedelta = timedelta(0),
    ) -> Stop | None:
        """Check every `interval`, the first time after `initial_delay`, until `window` has passed or `done()`; the
        first failure's stop, or None."""
        closes = workflow.now() + window
        after = f", the first time in {format_duration(initial_delay)}" if initial_delay else ""
        self._log.note(f"{what}: checking every {format_duration(interval)} for {format_duration(window)}{after}")
        if initial_delay:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    done, timeout=min(initial_delay, window), timeout_summary=f"{what}: first check round"
                )
        while not done():
            failure = await self.check_once(envs, what)
            if failure is not None:
                return failure
            left = closes - workflow.now()
            if left <= timedelta(0):
                return None
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    done, timeout=min(interval, left), timeout_summary=f"{what}: next check round"
                )
        return None
