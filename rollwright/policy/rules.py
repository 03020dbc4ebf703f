"""The built-in pack's rules as plain functions over plain data: the pack (builtin/__main__.py) runs them inside
the engine's analyzer process, tests run them directly.

Only the standard library and PyYAML: the analyzer runs in the policy venv, which has no Rollwright. What a rule
needs to know about the operation (environment, region, the other environments' values, the stack's protected
resources) arrives as the pack's config, one section per policy (`PackContext.sections()`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

PACK_NAME = "rollwright-guardrails"
PROTECTED = "protected-resources-stay"
LABELS = "environment-labels"
REFERENCES = "no-cross-environment-references"
ROLLOUTS = "production-rollouts"
POLICIES = (PROTECTED, LABELS, REFERENCES, ROLLOUTS)

# Types the engine itself registers (the Stack, providers): nobody labels those.
_ENGINE_TYPES = "pulumi:"


@dataclass(frozen=True)
class Reference:
    """A value that identifies another environment's resource, and where Rollwright found it."""

    value: str
    environment: str
    stack: str
    output: str

    @property
    def origin(self) -> str:
        return f"output {self.output} of stack {self.stack} ({self.environment})"


@dataclass(frozen=True)
class ProtectedResource:
    urn: str
    name: str
    type: str


@dataclass(frozen=True)
class PackContext:
    environment: str
    region: str
    stack: str
    environment_label: str
    region_label: str
    production: bool = False
    min_replicas: int = 2
    # A deliberate scale-to-zero (a removed region) renders replicas 0 on purpose.
    scaled_to_zero: bool = False
    # A rollback goes straight back to a version that ran before, with no canary steps on purpose: undoing a bad
    # version must not wait on a canary of the good one.
    rolling_back: bool = False
    protected: tuple[ProtectedResource, ...] = ()
    references: tuple[Reference, ...] = field(default=())

    def sections(self) -> dict[str, dict[str, Any]]:
        """The pack config: policy name → that policy's config."""
        where = {"environment": self.environment, "region": self.region, "stack": self.stack}
        return {
            PROTECTED: {**where, "protected": [vars(p) for p in self.protected]},
            LABELS: {**where, "environmentLabel": self.environment_label, "regionLabel": self.region_label},
            REFERENCES: {**where, "references": [vars(r) for r in self.references]},
            ROLLOUTS: {
                **where,
                "production": self.production,
                "minReplicas": self.min_replicas,
                "scaledToZero": self.scaled_to_zero,
                "rollingBack": self.rolling_back,
            },
        }

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> PackContext:
        """One policy's config (a section of `sections()`); what that policy is not given keeps its default."""
        return cls(
            environment=str(section["environment"]),
            region=str(section["region"]),
            stack=str(section["stack"]),
            environment_label=str(section.get("environmentLabel", "")),
            region_label=str(section.get("regionLabel", "")),
            production=bool(section.get("production", False)),
            min_replicas=int(section.get("minReplicas", 2)),
            scaled_to_zero=bool(section.get("scaledToZero", False)),
            rolling_back=bool(section.get("rollingBack", False)),
            protected=tuple(ProtectedResource(**p) for p in section.get("protected", [])),
            references=tuple(Reference(**r) for r in section.get("references", [])),
        )


@dataclass(frozen=True)
class Resource:
    """One resource of the goal state, its inputs already plain (unknown values left out)."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} ({self.type})"


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(property path, text) for every string in a resource's inputs; `__` keys are the engine's own."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not str(key).startswith("__"):
                yield from strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


def manifests(resource: Resource) -> Iterator[tuple[str, dict[str, Any]]]:
    """(property path, document) for every Kubernetes object rendered into one of the resource's inputs."""
    for path, text in strings(resource.props):
        if "apiVersion" not in text or "kind" not in text:
            continue
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            continue
        for document in documents:
            if isinstance(document, dict) and "apiVersion" in document and "kind" in document:
                yield path, document


def _object(document: Mapping[str, Any]) -> str:
    return f"{document.get('kind')} {(document.get('metadata') or {}).get('name', '?')}"


