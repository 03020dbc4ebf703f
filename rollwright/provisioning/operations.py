"""Inside the child process: Pulumi Automation API operations on one stack, observed through their events."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from rollwright.domain.policy import EnforcementLevel, PolicyVerdict
from rollwright.policy import BUILTIN_PACK
from rollwright.provisioning.backend_state import backend_states, pack_context
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
from rollwright.provisioning.verdicts import VerdictObserver
from rollwright.stacks.inputs import RenderPurpose

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


def _error(exc: Exception) -> ChildError:
    message = str(exc)[-_DETAIL_CHARS:]
    if isinstance(exc, auto.ConcurrentUpdateError):
        return ChildError(kind=ErrorKind.BUSY, message=message)
    if isinstance(exc, auto.InlineSourceRuntimeError | auto.RuntimeError | auto.CompilationError):
        return ChildError(kind=ErrorKind.PROGRAM, message=message)
    return ChildError(kind=ErrorKind.COMMAND, message=message)


def select_stack(request: ChildRequest) -> auto.Stack:
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


@dataclass(frozen=True)
class _Packs:
    """The packs an operation runs and their config files, prepared once and used by its preview and its `up`."""

    paths: list[str]
    configs: list[str]


def _packs(stack: auto.Stack, request: ChildRequest) -> _Packs:
    context = request.guardrails
    assert context is not None
    states = backend_states(stack, os.environ.get("PULUMI_BACKEND_URL", ""), request.project)
    purpose = request.config.get("purpose", RenderPurpose.DEPLOY.value)
    builtin = pack_context(
        states,
        context,
        request.stack,
        request.config.get("region", ""),
        scaled_to_zero=purpose == RenderPurpose.SCALE_TO_ZERO.value,
        rolling_back=purpose != RenderPurpose.DEPLOY.value,
    )
    config_dir = Path(request.work_dir) / "policy"
    config_dir.mkdir(parents=True, exist_ok=True)
    paths, configs = [str(BUILTIN_PACK)], []
    builtin_config = config_dir / "builtin.json"
    builtin_config.write_text(json.dumps(builtin.sections()))
    configs.append(str(builtin_config))
    # The CLI pairs configs with packs by position: a team's pack gets an empty one.
    empty = config_dir / "empty.json"
    empty.write_text("{}")
    for team_pack in request.policy_packs:
        paths.append(team_pack)
        configs.append(str(empty))
    return _Packs(paths=paths, configs=configs)


def _both(steps: StepObserver, verdicts: VerdictObserver) -> Callable[[auto.EngineEvent], None]:
    def observe(event: auto.EngineEvent) -> None:
        steps(event)
        verdicts(event)

    return observe


def _refusal(verdicts: list[PolicyVerdict]) -> ChildError | None:
    mandatory = [str(verdict) for verdict in verdicts if verdict.level is EnforcementLevel.MANDATORY]
    if not mandatory:
        return None
    return ChildError(kind=ErrorKind.GUARDRAIL, message="; ".join(mandatory), violations=mandatory)


def _preview(stack: auto.Stack, packs: _Packs, result: ChildResult) -> bool:
    """Preview with the packs, the gate: False (with `result.error` set) when `up` must not follow."""
    observer = StepObserver(lambda _: None, total=None)
    judged = VerdictObserver()
    error_text = ""
    try:
        stack.preview(
            on_event=_both(observer, judged), diff=True, policy_packs=packs.paths, policy_pack_configs=packs.configs
        )
    except auto.CommandError as exc:
        result.error = _error(exc)
        error_text = str(exc)
    result.steps = observer.steps
    result.summary = _count(observer.steps)
    result.verdicts = judged.verdicts(error_text)
    result.error = _refusal(result.verdicts) or result.error
    return result.error is None


def _up(stack: auto.Stack, packs: _Packs, result: ChildResult, emit: Callable[[Progress], None]) -> None:
    """`up` with the same packs, the second line of defence: a value the preview could not know yet is judged now."""
    observer = StepObserver(emit, total=len(result.steps))
    judged = VerdictObserver()
    try:
        up = stack.up(on_event=_both(observer, judged), policy_packs=packs.paths, policy_pack_configs=packs.configs)
    except auto.CommandError as exc:
        result.error = _refusal(judged.verdicts(str(exc))) or _error(exc)
        return
    finally:
        seen = {(v.urn, v.policy, v.message) for v in result.verdicts}
        result.verdicts += [v for v in judged.verdicts() if (v.urn, v.policy, v.message) not in seen]
        result.summary = _count(observer.steps)
    result.outputs = _values(up.outputs)


def execute(request: ChildRequest, emit: Callable[[Progress], None]) -> ChildResult:
    result = ChildResult(operation=request.operation)
    try:
        stack = select_stack(request)
        if request.operation is Operation.REFRESH:
            refresh = stack.refresh(clear_pending_creates=request.clear_pending_creates)
            result.summary = _summary(refresh.summary.resource_changes)
            return result
        if request.operation is Operation.DESTROY:
            observer = StepObserver(emit, total=None)
            stack.destroy(on_event=observer, exclude_protected=True)
            result.summary = _count(observer.steps)
            return result
        packs = _packs(stack, request)
        if not _preview(stack, packs, result) or request.operation is Operation.PREVIEW:
            return result
        _up(stack, packs, result, emit)
    except ProgramImportError as exc:
        result.error = ChildError(kind=ErrorKind.SETUP, message=str(exc))
    except auto.CommandError as exc:
        result.error = _error(exc)
    return result
