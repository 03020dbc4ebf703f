"""Guardrail rules and the preview report on hand-made step records (the real-CLI cases are in
test_lifecycle.py): what counts as a violation, and what does not."""

from __future__ import annotations

from rollwright.domain.identity import RegionTarget
from rollwright.provisioning import guardrails, preview_report
from rollwright.provisioning.protocol import GuardrailContext, StepRecord

PROD = GuardrailContext(environment="prod", foreign_stacks={"shop-staging-a": "staging"})
STAGING_OUTPUTS = {"shop-staging-a": {"databaseUrl": "postgres://db.staging.internal/shop", "replicas": "1"}}


def step(op: str, name: str, protected: bool = False, **inputs: object) -> StepRecord:
    return StepRecord(
        op=op,
        urn=f"urn:pulumi:shop-prod-a::rollwright::pulumi-python:dynamic/rollwright:Thing::{name}",
        type="pulumi-python:dynamic/rollwright:Thing",
        name=name,
        changed_keys=sorted(inputs),
        protected=protected,
        new_inputs=dict(inputs) or None,
    )


def test_protected_resources_may_not_be_deleted_or_replaced() -> None:
    steps = [step("delete", "database", protected=True), step("replace", "cache", protected=True), step("delete", "x")]
    assert guardrails.check(PROD, steps, {}) == [
        "protected resource database (pulumi-python:dynamic/rollwright:Thing) would be deleted",
        "protected resource cache (pulumi-python:dynamic/rollwright:Thing) would be replaced",
    ]


def test_a_protected_delete_reported_only_by_the_engine_error_is_caught() -> None:
    error = 'error: resource "urn:pulumi:s::p::t::database" cannot be deleted because it is protected.'
    assert guardrails.check(PROD, [], {}, error) == ["protected resource database would be deleted"]


def test_another_environments_exported_values_and_labels_are_refused() -> None:
    steps = [
        step("update", "configmap", content="DATABASE_URL: postgres://db.staging.internal/shop\n", environment="prod"),
        step("same", "rollout", content="labels:\n  rollwright.io/environment: staging\n", environment="prod"),
    ]
    violations = guardrails.check(PROD, steps, STAGING_OUTPUTS)
    assert len(violations) == 2
    assert "prod resource configmap" in violations[0]
    assert "staging's resource" in violations[0]
    assert "labelled for environment staging" in violations[1]


def test_own_environment_and_short_common_values_are_fine() -> None:
    steps = [step("create", "rollout", content="replicas: 1\nrollwright.io/environment: prod\n", environment="prod")]
    assert guardrails.check(PROD, steps, STAGING_OUTPUTS) == []


def test_report_groups_a_replacement_and_skips_unchanged_resources() -> None:
    steps = [
        step("same", "service"),
        step("create-replacement", "cache", size="2"),
        step("delete-replaced", "cache"),
        step("create", "rollout", content="x"),
    ]
    changes = preview_report.changes(steps)
    assert [(c.name, c.op) for c in changes] == [("cache", "replace"), ("rollout", "create")]
    target = RegionTarget(service="shop", environment="prod", region="a")
    assert "**1 to create, 1 to replace**" in preview_report.markdown(target, changes)
    assert preview_report.markdown(target, []).endswith("No changes.\n")
    assert preview_report.table([]).strip().endswith("no changes")
