"""Inside the child, once per operation: what every stack in the backend exports, and which of this stack's
resources are protected, turned into the built-in pack's context.

On a file backend the checkpoints are read straight from their files. The CLI would read each one's `.attrs`
sidecar too, which another worker may be rewriting in place at this moment ("error: EOF"); the checkpoint itself is
only ever replaced by a rename, so it always reads whole. Any other backend is asked through the CLI, a call per
stack. Secret outputs are left out: they would have to be decrypted into the pack's config file.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import stamina
from pulumi import automation as auto

from rollwright.observability.logging import get_logger
from rollwright.policy.rules import PackContext, ProtectedResource, Reference
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.stacks.k8s_manifests import ENVIRONMENT_LABEL, REGION_LABEL

log = get_logger(__name__)

_STACK_TYPE = "pulumi:pulumi:Stack"
# The engine's marker of an encrypted value in a checkpoint.
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
# Shorter values ("1", "true", a region name) are too common to mean "this belongs to that environment".
MIN_REFERENCE_LENGTH = 8
# Hosts every environment may use without pointing at another's resources.
_SHARED_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@dataclass
class StackState:
    outputs: dict[str, Any] = field(default_factory=dict)
    protected: list[ProtectedResource] = field(default_factory=list)


def _plain_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in outputs.items() if not (isinstance(value, dict) and _SECRET_SIG in value)}


def _state_of(deployment: Mapping[str, Any]) -> StackState:
    state = StackState()
    for resource in deployment.get("resources") or []:
        if resource.get("type") == _STACK_TYPE:
            state.outputs = _plain_outputs(resource.get("outputs") or {})
        elif resource.get("protect"):
            urn = str(resource["urn"])
            state.protected.append(ProtectedResource(urn=urn, name=urn.rsplit("::", 1)[-1], type=resource["type"]))
    return state


def _read_checkpoint(path: Path) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None  # removed while we listed
    text = gzip.decompress(raw) if path.suffix == ".gz" else raw
    checkpoint = json.loads(text).get("checkpoint") or {}
    latest: dict[str, Any] | None = checkpoint.get("latest")
    return latest


def _file_backend_states(backend_dir: Path, project: str) -> dict[str, StackState]:
    states: dict[str, StackState] = {}
    stacks_dir = backend_dir / ".pulumi" / "stacks" / project
    for path in sorted([*stacks_dir.glob("*.json"), *stacks_dir.glob("*.json.gz")]):
        try:
            deployment = _read_checkpoint(path)
        except (OSError, ValueError) as exc:
            log.warning("checkpoint_unreadable", path=str(path), error=str(exc))
            continue
        if deployment is not None:
            states[path.name.removesuffix(".gz").removesuffix(".json")] = _state_of(deployment)
    return states


class _CheckpointBeingSaved(RuntimeError):
    """Another worker is rewriting a checkpoint right now; a moment later it reads whole."""


# Reading a checkpoint while its owner saves it: a save takes milliseconds, so a few short tries are enough.
@stamina.retry(on=_CheckpointBeingSaved, attempts=5, wait_initial=0.1, wait_max=0.5, timeout=3.0)
def _outputs_of(stack: auto.Stack, name: str) -> dict[str, Any] | None:
    try:
        outputs = stack.workspace.stack_outputs(name)
    except auto.CommandError as exc:
        text = str(exc)
        if "no stack named" in text:
            return None
        if "EOF" in text:
            raise _CheckpointBeingSaved(text) from exc
        raise
    return {key: output.value for key, output in outputs.items() if not output.secret}


def _cli_states(stack: auto.Stack) -> dict[str, StackState]:
    states: dict[str, StackState] = {}
    for summary in stack.workspace.list_stacks():
        outputs = _outputs_of(stack, summary.name)
        if outputs is not None:
            states[summary.name] = StackState(outputs=outputs)
    own = states.setdefault(stack.name, StackState())
    own.protected = _state_of(stack.export_stack().deployment or {}).protected
    return states


def backend_states(stack: auto.Stack, backend_url: str, project: str) -> dict[str, StackState]:
    """Every stack of the project in the backend (all services, all environments) → its outputs and protections."""
    if backend_url.startswith("file://"):
        return _file_backend_states(Path(backend_url.removeprefix("file://")), project)
    return _cli_states(stack)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def identifying_values(output: str, value: str) -> Iterator[tuple[str, str]]:
    """(value, which output) for an exported string and the parts of it that identify a resource on their own:
    a URL's host (a prod URL to staging's host on another port or path is still staging's) and a file URL's path."""
    yield value, output
    parts = urlsplit(value)
    if not parts.scheme:
        return
    try:
        host = parts.hostname
    except ValueError:
        return
    if host and host not in _SHARED_HOSTS:
        yield host, f"{output} (its host)"
    elif not parts.netloc and parts.path.startswith("/"):
        yield parts.path, f"{output} (its path)"


def _environment_of(name: str, context: GuardrailContext) -> str | None:
    known = context.stack_environments.get(name)
    if known is not None:
        return known
    segments = name.split("-")
    matches = [segment for segment in segments if segment in context.environments]
    return matches[-1] if matches else None


def references(states: dict[str, StackState], context: GuardrailContext, own_stack: str) -> list[Reference]:
    """Values exported only by other environments' stacks; one exported by this environment too identifies nothing."""
    foreign: dict[str, Reference] = {}
    own_values: set[str] = set()
    for name, state in sorted(states.items()):
        environment = _environment_of(name, context)
        if environment is None:
            continue
        for key, text in _strings(state.outputs, ""):
            for value, output in identifying_values(key.removeprefix("."), text):
                if len(value) < MIN_REFERENCE_LENGTH:
                    continue
                if environment == context.environment or name == own_stack:
                    own_values.add(value)
                else:
                    origin = Reference(value=value, environment=environment, stack=name, output=output)
                    foreign.setdefault(value, origin)
    return [reference for value, reference in foreign.items() if value not in own_values]


def pack_context(
    states: dict[str, StackState],
    context: GuardrailContext,
    stack: str,
    region: str,
    *,
    scaled_to_zero: bool,
    rolling_back: bool,
) -> PackContext:
    own = states.get(stack, StackState())
    return PackContext(
        environment=context.environment,
        region=region,
        stack=stack,
        environment_label=ENVIRONMENT_LABEL,
        region_label=REGION_LABEL,
        production=context.production,
        scaled_to_zero=scaled_to_zero,
        rolling_back=rolling_back,
        protected=tuple(own.protected),
        references=tuple(references(states, context, stack)),
    )
