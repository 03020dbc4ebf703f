"""Runs one stack operation in its own child process and streams its progress back.

A child per operation means a cancelled or crashed run takes its program state with it, and a stack can
never see another stack's globals. Cancelling the awaiting task sends SIGINT (the CLI's graceful cancel);
after the grace period the whole process tree is killed. Nothing outlives the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Annotated

from pydantic import Field, RootModel

from rollwright.observability.logging import get_logger
from rollwright.provisioning.errors import PulumiOperationError
from rollwright.provisioning.process_tree import kill_tree, session_members
from rollwright.provisioning.protocol import ChildRequest, ChildResult, Progress
from rollwright.provisioning.settings import RunnerSettings

log = get_logger(__name__)

ProgressCallback = Callable[[Progress], Awaitable[None] | None]

# Results carry resource inputs (whole manifests); a line must fit.
_LINE_LIMIT = 64 * 1024 * 1024
_STDERR_LINES = 60


class _ChildMessage(RootModel[Annotated[Progress | ChildResult, Field(discriminator="kind")]]):
    """One line the child writes: progress while it runs, then its result."""


class PulumiRunner:
    def __init__(self, settings: RunnerSettings) -> None:
        self._settings = settings

    async def run(self, request: ChildRequest, on_progress: ProgressCallback | None = None) -> ChildResult:
        env = self._settings.environment()
        proc = await asyncio.create_subprocess_exec(
            self._settings.python,
            "-m",
            "rollwright.provisioning.child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,
            limit=_LINE_LIMIT,
        )
        log.info("pulumi_child_started", stack=request.stack, operation=request.operation.value, pid=proc.pid)
        stderr_tail: deque[str] = deque(maxlen=_STDERR_LINES)
        stderr_task = asyncio.create_task(_drain(proc, stderr_tail))
        try:
            assert proc.stdin is not None
            proc.stdin.write(request.model_dump_json().encode())
            await proc.stdin.drain()
            proc.stdin.close()
            result = await _read_result(proc, on_progress)
            await proc.wait()
        except asyncio.CancelledError:
            await self._cancel(proc, request.stack)
            raise
        finally:
            if proc.returncode is None:
                kill_tree(proc.pid)
                await proc.wait()
            await self._until_session_gone(proc.pid, request.stack)
            with contextlib.suppress(asyncio.CancelledError):
                await stderr_task
        if result is None:
            detail = "\n".join(stderr_tail) or f"exit status {proc.returncode}"
            raise PulumiOperationError(request.operation.value, request.stack, f"runner died: {detail}")
        return result

    async def _until_session_gone(self, sid: int, stack: str) -> None:
        """The child may be gone while its `pulumi` is still exiting (or was orphaned by a crash): the stack's
        lock is only free once every process of the run is, so the next operation must not start before."""
        grace = self._settings.cancel_grace.total_seconds()
        if await _gone_within(sid, grace):
            return
        members = session_members(sid)
        log.warning("pulumi_leftovers_killed", stack=stack, pids=members)
        kill_tree(sid)
        if not await _gone_within(sid, grace):
            # Reported, not waited on forever: the lock check will call the stack busy, which is retried.
            log.error("pulumi_leftovers_survive", stack=stack, pids=session_members(sid))

    async def _cancel(self, proc: asyncio.subprocess.Process, stack: str) -> None:
        log.warning("pulumi_cancel_requested", stack=stack, pid=proc.pid)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), self._settings.cancel_grace.total_seconds())
        except TimeoutError:
            log.warning("pulumi_cancel_forced", stack=stack, pid=proc.pid)
            kill_tree(proc.pid)
            await proc.wait()


async def _gone_within(sid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while session_members(sid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def _read_result(proc: asyncio.subprocess.Process, on_progress: ProgressCallback | None) -> ChildResult | None:
    assert proc.stdout is not None
    result: ChildResult | None = None
    async for raw in proc.stdout:
        line = raw.decode().strip()
        if not line.startswith("{"):
            continue  # a program's stray print
        message = _ChildMessage.model_validate_json(line).root
        if isinstance(message, ChildResult):
            result = message
        elif on_progress is not None:
            outcome = on_progress(message)
            if inspect.isawaitable(outcome):
                await outcome
    return result


async def _drain(proc: asyncio.subprocess.Process, tail: deque[str]) -> None:
    assert proc.stderr is not None
    async for raw in proc.stderr:
        tail.append(raw.decode(errors="replace").rstrip())
