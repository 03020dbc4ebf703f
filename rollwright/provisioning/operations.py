"""Inside the child process: Pulumi Automation API operations on one stack, observed through their events."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import stamina
from pulumi import automation as auto

from rollwright.provisioning import guardrails
from rollwright.provisioning.events import StepObserver
from rollwright.provisioning.protocol import (
    ChildError,
    ChildRequest,
    ChildResult,
    ErrorKind,
    Operation,
    Progress,
    StepRecord,
)

_DETAIL_CHARS = 4000


class ProgramImportError(RuntimeError):
    """The configured `module:function` cannot be imported."""


def load_program(reference: str) -> Callable[[], None]:
    module_name, _, function_name = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
        program: Callable[[], None] = getattr(module, function_name)
    except (ImportError, AttributeError) as exc:
        raise ProgramImportError(f"cannot load Pulumi program {reference!r}: {exc}") from exc
    return program


def _summary(changes: Mapping[Any, int] | None) -> dict[str, int]:
    return {str(getattr(op, "value", op)): count for op, count in (changes or {}).items()}


def _count(steps: list[StepRecord]) -> dict[str, int]:
    """Steps per op on the program's own resources (the engine's summary also counts the Stack)."""
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.op] = counts.get(step.op, 0) + 1
    return counts


def _values(outputs: Mapping[str, auto.OutputValue]) -> dict[str, Any]:
    return {key: output.value for key, output in outputs.items()}


class _CheckpointBeingSaved(RuntimeError):
    """Another worker is rewriting the stack's checkpoint right now; a moment later it reads whole."""


# Reading a checkpoint while its owner saves it: a save takes milliseconds, so a few short tries are enough.
@stamina.retry(on=_CheckpointBeingSaved, attempts=5, wait_initial=0.1, wait_max=0.5, timeout=3.0)
def _outputs_of(stack: auto.Stack, name: str) -> dict[str, Any] | None:
    """The outputs of stack `name` in the same project; None when it does not exist (yet)."""
    try:
        return _values(stack.workspace.stack_outputs(name))
    except auto.CommandError as exc:
        text = str(exc)
        if "no stack named" in text:
            return None
        if "EOF" in text:
            raise _CheckpointBeingSaved(text) from exc
        raise


def _reference_outputs(stack: auto.Stack, names: list[str]) -> dict[str, dict[str, Any]]:
    """Only the stacks the guardrails name: listing every stack would read every service's checkpoint."""
    found = {name: _outputs_of(stack, name) for name in names}
    return {name: outputs for name, outputs in found.items() if outputs is not None}


def _error(exc: Exception) -> ChildError:
    message = str(exc)[-_DETAIL_CHARS:]
    if isinstance(exc, auto.ConcurrentUpdateError):
        return ChildError(kind=ErrorKind.BUSY, message=message)
    if isinstance(exc, auto.InlineSourceRuntimeError | auto.RuntimeError | auto.CompilationError):
        return ChildError(kind=ErrorKind.PROGRAM, message=message)
    return ChildError(kind=ErrorKind.COMMAND, message=message)


def _select(request: ChildRequest) -> auto.Stack:
    Path(request.work_dir).mkdir(parents=True, exist_ok=True)
    stack = auto.create_or_select_stack(
        stack_name=request.stack,
        project_name=request.project,
        program=load_program(request.program),
        # Inline stacks take their work dir only from the options; without it each run gets a temp dir.
        opts=auto.LocalWorkspaceOptions(work_dir=request.work_dir),
    )
    stack.set_all_config({key: auto.ConfigValue(value=value) for key, value in request.config.items()})
    return stack


def _preview(stack: auto.Stack, request: ChildRequest, result: ChildResult) -> bool:
    """Preview and judge it; False (with `result.error` set) when `up` must not follow."""
    context = request.guardrails
    references = _reference_outputs(stack, sorted(context.foreign_stacks)) if context else {}
    observer = StepObserver(lambda _: None, total=None)
    error_text = ""
    try:
        stack.preview(on_event=observer, diff=True)
    except auto.CommandError as exc:
        result.error = _error(exc)
        error_text = str(exc)
    result.steps = observer.steps
    result.summary = _count(observer.steps)
    violations = guardrails.check(context, observer.steps, references, error_text) if context else []
    if violations:
        result.error = ChildError(kind=ErrorKind.GUARDRAIL, message="; ".join(violations), violations=violations)
    return result.error is None


def execute(request: ChildRequest, emit: Callable[[Progress], None]) -> ChildResult:
    result = ChildResult(operation=request.operation)
    try:
        stack = _select(request)
        if request.operation is Operation.REFRESH:
            refresh = stack.refresh(clear_pending_creates=request.clear_pending_creates)
            result.summary = _summary(refresh.summary.resource_changes)
            return result
        if request.operation is Operation.DESTROY:
            observer = StepObserver(emit, total=None)
            stack.destroy(on_event=observer, exclude_protected=True)
            result.summary = _count(observer.steps)
            return result
        if not _preview(stack, request, result) or request.operation is Operation.PREVIEW:
            return result
        observer = StepObserver(emit, total=len(result.steps))
        up = stack.up(on_event=observer)
        result.summary = _count(observer.steps)
        result.outputs = _values(up.outputs)
    except ProgramImportError as exc:
        result.error = ChildError(kind=ErrorKind.SETUP, message=str(exc))
    except auto.CommandError as exc:
        result.error = _error(exc)
    return result
