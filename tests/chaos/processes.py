"""Processes of one chaos run, found by a marker every process it starts inherits, and killed the way a crash kills.

The session check (tests/conftest.py) only reports at the very end; a chaos run proves by itself that nothing it
started, orphans of killed workers included, outlives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import psutil

# Set in the test's environment for the length of one run, so every process it starts carries it.
CHAOS_MARKER = "ROLLWRIGHT_CHAOS_RUN"


def marked_processes(value: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process but this one whose environment carries CHAOS_MARKER=value."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            # A zombie holds nothing; it only waits for a parent (maybe pid 1) to reap it.
            if proc.status() == psutil.STATUS_ZOMBIE or proc.environ().get(CHAOS_MARKER) != value:
                continue
            found.append((proc.pid, " ".join(proc.cmdline())))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def wait_until_none_marked(value: str, timeout: float) -> list[tuple[int, str]]:
    """Wait for the run's processes to be gone; return those still running after `timeout`."""
    deadline = time.monotonic() + timeout
    left = marked_processes(value)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = marked_processes(value)
    return left


def _signal(proc: psutil.Process, signum: signal.Signals) -> bool:
    try:
        proc.send_signal(signum)
    except psutil.NoSuchProcess:
        return False
    return True


def _descendants(proc: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        return proc.children(recursive=True)
    return []


def _named(proc: psutil.Process) -> str:
    try:
        return f"{proc.name()}:{proc.pid}"
    except psutil.NoSuchProcess:
        return f"?:{proc.pid}"


def crash(pid: int, *, with_children: bool) -> tuple[list[str], list[str]]:
    """SIGKILL `pid`, and with `with_children` every process below it (Pulumi runs, their plugins, git), the
    way a lost machine ends them all at once; without, its children live on as orphans.

    Everything is frozen (SIGSTOP) first, so nothing can start a process between being listed and being killed.
    Returns (`name:pid` killed, `name:pid` left orphaned).
    """
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return [], []
    frozen = [root] if _signal(root, signal.SIGSTOP) else []
    orphans = _descendants(root)
    if with_children:
        seen = {root.pid}
        while True:
            new = [p for p in _descendants(root) if p.pid not in seen]
            if not new:
                break
            for proc in new:
                seen.add(proc.pid)
                if _signal(proc, signal.SIGSTOP):
                    frozen.append(proc)
        orphans = []
    names = [_named(proc) for proc in frozen]
    killed = [name for proc, name in zip(frozen, names, strict=True) if _signal(proc, signal.SIGKILL)]
    return killed, [_named(proc) for proc in orphans]
