"""Find processes a session started and left behind, by a marker in their inherited environment."""

from __future__ import annotations

import os
from pathlib import Path

SESSION_MARKER = "ROLLWRIGHT_SESSION_ID"


def processes_with_marker(marker_value: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process other than us whose environment carries the marker."""
    needle = f"{SESSION_MARKER}={marker_value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if needle not in environ.split(b"\0"):
                continue
            status = (entry / "stat").read_text()
            if ") Z " in status:  # a zombie is already dead; its parent just hasn't reaped it
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        found.append((int(entry.name), cmdline))
    return found
