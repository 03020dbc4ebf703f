"""Workflow code reads no clock, draws no randomness and does no I/O, checked in the source.

The sandbox refuses those at run time only in the modules it re-imports for each run; workflows/deployment.py
passes the deployment's phases and every part they use through it (each run would otherwise pay ~210 KB for its own
copy), so this check holds every module under workflows/ to the rule instead. Time, randomness and waiting come
from temporalio.workflow (`workflow.now()`, `workflow.random()`, `workflow.uuid4()`, `workflow.sleep()`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
# Clocks, randomness, the environment, processes, threads, files and the network.
FORBIDDEN_MODULES = frozenset(
    {"time", "random", "uuid", "secrets", "os", "sys", "socket", "subprocess", "threading", "io", "pathlib", "shutil"}
)
FORBIDDEN_CALLS = frozenset({"open", "input", "print"})
# datetime and date read the clock through these; `workflow.now()` is the deterministic one.
CLOCK_METHODS = frozenset({"now", "utcnow", "today"})


def problems(tree: ast.Module, name: str) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] in FORBIDDEN_MODULES and getattr(node, "level", 0) == 0:
                    yield f"{name}:{node.lineno} imports {module}"
        if isinstance(node, ast.Call):
            called = node.func
            if isinstance(called, ast.Name) and called.id in FORBIDDEN_CALLS:
                yield f"{name}:{node.lineno} calls {called.id}()"
            if (
                isinstance(called, ast.Attribute)
                and called.attr in CLOCK_METHODS
                and not (isinstance(called.value, ast.Name) and called.value.id == "workflow")
            ):
                yield f"{name}:{node.lineno} reads the clock ({ast.unparse(called)}()); use workflow.now()"


# Parsed at collection, before any test starts a thread: CPython 3.11 keeps the AST builder's recursion depth in
# interpreter-wide state (python/cpython#106905), so an ast.parse racing another thread's (a Temporal worker thread
# formatting a traceback parses its source lines for the carets) fails with "recursion depth mismatch".
TREES = {path.name: ast.parse(path.read_text()) for path in sorted(WORKFLOWS.glob("*.py"))}
BAD_SOURCE = ast.parse(
    "import random\nfrom datetime import datetime\nstarted = datetime.now()\nopen('x')\nworkflow.now()\n"
)


@pytest.mark.parametrize("name", sorted(TREES))
def test_workflow_module_is_deterministic(name: str) -> None:
    assert list(problems(TREES[name], name)) == []


def test_the_check_finds_a_clock_randomness_and_a_file() -> None:
    assert sorted(problems(BAD_SOURCE, "bad.py")) == [
        "bad.py:1 imports random",
        "bad.py:3 reads the clock (datetime.now()); use workflow.now()",
        "bad.py:4 calls open()",
    ]
