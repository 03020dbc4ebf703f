"""A config mistake fails to load with a message naming the file and the key path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from activities.plans import pipeline_settings
from rollwright.config import ConfigError, load_config
from rollwright.domain.deployment import DeploymentLimits
from rollwright.domain.plan import OnBadElsewhere, PromotePlan

GOOD: dict[str, Any] = {
    "services": [
        {
            "name": "checkout-api",
            "image": "127.0.0.1:5000/shop/checkout-api",
            "tags": r"^v\d+\.\d+\.\d+$",
            "pulumi": {"program": "rollwright.stacks.web_service:program", "config": {"replicas": 3}},
            "canary": {"steps": [{"weight": 10, "pause": "30s"}, {"weight": 50, "pause": "1m"}]},
            "environments": [
                {"name": "staging", "waves": [["local-a"]]},
                {
                    "name": "prod",
                    "approval": "required",
                    "bake": "5m",
                    "waves": [["us-east-1"], ["eu-west-1", "ap-south-1"]],
                    "config": {"replicas": 5},
                },
            ],
        }
    ],
    "argocd": {"server": "http://127.0.0.1:8090", "token": {"env": "ARGOCD_TOKEN"}},
    "gitops": {"repo": "/var/lib/rollwright/gitops.git"},
}


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "rollwright.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_valid_config_resolves_to_a_plan(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    plan = config.plan_for("checkout-api")
    prod = plan.environments[1]
    assert prod.waves == [["us-east-1"], ["eu-west-1", "ap-south-1"]]
    assert prod.bake == timedelta(minutes=5)
    assert prod.approval.required
    assert prod.pulumi_config == {"replicas": 5}
    assert plan.environments[0].pulumi_config == {"replicas": 3}
    assert plan.canary.steps[1].pause == timedelta(minutes=1)
    assert config.service_for_repository("shop/checkout-api") is config.services[0]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["services"][0].update(replicas=3), "services[0].replicas: unknown key"),
        (lambda d: d["services"][0]["environments"][1]["waves"].append([]), "services[0].environments[1].waves: "),
        (lambda d: d["services"][0]["environments"][1].update(bake="5 minutes"), "services[0].environments[1].bake"),
        (lambda d: d["services"][0]["canary"]["steps"][0].update(pause="soon"), "canary.steps[0].pause"),
        (lambda d: d["services"][0].update(tags="(unclosed"), "services[0].tags: not a valid regular expression"),
        (lambda d: d.pop("gitops"), "gitops: Field required"),
        (lambda d: d["argocd"].update(app="{svc}-{env}"), "argocd.app: not a valid name template (KeyError('svc'))"),
        (
            lambda d: d["services"][0]["canary"].update(
                checks=[{"name": "rate", "success_condition": "result[0] > 1"}]
            ),
            "services[0].canary.checks[0]: check 'rate': a prometheus check needs a query",
        ),
        (
            lambda d: d["services"][0]["environments"][1].update(region_prometheus={"mars-1": "http://p:9090"}),
            "services[0].environments[1]: region_prometheus names region(s) not in any wave: mars-1",
        ),
    ],
)
def test_mistakes_name_the_key_path(tmp_path: Path, mutate: Any, expected: str) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message


def test_empty_wave_says_which_wave(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["services"][0]["environments"][1]["waves"].append([])
    with pytest.raises(ConfigError, match=r"wave 3 names no region"):
        load_config(write(tmp_path, data))


def test_bad_duration_says_what_is_expected(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["services"][0]["environments"][1]["bake"] = "5 minutes"
    with pytest.raises(ConfigError, match=r"expected a duration like '30s', '5m' or '1h', got '5 minutes'"):
        load_config(write(tmp_path, data))


def test_secret_values_are_not_accepted_inline(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["argocd"]["token"] = "s3cr3t-token"
    with pytest.raises(ConfigError, match=r"argocd\.token"):
        load_config(write(tmp_path, data))


def test_unreadable_and_non_yaml_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_canary_pauses_longer_than_the_progress_deadline_are_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["services"][0]["canary"] = {"steps": [{"weight": 10, "pause": "20m"}, {"weight": 50, "pause": "15m"}]}
    with pytest.raises(ConfigError, match=r"services\[0\]\.canary: the canary pauses add up to 35m"):
        load_config(write(tmp_path, data))


def test_version_store_url_can_be_kept_as_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rollwright.config.secrets import version_store_url
    from rollwright.secrets import SecretUnavailableError

    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["version_store"] = {"url": {"env": "ROLLWRIGHT_TEST_STORE_URL"}}
    config = load_config(write(tmp_path, data))
    with pytest.raises(SecretUnavailableError, match="ROLLWRIGHT_TEST_STORE_URL is not set"):
        version_store_url(config.version_store)
    monkeypatch.setenv("ROLLWRIGHT_TEST_STORE_URL", "postgresql+psycopg://rw:hunter22@db/rollwright")
    assert version_store_url(config.version_store) == "postgresql+psycopg://rw:hunter22@db/rollwright"


def test_canary_checks_reach_the_plan_with_each_regions_prometheus(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    check = {"name": "success-rate", "query": "sum(up)", "success_condition": "result[0] >= 0.95", "interval": "5s"}
    data["services"][0]["canary"]["checks"] = [check]
    prod = data["services"][0]["environments"][1]
    prod["prometheus"] = "http://prom.prod:9090"
    prod["region_prometheus"] = {prod["waves"][-1][-1]: "http://prom.other:9090"}
    plan = load_config(write(tmp_path, data)).plan_for(data["services"][0]["name"])

    env = plan.environments[1]
    first, last = env.waves[0][0], env.waves[-1][-1]
    first_analysis, last_analysis = plan.analysis_for(env, first), plan.analysis_for(env, last)
    assert first_analysis is not None
    assert last_analysis is not None
    assert [c.name for c in first_analysis.checks] == ["success-rate"]
    assert (first_analysis.prometheus_address, last_analysis.prometheus_address) == (
        "http://prom.prod:9090",
        "http://prom.other:9090",
    )
    assert plan.analysis_for(plan.environments[0], plan.environments[0].waves[0][0]) is not None


ERROR_RATIO = {"name": "error-ratio", "query": "sum(errors)", "success_condition": "result <= 0.05"}


def test_verification_is_the_services_with_each_environments_overrides(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    service = data["services"][0]
    service["verification"] = {"checks": [ERROR_RATIO], "interval": "20s", "watch": "30m"}
    staging, prod = service["environments"]
    staging["prometheus"] = prod["prometheus"] = "http://prom:9090"
    prod["verification"] = {"on_failure": "halt", "watch": "1h", "initial_delay": "2m"}
    plan = load_config(write(tmp_path, data)).plan_for(service["name"])

    staged, produced = (env.verification for env in plan.environments)
    assert [c.name for c in produced.checks] == ["error-ratio"]
    assert (staged.watch, produced.watch) == (timedelta(minutes=30), timedelta(hours=1))
    assert (staged.on_failure.value, produced.on_failure.value) == ("rollback", "halt")
    assert produced.interval == timedelta(seconds=20)
    assert (staged.initial_delay, produced.initial_delay) == (timedelta(0), timedelta(minutes=2))


@pytest.mark.parametrize(
    ("verification", "expected"),
    [
        (
            {"checks": [{**ERROR_RATIO, "success_condition": "result is fine"}]},
            "success condition 'result is fine' is not understood",
        ),
        ({"watch": "10m"}, "a watch needs at least one check"),
        ({"checks": [ERROR_RATIO, ERROR_RATIO]}, "verification check names must be unique"),
        ({"checks": [ERROR_RATIO], "on_failure": "ignore"}, "on_failure"),
    ],
)
def test_verification_mistakes_are_named(tmp_path: Path, verification: dict[str, Any], expected: str) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["services"][0]["verification"] = verification
    for env in data["services"][0]["environments"]:
        env["prometheus"] = "http://prom:9090"
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, data))
    assert expected in str(error.value)


def test_checks_without_a_prometheus_are_refused_naming_the_regions(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["services"][0]["verification"] = {"checks": [ERROR_RATIO]}
    data["services"][0]["environments"][0]["prometheus"] = "http://prom:9090"
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, data))
    assert "environment 'prod' has verification checks but no Prometheus for us-east-1, eu-west-1, ap-south-1" in str(
        error.value
    )


@pytest.mark.parametrize(
    ("promote", "expected"),
    [
        (None, PromotePlan(source="staging")),
        ("manual", PromotePlan(source="staging", manual=True)),
        ({"from": "staging", "after": "30m"}, PromotePlan(source="staging", after=timedelta(minutes=30))),
    ],
)
def test_later_lanes_promote_from_an_earlier_one(tmp_path: Path, promote: Any, expected: PromotePlan) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    if promote is not None:
        data["services"][0]["environments"][1]["promote"] = promote
    data["services"][0]["environments"][1]["on_bad_elsewhere"] = "keep"
    plan = load_config(write(tmp_path, data)).plan_for("checkout-api")
    staging, prod = plan.environments
    assert staging.promote is None  # the first lane takes pushes
    assert prod.promote == expected
    assert prod.on_bad_elsewhere is OnBadElsewhere.KEEP
    assert staging.on_bad_elsewhere is OnBadElsewhere.ROLLBACK


@pytest.mark.parametrize(
    ("environment", "promote", "expected"),
    [
        (1, {"from": "qa"}, "environment 'prod' promotes from 'qa', which is not an earlier environment (staging)"),
        (0, "manual", "environment 'staging' is the first lane: it takes pushes and cannot promote from another"),
        (1, "sometimes", "services[0].environments[1].promote"),
    ],
)
def test_promotion_mistakes_are_named(tmp_path: Path, environment: int, promote: Any, expected: str) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["services"][0]["environments"][environment]["promote"] = promote
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, data))
    assert expected in str(caught.value)


def test_limits_reach_every_deployment_and_unknown_ones_are_named(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["limits"] = {"heartbeat_timeout": "5s", "retry_initial_interval": "1s"}
    config = load_config(write(tmp_path, data))
    assert pipeline_settings(config, "checkout-api").limits == DeploymentLimits(
        heartbeat_timeout=timedelta(seconds=5), retry_initial_interval=timedelta(seconds=1)
    )
    data["limits"] = {"heartbeat": "5s"}
    with pytest.raises(ConfigError, match=r"limits\.heartbeat"):
        load_config(write(tmp_path, data))
