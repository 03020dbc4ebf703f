"""The launcher the engine runs a Python policy pack with (rollwright/policy/analyzer_boot.py, installed by
tools/ensure-tools.sh): a pack still gets every part of the SDK it uses, tracing keeps its eager set-up, and the
engine's SIGINT at the end of an operation ends the analyzer cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from rollwright.policy import BUILTIN_PACK
from rollwright.provisioning.cli_binary import POLICY_LAUNCHER, policy_plugin_dir

# A "pack" that reports what the SDK loaded before it asked, then uses the lazily loaded parts.
PROBE = """
import sys
loaded = {name: type(sys.modules[name]).__name__ for name in ("pulumi.automation", "pulumi.runtime._instrumentation")}
print("before", loaded["pulumi.automation"], loaded["pulumi.runtime._instrumentation"])
import pulumi.automation, pulumi.dynamic
print("after", pulumi.automation.LocalWorkspace.__name__, pulumi.dynamic.ResourceProvider.__name__)
"""


def _launcher() -> Path:
    return policy_plugin_dir() / POLICY_LAUNCHER


def _probe(tmp_path: Path, **env: str) -> list[str]:
    pack = tmp_path / "probe"
    pack.mkdir()
    (pack / "__main__.py").write_text(PROBE)
    environ = {key: value for key, value in os.environ.items() if key != "TRACEPARENT"} | env
    done = subprocess.run(
        [str(_launcher()), "127.0.0.1:1", str(pack)], capture_output=True, text=True, timeout=60, env=environ
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_pack_gets_the_sdk_parts_a_policy_server_skips_as_soon_as_it_uses_them(tmp_path: Path) -> None:
    assert _probe(tmp_path) == ["before _LazyModule _LazyModule", "after LocalWorkspace ResourceProvider"]


def test_a_traced_operation_sets_tracing_up_before_anything_else(tmp_path: Path) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    before = _probe(tmp_path, TRACEPARENT=traceparent)[0]
    assert before == "before _LazyModule module"


def test_the_engines_sigint_ends_a_serving_analyzer_cleanly() -> None:
    server = subprocess.Popen(
        [str(_launcher()), "127.0.0.1:1", str(BUILTIN_PACK)],
        cwd=BUILTIN_PACK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        assert port.isdigit(), f"the analyzer printed {port!r} instead of its port"
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=30)
    finally:
        server.kill()
        server.wait()
    assert (server.returncode, errors) == (0, "")
