"""Stale stack locks on a file backend: a lock whose `pulumi` process died (SIGKILL, crash) is cleared.

The CLI unlocks in a deferred call, so a killed process leaves its lock behind and every later operation
fails with "the stack is currently locked". A lock is stale when it was taken on this host and its pid is
gone, or now belongs to a process that is not pulumi or started after the lock was taken (a reused pid).
A lock from another host cannot be judged from here and counts as busy.

The backend stores each file with a `<name>.attrs` sidecar (its blob metadata); a lock is removed together
with it, so clearing leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psutil
from pydantic import BaseModel, ValidationError

from rollwright.observability.logging import get_logger
from rollwright.provisioning.errors import StackBusyError
from rollwright.provisioning.process_tree import running_process

log = get_logger(__name__)

SIDECAR_SUFFIX = ".attrs"
# A process's start time (from boot time and clock ticks) and the lock's wall-clock stamp can disagree by
# a little; a process that started later than this after the lock was taken cannot have taken it.
_START_TIME_SLACK = timedelta(seconds=2)
# The backend writes a sidecar just before its file; one alone for longer than this was left by an earlier
# clearing that removed only the lock.
_ORPHAN_SIDECAR_AGE = timedelta(minutes=1)


class _LockContent(BaseModel):
    """What the CLI writes into a lock file."""

    pid: int = -1
    hostname: str = ""
    timestamp: datetime | None = None


@dataclass(frozen=True)
class StackLock:
    path: Path
    pid: int
    hostname: str
    taken_at: datetime | None = None

    @property
    def holder(self) -> str:
        return f"pid {self.pid} on {self.hostname}"

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + SIDECAR_SUFFIX)


def _lock_dir(backend_dir: Path, project: str, stack: str) -> Path:
    return backend_dir / ".pulumi" / "locks" / "organization" / project / stack


def stack_locks(backend_dir: Path, project: str, stack: str) -> list[StackLock]:
    locks: list[StackLock] = []
    for path in sorted(_lock_dir(backend_dir, project, stack).glob("*.json")):
        try:
            content = _LockContent.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            continue  # released while we looked
        except (OSError, ValidationError):
            # Half-written by a process killed mid-write: nothing alive can own it.
            locks.append(StackLock(path=path, pid=-1, hostname=socket.gethostname()))
            continue
        locks.append(StackLock(path=path, pid=content.pid, hostname=content.hostname, taken_at=content.timestamp))
    return locks


def _holder_running(lock: StackLock) -> bool:
    proc = running_process(lock.pid)
    if proc is None:
        return False
    try:
        name = proc.name()
        started = datetime.fromtimestamp(proc.create_time()).astimezone()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # cannot tell what it runs: trust that the lock holder is alive
    if lock.taken_at is not None and started > lock.taken_at + _START_TIME_SLACK:
        return False
    return name.startswith("pulumi")


def clear_stale_locks(backend_dir: Path, project: str, stack: str) -> int:
    """Remove dead processes' locks; raise StackBusyError if a live (or foreign) process holds the stack."""
    cleared = 0
    here = socket.gethostname()
    for lock in stack_locks(backend_dir, project, stack):
        if lock.hostname != here or _holder_running(lock):
            raise StackBusyError(stack, lock.holder)
        # The lock first: the moment it is gone the stack counts as free, and a sidecar alone locks nothing.
        lock.path.unlink(missing_ok=True)
        lock.sidecar.unlink(missing_ok=True)
        log.warning("stale_lock_cleared", stack=stack, holder=lock.holder)
        cleared += 1
    _remove_orphan_sidecars(_lock_dir(backend_dir, project, stack))
    return cleared


def _remove_orphan_sidecars(lock_dir: Path) -> None:
    cutoff = (datetime.now() - _ORPHAN_SIDECAR_AGE).timestamp()
    for sidecar in lock_dir.glob(f"*.json{SIDECAR_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if not sidecar.with_suffix("").exists() and sidecar.stat().st_mtime < cutoff:
                sidecar.unlink()
