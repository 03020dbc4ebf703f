"""Find processes a session started and left behind, by a marker in their inherited environment."""

from __future__ import annotations

import os

import psutil

SESSION_MARKER = "ROLLWRIGHT_SESSION_ID"


def processes_with_marker(marker_value: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process other than us whose environment carries the marker."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            # A zombie is already dead; its parent just hasn't reaped it.
            if proc.status() == psutil.STATUS_ZOMBIE or proc.environ().get(SESSION_MARKER) != marker_value:
                continue
            cmdline = " ".join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found.append((proc.pid, cmdline))
    return found
