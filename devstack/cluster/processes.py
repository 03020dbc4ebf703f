"""The cluster's processes on one exit stack: each is stopped (its whole group) when the stack closes, and all of
them inherit the session marker, so the end-of-session leftover check sees every one. A process restarted (a test
killing argocd-server mid-canary) joins the same stack the same way; its dead predecessor's stop is then a no-op.
Each start's begin and readiness go on the cluster's timeline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.cluster.timeline import Timeline
from devstack.process import ProcessStartError, ReadinessProbe, _tail, managed_process


@dataclass(frozen=True)
class _Launch:
    """How a process was started, so a restart starts it exactly so again (same ports, same environment)."""

    argv: Sequence[str]
    probe: ReadinessProbe
    env: Mapping[str, str] | None
    cwd: Path | None


class ClusterProcesses:
    def __init__(self, stack: contextlib.AsyncExitStack, log_dir: Path, timeline: Timeline) -> None:
        self._stack = stack
        self.log_dir = log_dir
        self.timeline = timeline
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._launches: dict[str, _Launch] = {}

    @property
    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self._procs.items()}

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    async def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        probe: ReadinessProbe,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """Start `argv` and wait for `probe`; `env` is added to this process's own environment."""
        with self.timeline.part(name):
            await self._launch(name, _Launch(argv=argv, probe=probe, env=env, cwd=cwd))

    async def _launch(self, name: str, launch: _Launch) -> None:
        proc = await self._stack.enter_async_context(
            managed_process(
                name,
                launch.argv,
                log_file=self.log_file(name),
                probe=launch.probe,
                # The session marker comes with os.environ, so the leftover check sees a restarted process too.
                env={**os.environ, **(launch.env or {})},
                cwd=launch.cwd,
                grace=5.0,
            )
        )
        self._procs[name], self._launches[name] = proc, launch

    async def restart(self, name: str, *, down: float = 0.0) -> float:
        """SIGKILL `name`'s whole process group, as a crash would, leave it down `down` seconds, then start it again
        as it was first started and wait for its readiness; returns the seconds from the kill until it was ready."""
        proc, launch = self._procs[name], self._launches[name]
        killed = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.wait)
        await asyncio.sleep(down)
        await self._launch(name, launch)
        return time.monotonic() - killed

    def check_alive(self) -> None:
        """Raise, naming the process and its last log lines, if any started process has exited."""
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise ProcessStartError(
                    f"{name} exited with {proc.returncode}; last lines of {self.log_file(name)}:\n"
                    f"{_tail(self.log_file(name))}"
                )