def label_violations(resource: Resource, ctx: PackContext) -> list[str]:
    """Every resource declares its environment; every rendered manifest carries its environment and region."""
    if resource.type.startswith(_ENGINE_TYPES):
        return []
    found: list[str] = []
    declared = _declared_environment(resource.props, ctx.environment_label)
    if declared is None:
        found.append(
            f"{ctx.environment} resource {resource.label} declares no environment: give it an `environment` input "
            f"(or a `{ctx.environment_label}` label or tag) set to {ctx.environment}"
        )
    elif declared != ctx.environment:
        found.append(
            f"{ctx.environment} resource {resource.label} declares environment {declared}: stack {ctx.stack} "
            f"belongs to {ctx.environment}; render it with {ctx.environment}'s inputs"
        )
    for path, document in manifests(resource):
        labels = (document.get("metadata") or {}).get("labels") or {}
        for key, wanted in ((ctx.environment_label, ctx.environment), (ctx.region_label, ctx.region)):
            got = labels.get(key)
            if got == wanted:
                continue
            problem = "has no label" if got is None else f"is labelled {got!r} for"
            found.append(
                f"{ctx.environment} resource {resource.label}: {_object(document)} in {path} {problem} {key}; "
                f"label it {key}: {wanted}"
            )
    return found


def _declared_environment(props: Mapping[str, Any], label: str) -> str | None:
    value = props.get("environment")
    if isinstance(value, str):
        return value
    for key in ("labels", "tags"):
        tags = props.get(key)
        if isinstance(tags, Mapping) and isinstance(tags.get(label), str):
            return str(tags[label])
    return None


def reference_violations(resource: Resource, ctx: PackContext) -> list[str]:
    """No input (and no rendered manifest) contains a value that identifies another environment's resource."""
    found: list[str] = []
    for path, text in strings(resource.props):
        for reference in ctx.references:
            if reference.value in text:
                found.append(
                    f"{ctx.environment} resource {resource.label} references {reference.environment}'s resource: "
                    f"{path} contains {reference.value!r}, the {reference.origin}; point it at {ctx.environment}'s "
                    f"own resource (its stack's output) instead"
                )
    return found


def rollout_violations(resource: Resource, ctx: PackContext) -> list[str]:
    """A production Rollout runs at least `min_replicas` pods and a canary with analysis."""
    if not ctx.production:
        return []
    found: list[str] = []
    for path, document in manifests(resource):
        if document.get("kind") != "Rollout":
            continue
        where = f"{ctx.environment} resource {resource.label}: {_object(document)} in {path}"
        spec = document.get("spec") or {}
        replicas = spec.get("replicas", 1)
        if not ctx.scaled_to_zero and isinstance(replicas, int) and replicas < ctx.min_replicas:
            found.append(
                f"{where} runs {replicas} replica(s); production needs at least {ctx.min_replicas}: "
                f"set the service's pulumi config `replicas` for {ctx.environment}"
            )
        canary = (spec.get("strategy") or {}).get("canary")
        steps = (canary or {}).get("steps") or []
        analysed = bool((canary or {}).get("analysis")) or any("analysis" in step for step in steps)
        if not ctx.rolling_back and (not steps or not analysed):
            found.append(
                f"{where} has no canary with analysis; production rolls out by canary steps measured by checks: "
                f"give the service `canary.steps` and `canary.checks`"
            )
    return found


def protected_violations(resources: list[Resource], ctx: PackContext) -> list[tuple[str, str]]:
    """(urn, message) for each protected resource of the stack that the program drops or unprotects."""
    present = {resource.urn: resource for resource in resources}
    found: list[tuple[str, str]] = []
    for protected in ctx.protected:
        label = f"{protected.name} ({protected.type})"
        now = present.get(protected.urn)
        if now is None:
            found.append(
                (
                    protected.urn,
                    f"protected resource {label} of stack {ctx.stack} would be deleted: the program no longer "
                    f"declares it; put it back (a protected resource is removed only by a person, deliberately)",
                )
            )
        elif not now.protect:
            found.append(
                (
                    protected.urn,
                    f"protected resource {label} of stack {ctx.stack} would lose its protect flag, which lets a "
                    f"later run delete it: keep `protect=True`",
                )
            )
    return found
