"""The preview report on hand-made step records and verdicts (the real-CLI cases are in test_lifecycle.py and
test_policy_packs.py): a replacement reads as one change, unchanged resources are left out, verdicts are listed."""

from __future__ import annotations

from rollwright.domain.identity import RegionTarget
from rollwright.domain.policy import EnforcementLevel, PolicyVerdict
from rollwright.provisioning import preview_report
from rollwright.provisioning.protocol import StepRecord

TARGET = RegionTarget(service="shop", environment="prod", region="a")


def step(op: str, name: str, **inputs: object) -> StepRecord:
    return StepRecord(
        op=op,
        urn=f"urn:pulumi:shop-prod-a::rollwright::pulumi-python:dynamic/rollwright:Thing::{name}",
        type="pulumi-python:dynamic/rollwright:Thing",
        name=name,
        changed_keys=sorted(inputs),
        new_inputs=dict(inputs) or None,
    )


def test_report_groups_a_replacement_and_skips_unchanged_resources() -> None:
    steps = [
        step("same", "service"),
        step("create-replacement", "cache", size="2"),
        step("delete-replaced", "cache"),
        step("create", "rollout", content="x"),
    ]
    changes = preview_report.changes(steps)
    assert [(c.name, c.op) for c in changes] == [("cache", "replace"), ("rollout", "create")]
    assert "**1 to create, 1 to replace**" in preview_report.markdown(TARGET, changes)
    assert preview_report.markdown(TARGET, []).endswith("No changes.\n")
    assert preview_report.table([]).strip().endswith("no changes")


def test_report_lists_the_packs_verdicts() -> None:
    advice = PolicyVerdict(
        pack="team-pack", policy="three-replicas", level=EnforcementLevel.ADVISORY, resource="rollout", message="use 3"
    )
    assert preview_report.markdown(TARGET, [], [advice]).endswith(
        "No changes.\n\n**Policies**\n\n- advisory: team-pack/three-replicas on rollout: use 3\n"
    )
    assert preview_report.table([], [advice]).endswith(
        "policies:\n  advisory: team-pack/three-replicas on rollout: use 3\n"
    )
