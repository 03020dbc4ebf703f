"""Stale stack locks on a file backend: a lock whose `pulumi` process died (SIGKILL, crash) is cleared.

The CLI unlocks in a deferred call, so a killed process leaves its lock behind and every later operation
fails with "the stack is currently locked". A lock is stale when it was taken on this host and its pid is
gone (or now belongs to something other than pulumi). A lock from another host cannot be judged from
here and counts as busy.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from rollwright.observability.logging import get_logger
from rollwright.provisioning.errors import StackBusyError
from rollwright.provisioning.process_tree import command_if_running

log = get_logger(__name__)


@dataclass(frozen=True)
class StackLock:
    path: Path
    pid: int
    hostname: str

    @property
    def holder(self) -> str:
        return f"pid {self.pid} on {self.hostname}"


def _lock_dir(backend_dir: Path, project: str, stack: str) -> Path:
    return backend_dir / ".pulumi" / "locks" / "organization" / project / stack


def stack_locks(backend_dir: Path, project: str, stack: str) -> list[StackLock]:
    locks: list[StackLock] = []
    for path in sorted(_lock_dir(backend_dir, project, stack).glob("*.json")):
        try:
            content = json.loads(path.read_text())
        except FileNotFoundError:
            continue  # released while we looked
        except (OSError, json.JSONDecodeError):
            # Half-written by a process killed mid-write: nothing alive can own it.
            locks.append(StackLock(path=path, pid=-1, hostname=socket.gethostname()))
            continue
        locks.append(StackLock(path=path, pid=int(content.get("pid", -1)), hostname=str(content.get("hostname", ""))))
    return locks


def _pulumi_running(pid: int) -> bool:
    if pid <= 0:
        return False
    if not Path("/proc").is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True  # cannot tell what it runs: trust that the lock holder is alive
    name = command_if_running(pid)
    # A reused pid running something else holds no pulumi lock.
    return name is not None and name.startswith("pulumi")


def clear_stale_locks(backend_dir: Path, project: str, stack: str) -> int:
    """Remove dead processes' locks; raise StackBusyError if a live (or foreign) process holds the stack."""
    cleared = 0
    here = socket.gethostname()
    for lock in stack_locks(backend_dir, project, stack):
        if lock.hostname != here or _pulumi_running(lock.pid):
            raise StackBusyError(stack, lock.holder)
        lock.path.unlink(missing_ok=True)
        log.warning("stale_lock_cleared", stack=stack, holder=lock.holder)
        cleared += 1
    return cleared
