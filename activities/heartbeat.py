"""Heartbeats for the quick activities, so a worker that dies under one is noticed in seconds, not minutes.

Temporal only learns that a worker died when a heartbeat is missed or the start-to-close timeout runs out;
each activity is scheduled with a short heartbeat timeout (workflows/steps.py), and this keeps it beating
while the step runs; one that reports progress (the hand-off) reports through a `pulse`, re-sent between reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from temporalio import activity

P = ParamSpec("P")
R = TypeVar("R")

# Three beats per heartbeat timeout: one lost beat never looks like a dead worker.
_BEATS_PER_TIMEOUT = 3


class Pulse:
    """The latest progress of a running activity, re-sent between reports so silence never reads as death."""

    def __init__(self) -> None:
        self._details: tuple[Any, ...] = ()

    def report(self, *details: Any) -> None:
        self._details = details
        activity.heartbeat(*details)

    async def _beat_every(self, seconds: float) -> None:
        while True:
            activity.heartbeat(*self._details)
            await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def pulse() -> AsyncIterator[Pulse]:
    """Beat while the block runs, as often as the schedule's heartbeat timeout needs (not at all without one)."""
    beats = Pulse()
    timeout = activity.info().heartbeat_timeout
    if not timeout:
        yield beats
        return
    ticker = asyncio.create_task(beats._beat_every(timeout.total_seconds() / _BEATS_PER_TIMEOUT))
    try:
        yield beats
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker


def keeps_heartbeating(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Beat while `fn` runs, as often as the schedule's heartbeat timeout needs (not at all without one)."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        async with pulse():
            return await fn(*args, **kwargs)

    return run
