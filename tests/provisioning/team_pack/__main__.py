"""A platform team's pack for the tests: debug mode never ships (mandatory); three replicas are advised."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)


def _no_debug(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if "DEBUG: 'true'" in str(args.props.get("content", "")):
        report(f"{args.name} turns DEBUG on: remove DEBUG from the service's env")


def _three_replicas(args: ResourceValidationArgs, report: ReportViolation) -> None:
    content = str(args.props.get("content", ""))
    if "kind: Rollout" in content and "replicas: 3" not in content:
        report(f"{args.name} runs fewer than 3 replicas: consider 3 for headroom")


PolicyPack(
    name="team-pack",
    policies=[
        ResourceValidationPolicy(
            name="no-debug",
            description="Debug mode never ships.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_no_debug,
        ),
        ResourceValidationPolicy(
            name="three-replicas",
            description="Three replicas give headroom.",
            enforcement_level=EnforcementLevel.ADVISORY,
            validate=_three_replicas,
        ),
    ],
)
