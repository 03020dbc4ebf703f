"""The memory bench's baseline: a workflow of a deployment's shape with nothing of a deployment in it.

Same activities in the same order and parallelism (publish; per region baseline, record, provision on the Pulumi
queue, commit, hand-off, record; a notification per environment; check rounds and their timers in the bakes and
the watch), same timer logic, but one tiny activity that takes a short name and returns nothing: no status, no
current details, no search attributes, no summaries, no payloads beyond the minimum. Kept apart from the bench's
driver so the sandbox, which re-imports a workflow's module for every run, loads nothing else.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from bench.bare_shape import BareInput, Window

BARE_WORKFLOW = "BareShapeWorkflow"
BARE_STEP = "bare_step"
# A region's steps in a deployment, in order; the one at PULUMI_STEP runs on the Pulumi task queue.
REGION_STEPS = ("baseline", "record", "provision", "commit", "handoff", "record")
PULUMI_STEP = 2
_TIMEOUT = timedelta(minutes=5)


@activity.defn(name=BARE_STEP)
async def bare_step(name: str) -> None:
    """Instant: the bench measures the workflows, not the activities."""


@workflow.defn(name=BARE_WORKFLOW)
class BareShapeWorkflow:
    @workflow.run
    async def run(self, inp: BareInput) -> None:
        await self._step("publish")
        for env_index, env in enumerate(inp.environments):
            for index, wave in enumerate(env.waves, start=1):
                await asyncio.gather(*(self._region(region, inp.pulumi_task_queue) for region in wave))
                last = env_index == len(inp.environments) - 1 and index == len(env.waves)
                if env.bake is not None and not last:
                    await self._window(env.bake)
            await self._step("notify")
        if inp.watch is not None:
            await self._window(inp.watch)

    async def _region(self, region: str, pulumi_task_queue: str) -> None:
        for index, step in enumerate(REGION_STEPS):
            await self._step(step, pulumi_task_queue if index == PULUMI_STEP else None)

    async def _window(self, window: Window) -> None:
        """Check rounds until the window closes, as the deployment's verifier times them."""
        closes = workflow.now() + timedelta(seconds=window.seconds)
        while True:
            for _ in range(window.checks):
                await self._step("check")
            left = closes - workflow.now()
            if left <= timedelta(0):
                return
            await workflow.sleep(min(timedelta(seconds=window.interval_seconds), left))

    async def _step(self, name: str, task_queue: str | None = None) -> None:
        await workflow.execute_activity(bare_step, name, task_queue=task_queue, start_to_close_timeout=_TIMEOUT)
