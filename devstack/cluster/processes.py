"""The cluster's processes on one exit stack: each is stopped (its whole group) when the stack closes, and all of
them inherit the session marker, so the end-of-session leftover check sees every one."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from devstack.process import ProcessStartError, ReadinessProbe, _tail, managed_process


class ClusterProcesses:
    def __init__(self, stack: contextlib.AsyncExitStack, log_dir: Path) -> None:
        self._stack = stack
        self.log_dir = log_dir
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

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
        proc = await self._stack.enter_async_context(
            managed_process(
                name,
                argv,
                log_file=self.log_file(name),
                probe=probe,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                grace=5.0,
            )
        )
        self._procs[name] = proc

    def check_alive(self) -> None:
        """Raise, naming the process and its last log lines, if any started process has exited."""
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise ProcessStartError(
                    f"{name} exited with {proc.returncode}; last lines of {self.log_file(name)}:\n"
                    f"{_tail(self.log_file(name))}"
                )
