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
from types import FrameType

from pydantic import BaseModel

from rollwright.provisioning.operations import execute
from rollwright.provisioning.process_tree import children
from rollwright.provisioning.protocol import ChildRequest

_stdout_lock = threading.Lock()


def _write(message: BaseModel) -> None:
    with _stdout_lock:
        sys.stdout.write(message.model_dump_json() + "\n")
        sys.stdout.flush()


def _forward(signum: int, _frame: FrameType | None) -> None:
    for pid in children(os.getpid()):
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
