"""The built-in pack's rules on plain data (the real-CLI cases are in tests/provisioning/test_policy_packs.py), and
the values Rollwright hands the pack: what counts as a violation, and what does not."""

from __future__ import annotations

from rollwright.policy import rules
from rollwright.policy.rules import PackContext, ProtectedResource, Reference, Resource
from rollwright.provisioning.backend_state import StackState, _state_of, references
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.stacks.k8s_manifests import ENVIRONMENT_LABEL, REGION_LABEL

STAGING_URL = "postgres://db.staging.internal/shop"
PROD = PackContext(
    environment="prod",
    region="us-east-1",
    stack="shop-prod-us-east-1",
    environment_label=ENVIRONMENT_LABEL,
    region_label=REGION_LABEL,
    production=True,
    references=(Reference(value=STAGING_URL, environment="staging", stack="shop-staging-a", output="databaseUrl"),),
)
TYPE = "pulumi-python:dynamic/rollwright:ManifestFile"


def manifest(name: str, body: str, environment: str = "prod") -> Resource:
    return Resource(
        type=TYPE,
        name=name,
        urn=f"urn:pulumi:s::rollwright::{TYPE}::{name}",
        props={"content": body, "environment": environment},
    )


def labelled(kind: str, env: str = "prod", region: str = "us-east-1", spec: str = "") -> str:
    labels = f"    {ENVIRONMENT_LABEL}: {env}\n    {REGION_LABEL}: {region}\n"
    return f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: shop\n  labels:\n{labels}{spec}"


def test_another_environments_value_is_refused_with_its_origin() -> None:
    configmap = manifest("configmap", labelled("ConfigMap") + f"data:\n  DATABASE_URL: {STAGING_URL}\n")
    [violation] = rules.reference_violations(configmap, PROD)
    assert violation.startswith(f"prod resource configmap ({TYPE}) references staging's resource")
    assert f"content contains '{STAGING_URL}', the output databaseUrl of stack shop-staging-a (staging)" in violation
    assert "point it at prod's own resource" in violation


def test_labels_name_the_stacks_environment_and_region() -> None:
    assert rules.label_violations(manifest("service", labelled("Service")), PROD) == []
    stray = rules.label_violations(manifest("rollout", labelled("Rollout", env="staging", region="local-a")), PROD)
    assert len(stray) == 2
    assert f"Rollout shop in content is labelled 'staging' for {ENVIRONMENT_LABEL}" in stray[0]
    assert f"label it {REGION_LABEL}: us-east-1" in stray[1]
    declared = rules.label_violations(manifest("service", labelled("Service"), environment="staging"), PROD)
    assert declared == [
        f"prod resource service ({TYPE}) declares environment staging: stack shop-prod-us-east-1 belongs to prod; "
        "render it with prod's inputs"
    ]
    bare = Resource(type="aws:s3/bucket:Bucket", name="assets", urn="urn:x", props={"tags": {}})
    assert "declares no environment" in rules.label_violations(bare, PROD)[0]
    engine = Resource(type="pulumi:providers:pulumi-python", name="default", urn="urn:y", props={})
    assert rules.label_violations(engine, PROD) == []


def test_production_rollouts_need_replicas_and_an_analysed_canary() -> None:
    canary = (
        "spec:\n  replicas: 3\n  strategy:\n    canary:\n      steps: [{setWeight: 20}]\n"
        "      analysis: {templates: [{templateName: shop-canary}]}\n"
    )
    assert rules.rollout_violations(manifest("rollout", labelled("Rollout", spec=canary)), PROD) == []
    thin = "spec:\n  replicas: 1\n  strategy:\n    canary: {}\n"
    found = rules.rollout_violations(manifest("rollout", labelled("Rollout", spec=thin)), PROD)
    assert len(found) == 2
    assert "Rollout shop in content runs 1 replica(s); production needs at least 2" in found[0]
    assert "Rollout shop in content has no canary with analysis" in found[1]
    scaled = PackContext(**{**vars(PROD), "scaled_to_zero": True})
    zero = "spec:\n  replicas: 0\n  strategy:\n    canary:\n      steps: [{setWeight: 20}, {analysis: {}}]\n"
    assert rules.rollout_violations(manifest("rollout", labelled("Rollout", spec=zero)), scaled) == []
    staging = PackContext(**{**vars(PROD), "production": False})
    assert rules.rollout_violations(manifest("rollout", labelled("Rollout", spec=thin)), staging) == []


