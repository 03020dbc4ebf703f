"""One region's stack through its life on the real pulumi CLI: create, no-op, preview, digest change, scale to zero,
removal and destroy (what the policy packs refuse is in test_policy_packs.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rollwright.domain.digest import pinned_image
from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryCheck, CanaryStep
from rollwright.provisioning import preview_report
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.provisioning.provisioner import Provisioner
from rollwright.provisioning.working_copy import read_region_manifests
from rollwright.stacks.inputs import RenderPurpose, StackInputs
from tests.provisioning.conftest import make_settings

STAGING = RegionTarget(service="shop", environment="staging", region="local-a")
PROD = RegionTarget(service="shop", environment="prod", region="us-east-1")
DIGEST_1 = "sha256:" + "1" * 64
DIGEST_2 = "sha256:" + "2" * 64
PROGRAM = "rollwright.stacks.web_service:program"
STEPS = [CanaryStep(weight=20, pause="30s"), CanaryStep(weight=60, pause=None)]


@pytest.fixture
def provisioner(tmp_path: Path, pulumi_bin_dirs: list[Path]) -> Provisioner:
    """A fresh backend and work root per test: each test builds the stack state it needs."""
    return Provisioner(make_settings(tmp_path, pulumi_bin_dirs))


async def staging_live(provisioner: Provisioner, digest: str = DIGEST_1) -> None:
    await provisioner.provision(inputs_for(provisioner, STAGING, digest), PROGRAM, guard(STAGING))


def inputs_for(provisioner: Provisioner, target: RegionTarget, digest: str, **settings: object) -> StackInputs:
    return StackInputs(
        target=target,
        image="registry.local:5000/shop/api",
        digest=digest,
        canary_steps=STEPS,
        settings={"replicas": 2, **settings},
        manifests_dir=str(provisioner.manifests_dir(target.stack_name)),
        data_dir=str(provisioner.data_dir()),
    )


def guard(target: RegionTarget) -> GuardrailContext:
    stacks = {STAGING.stack_name: "staging", PROD.stack_name: "prod"}
    return GuardrailContext(environment=target.environment, stack_environments=stacks, environments=["prod", "staging"])


def manifests(provisioner: Provisioner, target: RegionTarget) -> dict[str, str]:
    return read_region_manifests(provisioner.manifests_dir(target.stack_name), target)


async def test_first_up_creates_database_and_pinned_manifests(provisioner: Provisioner) -> None:
    result = await provisioner.provision(inputs_for(provisioner, STAGING, DIGEST_1), PROGRAM, guard(STAGING))

    assert result.summary.get("create") == 4
    db_path = provisioner.data_dir() / "staging" / "shop.db"
    with sqlite3.connect(db_path) as conn:
        owner = dict(conn.execute("SELECT key, value FROM rollwright_owner").fetchall())
    assert owner == {"environment": "staging", "service": "shop"}
    assert result.outputs["databaseUrl"] == f"sqlite:///{db_path}"

    files = manifests(provisioner, STAGING)
    assert sorted(files) == [
        f"staging/local-a/shop/{name}" for name in ("configmap.yaml", "rollout.yaml", "service.yaml")
    ]
    rollout = files["staging/local-a/shop/rollout.yaml"]
    assert f"image: {pinned_image('registry.local:5000/shop/api', DIGEST_1)}" in rollout
    assert "- setWeight: 20\n      - pause:\n          duration: 30s\n      - setWeight: 60\n" in rollout
    assert "pause: {}" not in rollout
    assert "replicas: 2" in rollout
    assert f"DATABASE_URL: sqlite:///{db_path}" in files["staging/local-a/shop/configmap.yaml"]
    for content in files.values():
        assert "rollwright.io/environment: staging" in content


async def test_second_up_with_same_inputs_changes_nothing(provisioner: Provisioner) -> None:
    await staging_live(provisioner)
    before = {
        path: Path(provisioner.manifests_dir(STAGING.stack_name), path).stat().st_mtime_ns
        for path in manifests(provisioner, STAGING)
    }

    result = await provisioner.provision(inputs_for(provisioner, STAGING, DIGEST_1), PROGRAM, guard(STAGING))

    assert result.changed == 0
    assert result.summary == {"same": 4}
    after = {path: Path(provisioner.manifests_dir(STAGING.stack_name), path).stat().st_mtime_ns for path in before}
    assert after == before


async def test_preview_of_a_digest_change_lists_exactly_the_rollout(provisioner: Provisioner) -> None:
    await staging_live(provisioner)
    result = await provisioner.preview(inputs_for(provisioner, STAGING, DIGEST_2), PROGRAM, guard(STAGING))

    changes = preview_report.changes(result.steps)
    assert [(c.name, c.op, c.changed_keys) for c in changes] == [("rollout", "update", ["content"])]
    markdown = preview_report.markdown(STAGING, changes)
    assert "| ~ update | `rollout` | `ManifestFile` | `content` |" in markdown
    assert "**1 to update**" in markdown
    table = preview_report.table(changes).splitlines()
    assert table[0].split() == ["OP", "RESOURCE", "TYPE", "CHANGED", "KEYS"]
    assert table[1].split() == ["~", "update", "rollout", "ManifestFile", "content"]
    assert table[-1] == "1 to update"
    # A preview changes nothing.
    assert DIGEST_1 in manifests(provisioner, STAGING)["staging/local-a/shop/rollout.yaml"]


async def test_new_digest_updates_only_the_rollout(provisioner: Provisioner) -> None:
    await staging_live(provisioner)
    before = manifests(provisioner, STAGING)

    result = await provisioner.provision(inputs_for(provisioner, STAGING, DIGEST_2), PROGRAM, guard(STAGING))

    assert result.summary == {"update": 1, "same": 3}
    after = manifests(provisioner, STAGING)
    changed = sorted(path for path in after if after[path] != before[path])
    assert changed == ["staging/local-a/shop/rollout.yaml"]
    assert f"@{DIGEST_2}" in after["staging/local-a/shop/rollout.yaml"]


async def test_scale_to_zero_then_remove_keeps_the_database(provisioner: Provisioner) -> None:
    await staging_live(provisioner)
    scaled = inputs_for(provisioner, STAGING, DIGEST_2).model_copy(update={"purpose": RenderPurpose.SCALE_TO_ZERO})
    await provisioner.provision(scaled, PROGRAM, guard(STAGING))
    assert "  replicas: 0\n" in manifests(provisioner, STAGING)["staging/local-a/shop/rollout.yaml"]

    removed = inputs_for(provisioner, STAGING, DIGEST_2).model_copy(
        update={"purpose": RenderPurpose.REMOVE, "digest": None}
    )
    result = await provisioner.provision(removed, PROGRAM, guard(STAGING))

    assert result.summary == {"delete": 3, "same": 1}
    assert manifests(provisioner, STAGING) == {}
    assert not (provisioner.manifests_dir(STAGING.stack_name) / "staging").exists()
    assert (provisioner.data_dir() / "staging" / "shop.db").exists()
    assert result.outputs["manifests"] == {}


async def test_destroy_removes_the_region_but_never_the_protected_database(provisioner: Provisioner) -> None:
    target = RegionTarget(service="shop", environment="staging", region="local-b")
    region_inputs = inputs_for(provisioner, target, DIGEST_1)
    await provisioner.provision(region_inputs, PROGRAM, guard(target))
    assert manifests(provisioner, target)

    destroyed = await provisioner.destroy(region_inputs, PROGRAM)

    assert destroyed.summary.get("delete") == 3
    assert manifests(provisioner, target) == {}
    assert (provisioner.data_dir() / "staging" / "shop.db").exists()
    refreshed = await provisioner.refresh(region_inputs, PROGRAM)
    assert refreshed.error is None


async def test_canary_checks_are_rendered_as_an_analysis_template_beside_the_rollout(provisioner: Provisioner) -> None:
    check = CanaryCheck(name="success-rate", query="sum(up)", success_condition="result[0] >= 0.95")
    analysis = CanaryAnalysis(checks=[check], prometheus_address="http://127.0.0.1:9090")
    measured = inputs_for(provisioner, STAGING, DIGEST_1).model_copy(update={"analysis": analysis})

    result = await provisioner.provision(measured, PROGRAM, guard(STAGING))

    files = manifests(provisioner, STAGING)
    assert "staging/local-a/shop/analysis.yaml" in files
    assert "kind: AnalysisTemplate" in files["staging/local-a/shop/analysis.yaml"]
    assert "templateName: shop-canary" in files["staging/local-a/shop/rollout.yaml"]
    assert result.summary.get("create") == 5
