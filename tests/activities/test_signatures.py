"""Workflows schedule the declarations in activities/signatures.py; workers register activities/*.py. The two must
name the same activities with the same input and output types, or a deployment would fail at run time."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity

from activities import signatures
from activities.contracts import ActivityName
from worker import LIGHT_ACTIVITY_MODULES, PULUMI_ACTIVITY_MODULES

ROOT = Path(__file__).resolve().parents[2]


def _definitions(functions: list[Callable[..., Any]]) -> dict[str, activity._Definition]:
    found = (activity._Definition.from_callable(function) for function in functions)
    return {definition.name: definition for definition in found if definition is not None and definition.name}


def _declared() -> dict[str, activity._Definition]:
    return _definitions([function for _, function in inspect.getmembers(signatures, inspect.iscoroutinefunction)])


def _implemented() -> dict[str, activity._Definition]:
    functions = []
    for name in (*LIGHT_ACTIVITY_MODULES, *PULUMI_ACTIVITY_MODULES):
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                functions += [function for _, function in inspect.getmembers(cls, inspect.iscoroutinefunction)]
    return _definitions(functions)


def test_every_activity_is_declared_once_and_implemented() -> None:
    names = {name.value for name in ActivityName}
    assert set(_declared()) == names
    assert set(_implemented()) == names


@pytest.mark.parametrize("name", sorted(name.value for name in ActivityName))
def test_the_implementation_takes_and_returns_what_the_declaration_says(name: str) -> None:
    declared, implemented = _declared()[name], _implemented()[name]
    assert implemented.arg_types == declared.arg_types, f"{name}: input types differ"
    assert implemented.ret_type == declared.ret_type, f"{name}: result types differ"


def test_workflow_code_loads_no_activity_implementation() -> None:
    """Importing the workflows leaves the clients out: the implementations' modules are the worker's to load."""
    code = (
        "import sys, workflows.deployment, workflows.pipeline, workflows.preview; "
        f"print(sorted(m for m in {sorted({*LIGHT_ACTIVITY_MODULES, *PULUMI_ACTIVITY_MODULES})!r} if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = run.stdout.strip()
    assert loaded == "[]"
