"""`python -m provisioning.child`: run one stack operation, isolated in its own process.

Reads a ChildRequest as JSON on stdin; writes Progress lines and finally one ChildResult line on stdout.
SIGINT is forwarded to the `pulumi` processes this child started, so the CLI's own graceful cancel runs
(the Automation API has no cancel of its own).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from pydantic import BaseModel

from provisioning.operations import execute
from provisioning.protocol import ChildRequest

_stdout_lock = threading.Lock()


def _write(message: BaseModel) -> None:
    with _stdout_lock:
        sys.stdout.write(message.model_dump_json() + "\n")
        sys.stdout.flush()


def _child_pids() -> list[int]:
    """Direct children of this process, from /proc (the CLI runs as our child through the Automation API)."""
    me = os.getpid()
    pids: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces; the parent pid is the 2nd field after its closing paren.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            pids.append(int(stat.parent.name))
    return pids


def _forward(signum: int, _frame: FrameType | None) -> None:
    for pid in _child_pids():
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            continue


def main() -> None:
    signal.signal(signal.SIGINT, _forward)
    signal.signal(signal.SIGTERM, _forward)
    request = ChildRequest.model_validate_json(sys.stdin.read())
    _write(execute(request, _write))


if __name__ == "__main__":
    main()
