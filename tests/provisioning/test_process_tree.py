"""A run's processes are found by its session: a plugin in its own process group, orphaned by a crash of the
process that started it, is still one of them and is killed with the run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from rollwright.provisioning.process_tree import children, command_if_running, kill_tree, session_members

# Starts a "plugin" in its own process group (as pulumi does), says its pid, then dies as in a crash.
_LAUNCHER = """
import os, subprocess, sys
plugin = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], process_group=0)
print(plugin.pid, flush=True)
sys.stdin.readline()
os._exit(9)
"""


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_an_orphaned_plugin_in_its_own_group_stays_in_the_run_until_killed() -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
    )
    assert run.stdin is not None
    assert run.stdout is not None
    plugin = int(run.stdout.readline())
    try:
        assert os.getpgid(plugin) != run.pid  # the run's group alone would miss it
        assert sorted(session_members(run.pid)) == sorted([run.pid, plugin])

        run.stdin.write(b"crash\n")
        run.stdin.close()
        run.wait()
        # The launcher is gone and the plugin re-parented away from it, but it still belongs to the run.
        assert session_members(run.pid) == [plugin]
        assert command_if_running(plugin) is not None

        kill_tree(run.pid)
        _until(lambda: not session_members(run.pid), "the orphaned plugin survived kill_tree")
        assert command_if_running(plugin) is None
    finally:
        kill_tree(run.pid)
        run.wait()


def test_kill_tree_kills_descendants_of_a_process_that_leads_no_session() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
         "'import time; time.sleep(60)']); time.sleep(60)"],
    )  # fmt: skip
    try:
        _until(lambda: bool(children(parent.pid)), "the grandchild never started")
        grandchild = children(parent.pid)[0]
        kill_tree(parent.pid)
        parent.wait()
        _until(lambda: command_if_running(grandchild) is None, "the grandchild survived kill_tree")
    finally:
        parent.kill()
        parent.wait()
