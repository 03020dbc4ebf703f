"""Heartbeats for the quick activities, so a worker that dies under one is noticed in seconds, not minutes.

Temporal only learns that a worker died when a heartbeat is missed or the start-to-close timeout runs out;
each activity is scheduled with a short heartbeat timeout (workflows/steps.py), and this keeps it beating
while the step runs. Activities that report progress in their heartbeats (provision, hand-off) beat themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from temporalio import activity

P = ParamSpec("P")
R = TypeVar("R")

# Three beats per heartbeat timeout: one lost beat never looks like a dead worker.
_BEATS_PER_TIMEOUT = 3


async def _beat_every(seconds: float) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(seconds)


def keeps_heartbeating(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Beat while `fn` runs, as often as the schedule's heartbeat timeout needs (not at all without one)."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        timeout = activity.info().heartbeat_timeout
        if not timeout:
            return await fn(*args, **kwargs)
        ticker = asyncio.create_task(_beat_every(timeout.total_seconds() / _BEATS_PER_TIMEOUT))
        try:
            return await fn(*args, **kwargs)
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    return run
