"""Rollwright workers as separate OS processes (`python -m worker --config F [--pulumi | --all]`), which a chaos
run kills and starts again as often as it likes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

import psutil

from devstack.process import ProcessStartError, stop_process_group
from tests.chaos.processes import crash

ROOT = Path(__file__).resolve().parents[2]
# worker.py logs this once its Temporal workers poll.
_READY_EVENT = b'"worker started"'
_STOP_GRACE = 15.0


class WorkerRole(StrEnum):
    LIGHT = "light"  # workflows and the light activities (git, HTTP, version store)
    PULUMI = "pulumi"  # Pulumi runs only, on their own task queue
    ALL = "all"  # both

    @property
    def flags(self) -> list[str]:
        return {WorkerRole.LIGHT: [], WorkerRole.PULUMI: ["--pulumi"], WorkerRole.ALL: ["--all"]}[self]

    @property
    def runs_light_activities(self) -> bool:
        return self is not WorkerRole.PULUMI

    @property
    def runs_pulumi(self) -> bool:
        return self is not WorkerRole.LIGHT


class WorkerProcess:
    def __init__(self, role: WorkerRole, *, config_file: Path, log_dir: Path, env: Mapping[str, str]) -> None:
        self.role = role
        self.name = f"{role.value} worker"
        self.log_file = log_dir / f"worker-{role.value}.log"
        self._config_file = config_file
        self._env = dict(env)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def exit_code(self) -> int | None:
        """The exit status once the process ended by itself (None while it runs or before it started)."""
        return self._proc.poll() if self._proc is not None else None

    def runs_program(self, name: str) -> bool:
        """Whether one of the processes it started is `name` right now: git only in a GitOps commit
        (commit_manifests), pulumi only in a Pulumi run (provision_region and its look-ups)."""
        if self._proc is None or self._proc.poll() is not None:
            return False
        try:
            return any(child.name() == name for child in psutil.Process(self._proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return False

    async def start(self, *, timeout: float = 60.0) -> None:
        """Start it and return once its Temporal workers poll."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        argv = [sys.executable, "-m", "worker", "--config", str(self._config_file), *self.role.flags]
        with self.log_file.open("ab") as out:
            self._proc = subprocess.Popen(
                [*argv, "--shutdown-grace", "5"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                cwd=ROOT,
                start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while not self._logged_ready():
            if self._proc.poll() is not None:
                raise ProcessStartError(f"{self.name} exited with {self._proc.returncode}; see {self.log_file}")
            if time.monotonic() > deadline:
                raise ProcessStartError(f"{self.name} not polling after {timeout:.0f}s; see {self.log_file}")
            await asyncio.sleep(0.2)

    def _logged_ready(self) -> bool:
        with self.log_file.open("rb") as log:
            log.seek(self._log_offset)
            return _READY_EVENT in log.read()

    def kill(self, *, with_children: bool) -> tuple[list[str], list[str]]:
        """SIGKILL it (with or without the processes it started) and reap it; returns (killed, orphaned)."""
        assert self._proc is not None, f"{self.name} was never started"
        found = crash(self._proc.pid, with_children=with_children)
        self._proc.wait(timeout=10)
        return found

    async def stop(self) -> None:
        """Stop it gracefully (SIGTERM to its group, SIGKILL after the grace period)."""
        if self._proc is not None:
            await asyncio.to_thread(stop_process_group, self._proc, _STOP_GRACE)
