"""The built-in pack, as the engine's analyzer runs it: each rule of `rules.py`, wired to pulumi-policy.

Run from the pack's directory by the policy venv's Python, which has no Rollwright: `rules.py` is loaded from
its file beside this package, not imported through `rollwright`.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError


def _load_rules() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "rules.py"
    spec = importlib.util.spec_from_file_location("rollwright_policy_rules", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


rules = _load_rules()


def _plain(value: Any) -> Any:
    """The inputs as plain data; a value still unknown (a preview before its resource exists) is left out."""
    try:
        if isinstance(value, Mapping):
            items = {}
            for key in value:
                try:
                    items[key] = _plain(value[key])
                except UnknownValueError:
                    continue
            return items
        if isinstance(value, list | tuple):
            listed = []
            for index in range(len(value)):
                try:
                    listed.append(_plain(value[index]))
                except UnknownValueError:
                    continue
            return listed
    except UnknownValueError:
        return None
    return value


def _context(config: Mapping[str, Any]) -> Any:
    return rules.PackContext.from_section(config)


def _resource(type_: str, name: str, urn: str, props: Any, protect: bool) -> Any:
    return rules.Resource(type=type_, name=name, urn=urn, props=_plain(props), protect=protect)


def _resource_policy(name: str, description: str, check: Callable[[Any, Any], list[str]]) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        ctx = _context(args.get_config())
        resource = _resource(args.resource_type, args.name, args.urn, args.props, bool(args.opts.protect))
        for message in check(resource, ctx):
            report(message)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=validate,
        config_schema=_SCHEMA,
    )


def _protected(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = _context(args.get_config())
    resources = [_resource(r.resource_type, r.name, r.urn, {}, bool(r.opts.protect)) for r in args.resources]
    for urn, message in rules.protected_violations(resources, ctx):
        report(message, urn)


# Every section Rollwright writes (rules.PackContext.sections); the engine rejects config a policy does not declare.
_SCHEMA = PolicyConfigSchema(
    properties={
        key: {}
        for key in (
            "environment",
            "region",
            "stack",
            "protected",
            "environmentLabel",
            "regionLabel",
            "references",
            "production",
            "minReplicas",
            "scaledToZero",
        )
    }
)

PolicyPack(
    name=rules.PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name=rules.PROTECTED,
            description="Protected resources may not be deleted, nor lose their protect flag.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_protected,
            config_schema=_SCHEMA,
        ),
        _resource_policy(
            rules.LABELS,
            "Every resource and manifest is labelled with its environment and region.",
            rules.label_violations,
        ),
        _resource_policy(
            rules.REFERENCES,
            "No input or rendered manifest contains a value identifying another environment's resource.",
            rules.reference_violations,
        ),
        _resource_policy(
            rules.ROLLOUTS,
            "Production Rollouts have at least two replicas and a canary with analysis.",
            rules.rollout_violations,
        ),
    ],
)