def test_a_production_rollback_goes_straight_back_without_a_canary_but_keeps_its_replicas() -> None:
    rolling_back = PackContext(**{**vars(PROD), "rolling_back": True})
    straight = "spec:\n  replicas: 3\n  strategy:\n    canary: {}\n"
    assert rules.rollout_violations(manifest("rollout", labelled("Rollout", spec=straight)), rolling_back) == []
    thin = "spec:\n  replicas: 1\n  strategy:\n    canary: {}\n"
    [found] = rules.rollout_violations(manifest("rollout", labelled("Rollout", spec=thin)), rolling_back)
    assert "runs 1 replica(s); production needs at least 2" in found
    # The flag travels in the pack's config as the pack reads it back.
    assert PackContext.from_section(rolling_back.sections()[rules.ROLLOUTS]).rolling_back


def test_protected_resources_stay_and_keep_their_flag() -> None:
    db = ProtectedResource(urn="urn:db", name="database", type="SqliteDatabase")
    ctx = PackContext(**{**vars(PROD), "protected": (db,)})
    assert (
        rules.protected_violations([Resource(type="t", name="database", urn="urn:db", props={}, protect=True)], ctx)
        == []
    )
    [(urn, gone)] = rules.protected_violations([], ctx)
    assert urn == "urn:db"
    assert "protected resource database (SqliteDatabase) of stack shop-prod-us-east-1 would be deleted" in gone
    [(_, unflagged)] = rules.protected_violations([Resource(type="t", name="database", urn="urn:db", props={})], ctx)
    assert "would lose its protect flag" in unflagged


def test_the_values_handed_to_the_pack_come_from_every_other_environments_stack() -> None:
    context = GuardrailContext(
        environment="prod",
        stack_environments={"shop-staging-a": "staging", "shop-prod-b": "prod"},
        environments=["prod", "staging"],
    )
    states = {
        "shop-staging-a": StackState(
            outputs={"databaseUrl": STAGING_URL, "replicas": "1", "shared": "registry.local:5000/x"}
        ),
        # Not in the config (a retired service): attributed by its name.
        "billing-staging-a": StackState(
            outputs={"hosts": ["pg-stg.billing.internal"], "local": "postgres://localhost/x"}
        ),
        "shop-prod-b": StackState(outputs={"image": "registry.local:5000/x"}),
    }
    found = {(r.value, r.stack, r.output) for r in references(states, context, "shop-prod-a")}
    assert found == {
        (STAGING_URL, "shop-staging-a", "databaseUrl"),
        ("db.staging.internal", "shop-staging-a", "databaseUrl (its host)"),
        ("pg-stg.billing.internal", "billing-staging-a", "hosts[0]"),
        ("postgres://localhost/x", "billing-staging-a", "local"),
    }


def test_checkpoints_give_outputs_without_secrets_and_the_protected_resources() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}
    state = _state_of(
        {
            "resources": [
                {
                    "urn": "urn:s",
                    "type": "pulumi:pulumi:Stack",
                    "outputs": {"databaseUrl": STAGING_URL, "password": secret},
                },
                {"urn": "urn:a::database", "type": "SqliteDatabase", "protect": True},
                {"urn": "urn:a::rollout", "type": "ManifestFile"},
            ]
        }
    )
    assert state.outputs == {"databaseUrl": STAGING_URL}
    assert state.protected == [ProtectedResource(urn="urn:a::database", name="database", type="SqliteDatabase")]
