"""The policy packs on the real pulumi CLI, the real analyzer and one file backend shared by every case: staging of
two services and prod of one are live, and each case asks for a change the packs must refuse (or only advise on).

A refused case changes nothing, so the cases share the backend in any order; the one that succeeds does so on a
region of its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryCheck, CanaryStep
from rollwright.domain.policy import EnforcementLevel
from rollwright.provisioning import preview_report
from rollwright.provisioning.errors import GuardrailViolation
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.provisioning.provisioner import Provisioner
from rollwright.provisioning.settings import RunnerSettings
from rollwright.provisioning.working_copy import read_region_manifests
from rollwright.stacks.inputs import RenderPurpose, StackInputs
from tests.provisioning.conftest import make_settings

PROGRAM = "rollwright.stacks.web_service:program"
WITH_EXPORTS = "tests.provisioning.programs:with_exports"
LOOKED_UP = "tests.provisioning.programs:database_url_looked_up"
TEAM_PACK = Path(__file__).resolve().parent / "team_pack"
DIGEST_1 = "sha256:" + "1" * 64
DIGEST_2 = "sha256:" + "2" * 64
STEPS = [CanaryStep(weight=20, pause="30s"), CanaryStep(weight=60, pause=None)]
ANALYSIS = CanaryAnalysis(
    checks=[CanaryCheck(name="success-rate", query="sum(up)", success_condition="result[0] >= 0.95")],
    prometheus_address="http://127.0.0.1:9090",
)

SHOP_STAGING = RegionTarget(service="shop", environment="staging", region="local-a")
BILLING_STAGING = RegionTarget(service="billing", environment="staging", region="local-a")
SHOP_PROD = RegionTarget(service="shop", environment="prod", region="us-east-1")
SHOP_PROD_EU = RegionTarget(service="shop", environment="prod", region="eu-west-1")
SHOP_PROD_AP = RegionTarget(service="shop", environment="prod", region="ap-south-1")
# Only the rollback test provisions it: the other tests expect the regions above as the fixture left them.
SHOP_PROD_CA = RegionTarget(service="shop", environment="prod", region="ca-central-1")
SHOP_PROD_SA = RegionTarget(service="shop", environment="prod", region="sa-east-1")
BILLING_DB = "postgres://db.billing-staging.internal:5432/billing"
BILLING_ALIAS = "pg-stg.billing.internal"
STACKS = {
    t.stack_name: t.environment
    for t in (SHOP_STAGING, BILLING_STAGING, SHOP_PROD, SHOP_PROD_EU, SHOP_PROD_AP, SHOP_PROD_CA, SHOP_PROD_SA)
}


def guard(target: RegionTarget) -> GuardrailContext:
    return GuardrailContext(
        environment=target.environment,
        production=target.environment == "prod",
        stack_environments=STACKS,
        environments=["prod", "staging"],
    )


def inputs(provisioner: Provisioner, target: RegionTarget, digest: str = DIGEST_1, **settings: object) -> StackInputs:
    return StackInputs(
        target=target,
        image=f"registry.local:5000/{target.service}/api",
        digest=digest,
        canary_steps=STEPS,
        analysis=ANALYSIS,
        settings={"replicas": 2, **settings},
        manifests_dir=str(provisioner.manifests_dir(target.stack_name)),
        data_dir=str(provisioner.data_dir()),
    )


@dataclass(frozen=True)
class Backend:
    settings: RunnerSettings
    provisioner: Provisioner
    staging_url: str

    def files(self, target: RegionTarget) -> dict[str, str]:
        return read_region_manifests(self.provisioner.manifests_dir(target.stack_name), target)

    def checkpoint(self, target: RegionTarget) -> str:
        assert self.settings.backend_dir is not None
        path = self.settings.backend_dir / ".pulumi" / "stacks" / "rollwright" / f"{target.stack_name}.json"
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


@pytest.fixture(scope="module")
async def backend(module_root: Path, pulumi_bin_dirs: list[Path]) -> Backend:
    settings = make_settings(module_root, pulumi_bin_dirs)
    provisioner = Provisioner(settings)
    staging = await provisioner.provision(inputs(provisioner, SHOP_STAGING), PROGRAM, guard(SHOP_STAGING))
    billing = inputs(provisioner, BILLING_STAGING, database_url=BILLING_DB, exports={"hostAliases": [BILLING_ALIAS]})
    await provisioner.provision(billing, WITH_EXPORTS, guard(BILLING_STAGING))
    await provisioner.provision(inputs(provisioner, SHOP_PROD), PROGRAM, guard(SHOP_PROD))
    return Backend(settings=settings, provisioner=provisioner, staging_url=str(staging.outputs["databaseUrl"]))


async def refused(backend: Backend, stack_inputs: StackInputs, program: str = PROGRAM) -> GuardrailViolation:
    with pytest.raises(GuardrailViolation) as caught:
        await backend.provisioner.provision(stack_inputs, program, guard(stack_inputs.target))
    return caught.value


async def test_prod_pointing_at_staging_is_refused_and_no_resource_of_the_region_changes(backend: Backend) -> None:
    files, state = backend.files(SHOP_PROD), backend.checkpoint(SHOP_PROD)
    # A new digest (the Rollout would change) and staging's database (the ConfigMap would point at it).
    change = inputs(backend.provisioner, SHOP_PROD, DIGEST_2, database_url=backend.staging_url)

    violation = await refused(backend, change)

    message = str(violation)
    assert "rollwright-guardrails/no-cross-environment-references" in message
    assert "prod resource configmap" in message
    assert f"references staging's resource: content contains '{backend.staging_url}'" in message
    assert f"output databaseUrl of stack {SHOP_STAGING.stack_name} (staging)" in message
    # Refused before `up`: not the Rollout, not the ConfigMap, not the stack's state.
    assert backend.files(SHOP_PROD) == files
    assert DIGEST_1 in files["prod/us-east-1/shop/rollout.yaml"]
    assert backend.checkpoint(SHOP_PROD) == state


async def test_a_staging_url_known_only_once_up_runs_is_refused_by_the_pack_during_up(
    backend: Backend, tmp_path: Path
) -> None:
    # A lookup answers staging's database URL when `up` creates it: the gating preview sees the URL as unknown.
    answer = tmp_path / "lookup-answer"
    answer.write_text(backend.staging_url)
    change = inputs(backend.provisioner, SHOP_PROD_SA, lookup_source=str(answer))
    preview = await backend.provisioner.preview(change, LOOKED_UP, guard(SHOP_PROD_SA))
    assert preview.error is None
    assert preview.verdicts == []

    violation = await refused(backend, change, LOOKED_UP)

    message = str(violation)
    assert "[rollwright-guardrails/no-cross-environment-references, mandatory] configmap:" in message
    assert "prod resource configmap" in message
    assert f"references staging's resource: content contains '{backend.staging_url}'" in message
    assert f"output databaseUrl of stack {SHOP_STAGING.stack_name} (staging)" in message
    # `up` ran (the lookup exists now), and stopped the ConfigMap before it was written.
    assert backend.checkpoint(SHOP_PROD_SA) != ""
    assert backend.files(SHOP_PROD_SA) == {}


async def test_another_services_staging_database_and_a_staging_host_are_refused(backend: Backend) -> None:
    elsewhere = f"postgres://{BILLING_ALIAS}:5432/shop"
    same_host = "postgres://db.billing-staging.internal:6432/shop"
    change = inputs(backend.provisioner, SHOP_PROD_EU, database_url=BILLING_DB, env={"REPLICA": elsewhere})
    violation = await refused(backend, change)
    origin = f"stack {BILLING_STAGING.stack_name} (staging)"
    assert f"contains '{BILLING_DB}', the output databaseUrl of {origin}" in str(violation)
    assert f"contains '{BILLING_ALIAS}', the output hostAliases[0] of {origin}" in str(violation)

    via_host = inputs(backend.provisioner, SHOP_PROD_EU, database_url=same_host)
    violation = await refused(backend, via_host)
    assert f"contains 'db.billing-staging.internal', the output databaseUrl (its host) of {origin}" in str(violation)
    assert backend.files(SHOP_PROD_EU) == {}


async def test_deleting_the_protected_database_is_refused_by_the_protect_flag(backend: Backend) -> None:
    state = backend.checkpoint(SHOP_STAGING)
    dropped = inputs(backend.provisioner, SHOP_STAGING, DIGEST_2)

    violation = await refused(backend, dropped, "tests.provisioning.programs:without_database")

    # The engine stops the preview at the protected delete, before the pack's stack-wide rule gets to run.
    message = str(violation)
    assert "[pulumi/protect, mandatory] database:" in message
    assert "protected resource database would be deleted: refused by Pulumi's protect flag" in message
    assert backend.checkpoint(SHOP_STAGING) == state


async def test_unprotecting_the_database_is_refused_by_the_pack(backend: Backend) -> None:
    state = backend.checkpoint(SHOP_STAGING)
    unprotected = inputs(backend.provisioner, SHOP_STAGING)

    violation = await refused(backend, unprotected, "tests.provisioning.programs:unprotected_database")

    # Pulumi would drop the flag without a word, and delete the database on a later run.
    message = str(violation)
    assert "[rollwright-guardrails/protected-resources-stay, mandatory] database:" in message
    assert "would lose its protect flag" in message
    assert "pulumi/protect" not in message
    assert backend.checkpoint(SHOP_STAGING) == state


async def test_replacing_the_protected_database_is_refused_by_the_protect_flag(
    backend: Backend, tmp_path: Path
) -> None:
    state = backend.checkpoint(SHOP_STAGING)
    moved = inputs(backend.provisioner, SHOP_STAGING).model_copy(update={"data_dir": str(tmp_path / "elsewhere")})

    violation = await refused(backend, moved)

    message = str(violation)
    assert "[pulumi/protect, mandatory] database:" in message
    assert "refused by Pulumi's protect flag" in message
    assert "would be replaced" in message
    assert backend.checkpoint(SHOP_STAGING) == state
    assert not (tmp_path / "elsewhere").exists()


async def test_production_rollouts_need_two_replicas_and_an_analysed_canary(backend: Backend) -> None:
    thin = inputs(backend.provisioner, SHOP_PROD, replicas=1).model_copy(update={"analysis": None})

    violation = await refused(backend, thin)

    message = str(violation)
    assert "rollwright-guardrails/production-rollouts" in message
    assert "runs 1 replica(s); production needs at least 2" in message
    assert "has no canary with analysis" in message


async def test_a_production_rollback_goes_straight_back_without_a_canary(backend: Backend) -> None:
    # What a rollback renders: the earlier version, no canary steps, no analysis, so nothing waits on the good one.
    back = inputs(backend.provisioner, SHOP_PROD_CA).model_copy(
        update={"purpose": RenderPurpose.ROLLBACK, "canary_steps": [], "analysis": None}
    )

    await backend.provisioner.provision(back, PROGRAM, guard(SHOP_PROD_CA))

    rollout = backend.files(SHOP_PROD_CA)["prod/ca-central-1/shop/rollout.yaml"]
    assert DIGEST_1 in rollout
    assert "steps" not in rollout


async def test_a_team_pack_stops_on_its_mandatory_rule_and_advises_on_the_other(backend: Backend) -> None:
    provisioner = Provisioner(backend.settings.model_copy(update={"policy_packs": [TEAM_PACK]}))

    debug = inputs(provisioner, SHOP_PROD_AP, env={"DEBUG": "true"})
    with pytest.raises(GuardrailViolation) as caught:
        await provisioner.provision(debug, PROGRAM, guard(SHOP_PROD_AP))
    assert "[team-pack/no-debug, mandatory] configmap: configmap turns DEBUG on" in str(caught.value)
    assert "three-replicas" not in str(caught.value)
    assert backend.files(SHOP_PROD_AP) == {}

    preview = await provisioner.preview(inputs(provisioner, SHOP_PROD_AP), PROGRAM, guard(SHOP_PROD_AP))
    changes = preview_report.changes(preview.steps)
    table = preview_report.table(changes, preview.verdicts)
    assert "advisory: team-pack/three-replicas on rollout: rollout runs fewer than 3 replicas" in table

    result = await provisioner.provision(inputs(provisioner, SHOP_PROD_AP), PROGRAM, guard(SHOP_PROD_AP))
    advisories = [v for v in result.verdicts if v.level is EnforcementLevel.ADVISORY]
    assert [(v.pack, v.policy, v.resource) for v in advisories] == [("team-pack", "three-replicas", "rollout")]
    assert "replicas: 2" in backend.files(SHOP_PROD_AP)["prod/ap-south-1/shop/rollout.yaml"]
