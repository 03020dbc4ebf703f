"""What `pulumi-analyzer-policy-python` runs in the policy venv: `python -m pulumi.policy`, started faster.

The engine starts one analyzer process per pack for every `preview` and `up`, so the pack's start-up is paid twice
a provision. Most of it is `import pulumi`, which imports all of the SDK: the Automation API and dynamic providers
(~85 ms together here) that a policy server never touches, and OpenTelemetry (~40 ms) that only does anything when
the engine traces (TRACEPARENT set). Those modules are loaded lazily, on first attribute access, so nothing
changes for code that does use them; tracing loads them eagerly as before, since it must patch gRPC before gRPC
is imported.

The engine stops an analyzer with SIGINT once the operation is done and waits for it to exit. A policy server
keeps nothing to save, so it exits at once instead of unwinding a KeyboardInterrupt through gRPC's threads and
the interpreter's shutdown (~140 ms an operation here, against 8).

Standard library only: the policy venv has no Rollwright.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import signal
import sys
from collections.abc import Mapping, Sequence
from importlib.machinery import ModuleSpec, PathFinder
from types import FrameType, ModuleType

UNUSED_BY_POLICY_SERVERS = frozenset({"pulumi.automation", "pulumi.dynamic"})
TRACING = frozenset({"pulumi.runtime._instrumentation"})


class LazyFinder:
    """Finds the listed modules as the path finder does, with a loader that runs each module on first use."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name not in self.names:
            return None
        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


def lazy_modules(environ: Mapping[str, str]) -> frozenset[str]:
    return UNUSED_BY_POLICY_SERVERS if environ.get("TRACEPARENT") else UNUSED_BY_POLICY_SERVERS | TRACING


def exit_at_once(signum: int, frame: FrameType | None) -> None:
    os._exit(0)


def main() -> None:
    signal.signal(signal.SIGINT, exit_at_once)
    sys.meta_path.insert(0, LazyFinder(lazy_modules(os.environ)))
    runpy.run_module("pulumi.policy", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
