"""The processes of one Pulumi run, through psutil.

The runner starts each run as a new session. Pulumi starts provider plugins in their own process groups, and a
crash re-parents them away from the run, so neither the run's group nor its tree of children finds them all; the
session does: every process of the run stays in it.
"""

from __future__ import annotations

import contextlib
import os

import psutil

# A zombie holds nothing any more (no lock, no port) but lingers where pid 1 does not reap orphans.
_GONE = frozenset({psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD})


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() not in _GONE
    except psutil.NoSuchProcess:
        return False


def running_process(pid: int) -> psutil.Process | None:
    """The process with this pid, or None if it is gone or a zombie."""
    if pid <= 0:
        return None
    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None
    return proc if _running(proc) else None


def command_if_running(pid: int) -> str | None:
    """The process's command name, or None if it is gone or a zombie."""
    proc = running_process(pid)
    if proc is None:
        return None
    try:
        return proc.name()
    except psutil.NoSuchProcess:
        return None


def children(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except psutil.NoSuchProcess:
        return []


def _session(sid: int) -> list[psutil.Process]:
    members: list[psutil.Process] = []
    for proc in psutil.process_iter():
        try:
            # psutil has no session id; the kernel answers for any pid.
            in_session = os.getsid(proc.pid) == sid
        except (ProcessLookupError, PermissionError):
            continue
        if in_session and _running(proc):
            members.append(proc)
    return members


def session_members(sid: int) -> list[int]:
    """Pids of the processes still running (not zombies) in the session whose leader was `sid`."""
    return [proc.pid for proc in _session(sid)]


def kill_tree(pid: int) -> None:
    """SIGKILL a process, every descendant and, when it leads a session, everything left in that session."""
    victims: dict[int, psutil.Process] = {proc.pid: proc for proc in _session(pid)}
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        victims[pid] = root
        victims.update({proc.pid: proc for proc in root.children(recursive=True)})
    for proc in victims.values():
        # psutil checks the process is still the one we listed, so a pid reused meanwhile is spared.
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.kill()
