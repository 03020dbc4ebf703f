"""Rules a preview must pass before any `up`. Each violation names the resource and the rule it breaks.

- A protected resource would be deleted or replaced (the engine refuses too, but only mid-run; we refuse
  before anything changes and say why).
- A stack of one environment references another environment's resources: any value another environment's
  stacks export (a database URL, say) appearing in this stack's inputs, or a resource labelled for another
  environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rollwright.provisioning.protocol import GuardrailContext, StepRecord
from rollwright.stacks.k8s_manifests import ENVIRONMENT_LABEL

_DESTRUCTIVE = {
    "delete": "deleted",
    "replace": "replaced",
    "create-replacement": "replaced",
    "delete-replaced": "replaced",
}
_PROTECTED_DELETE_RE = re.compile(r'resource "?(urn:pulumi:[^"\s]+)"? cannot be deleted because it is protected')
_PROTECTED_REPLACE_RE = re.compile(r'unable to replace resource "?(urn:pulumi:[^"\s]+)"?\s+as it is currently marked')
_LABEL_RE = re.compile(rf"{re.escape(ENVIRONMENT_LABEL)}[\"']?\s*[:=]\s*[\"']?([a-z0-9-]+)")
# Shorter values ("1", "true", a region name) are too common to mean "this belongs to that environment".
_MIN_REFERENCE_LENGTH = 8


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _resource(step: StepRecord) -> str:
    return f"{step.name} ({step.type})"


def _name_from_urn(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def protected_changes(steps: list[StepRecord], error_text: str) -> list[str]:
    found: dict[str, str] = {}
    for step in steps:
        verb = _DESTRUCTIVE.get(step.op)
        if verb and step.protected:
            found.setdefault(step.urn, f"protected resource {_resource(step)} would be {verb}")
    # When the engine stops the preview at a protected delete, the step may never reach the event stream.
    for regex, verb in ((_PROTECTED_DELETE_RE, "deleted"), (_PROTECTED_REPLACE_RE, "replaced")):
        for urn in regex.findall(error_text):
            found.setdefault(urn, f"protected resource {_name_from_urn(urn)} would be {verb}")
    return list(found.values())


def _foreign_values(context: GuardrailContext, outputs: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """value → (environment, where it comes from) for every string another environment's stacks export."""
    values: dict[str, tuple[str, str]] = {}
    for stack, stack_outputs in outputs.items():
        environment = context.foreign_stacks.get(stack)
        if environment is None or environment == context.environment:
            continue
        for key, value in _strings(stack_outputs):
            if len(value) >= _MIN_REFERENCE_LENGTH:
                values.setdefault(value, (environment, f"{stack} output {key}"))
    return values


def cross_environment_references(
    context: GuardrailContext, steps: list[StepRecord], reference_outputs: dict[str, dict[str, Any]]
) -> list[str]:
    foreign = _foreign_values(context, reference_outputs)
    violations: list[str] = []
    for step in steps:
        if step.op in ("delete", "delete-replaced") or not step.new_inputs:
            continue
        for key, text in _strings(step.new_inputs):
            for value, (environment, origin) in foreign.items():
                if value in text:
                    violations.append(
                        f"{context.environment} resource {_resource(step)} references {environment}'s resource: "
                        f"{key} contains {value!r} ({origin})"
                    )
            for labelled in set(_LABEL_RE.findall(text)) - {context.environment}:
                violations.append(
                    f"{context.environment} resource {_resource(step)} is labelled for environment {labelled} "
                    f"({ENVIRONMENT_LABEL} in {key})"
                )
        declared = step.new_inputs.get("environment")
        if isinstance(declared, str) and declared != context.environment:
            violations.append(f"{context.environment} resource {_resource(step)} declares environment {declared}")
    return violations


def check(
    context: GuardrailContext,
    steps: list[StepRecord],
    reference_outputs: dict[str, dict[str, Any]],
    error_text: str = "",
) -> list[str]:
    return [
        *protected_changes(steps, error_text),
        *cross_environment_references(context, steps, reference_outputs),
    ]
