"""The end-of-session check finds a process by the marker it inherited, and ignores zombies and other sessions."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

from devstack.leftovers import SESSION_MARKER, processes_with_marker


def _sleeper(marker: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, SESSION_MARKER: marker}
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)


def test_a_marked_process_is_found_until_it_dies() -> None:
    marker, other = uuid.uuid4().hex, uuid.uuid4().hex
    proc, elsewhere = _sleeper(marker), _sleeper(other)
    try:
        found = processes_with_marker(marker)
        assert [pid for pid, _ in found] == [proc.pid]
        assert "time.sleep(60)" in found[0][1]

        proc.kill()
        # Not reaped yet: a zombie holds nothing and is not reported.
        deadline = time.monotonic() + 10
        while processes_with_marker(marker):
            assert time.monotonic() < deadline, "a killed process was still reported"
            time.sleep(0.05)
        assert proc.poll() is not None
        assert [pid for pid, _ in processes_with_marker(other)] == [elsewhere.pid]
    finally:
        for started in (proc, elsewhere):
            started.kill()
            started.wait()
