"""The rendered Kubernetes objects: pinned image, canary steps, environment labels."""

from __future__ import annotations

import pytest
import yaml

from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryCheck, CanaryStep, CheckProvider
from rollwright.stacks import k8s_manifests as k8s

TARGET = RegionTarget(service="shop", environment="prod", region="eu-west-1")
DIGEST = "sha256:" + "c" * 64


def test_rollout_pins_the_digest_and_renders_canary_steps() -> None:
    steps = [CanaryStep(weight=10, pause="30s"), CanaryStep(weight=50, pause="2m"), CanaryStep(weight=90)]
    rollout = yaml.safe_load(k8s.render_rollout(TARGET, "reg/shop", DIGEST, 3, steps, 8080))

    assert rollout["kind"] == "Rollout"
    assert rollout["spec"]["replicas"] == 3
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"] == f"reg/shop@{DIGEST}"
    assert rollout["spec"]["strategy"]["canary"]["steps"] == [
        {"setWeight": 10},
        {"pause": {"duration": "30s"}},
        {"setWeight": 50},
        {"pause": {"duration": "2m"}},
        {"setWeight": 90},
    ]
    assert rollout["metadata"]["labels"][k8s.ENVIRONMENT_LABEL] == "prod"


def test_config_map_carries_the_database_url_and_every_object_its_environment() -> None:
    config_map = yaml.safe_load(k8s.render_config_map(TARGET, "sqlite:////data/prod/shop.db", {"LOG": "info"}))
    service = yaml.safe_load(k8s.render_service(TARGET, 8080))

    assert config_map["data"]["DATABASE_URL"] == "sqlite:////data/prod/shop.db"
    assert config_map["data"]["LOG"] == "info"
    for document in (config_map, service):
        assert document["metadata"]["labels"][k8s.ENVIRONMENT_LABEL] == "prod"
        assert document["metadata"]["namespace"] == "prod"


def test_content_hash_depends_on_paths_and_content() -> None:
    base = {"a/x.yaml": "1", "a/y.yaml": "2"}
    assert k8s.content_hash(base) == k8s.content_hash(dict(reversed(base.items())))
    assert k8s.content_hash(base) != k8s.content_hash({"a/x.yaml": "2", "a/y.yaml": "1"})


SUCCESS_RATE = CanaryCheck(
    name="success-rate",
    query='sum(rate(http_requests_total{service="{{args.service}}",pod_template_hash="{{args.canary-hash}}",'
    'code!~"5.."}[10s])) / sum(rate(http_requests_total{pod_template_hash="{{args.canary-hash}}"}[10s]))',
    success_condition="result[0] >= 0.95",
    interval="5s",
    count=3,
    failure_limit=1,
    initial_delay="5s",
)
HEALTH = CanaryCheck(
    name="health",
    provider=CheckProvider.WEB,
    url="http://status.local/{{args.region}}",
    json_path="{$.ok}",
    success_condition="result == true",
)


def test_canary_checks_become_an_analysis_template_the_rollout_runs_in_the_background() -> None:
    analysis = CanaryAnalysis(checks=[SUCCESS_RATE, HEALTH], prometheus_address="http://127.0.0.1:9090")
    steps = [CanaryStep(weight=25, pause="10s"), CanaryStep(weight=75, pause="10s")]

    rollout = yaml.safe_load(k8s.render_rollout(TARGET, "reg/shop", DIGEST, 3, steps, 8080, analysis))
    template = yaml.safe_load(k8s.render_analysis_template(TARGET, analysis))

    background = rollout["spec"]["strategy"]["canary"]["analysis"]
    assert background["templates"] == [{"templateName": "shop-canary"}]
    assert background["startingStep"] == 1
    args = {arg["name"]: arg for arg in background["args"]}
    assert args["canary-hash"]["valueFrom"] == {"podTemplateHashValue": "Latest"}
    assert (args["service"]["value"], args["environment"]["value"], args["region"]["value"]) == (
        "shop",
        "prod",
        "eu-west-1",
    )
    assert template["kind"] == "AnalysisTemplate"
    assert template["metadata"]["name"] == "shop-canary"
    assert template["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-1"
    assert [arg["name"] for arg in template["spec"]["args"]] == ["canary-hash", "service", "environment", "region"]
    prometheus, web = template["spec"]["metrics"]
    assert prometheus["provider"]["prometheus"] == {"address": "http://127.0.0.1:9090", "query": SUCCESS_RATE.query}
    assert (prometheus["successCondition"], prometheus["interval"], prometheus["initialDelay"]) == (
        "result[0] >= 0.95",
        "5s",
        "5s",
    )
    assert (prometheus["count"], prometheus["failureLimit"]) == (3, 1)
    assert web["provider"]["web"] == {"url": "http://status.local/{{args.region}}", "jsonPath": "{$.ok}"}


def test_a_rollout_without_checks_or_steps_runs_no_analysis() -> None:
    analysis = CanaryAnalysis(checks=[SUCCESS_RATE], prometheus_address="http://127.0.0.1:9090")
    plain = yaml.safe_load(k8s.render_rollout(TARGET, "reg/shop", DIGEST, 3, [CanaryStep(weight=50)], 8080))
    straight_back = yaml.safe_load(k8s.render_rollout(TARGET, "reg/shop", DIGEST, 3, [], 8080, analysis))

    assert "analysis" not in plain["spec"]["strategy"]["canary"]
    assert "analysis" not in straight_back["spec"]["strategy"]["canary"]


def test_a_prometheus_check_without_a_prometheus_for_the_region_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="canary check 'success-rate' asks Prometheus, but prod names no prometheus"):
        k8s.render_analysis_template(TARGET, CanaryAnalysis(checks=[SUCCESS_RATE]))


def test_a_namespace_template_places_each_region_in_its_own_namespace() -> None:
    namespace = TARGET.fill("{env}-{region}")
    documents = [
        yaml.safe_load(k8s.render_rollout(TARGET, "reg/shop", DIGEST, 1, [], 8080, namespace=namespace)),
        yaml.safe_load(k8s.render_service(TARGET, 8080, namespace)),
        yaml.safe_load(k8s.render_config_map(TARGET, "sqlite:///x.db", {}, namespace)),
    ]

    assert {document["metadata"]["namespace"] for document in documents} == {"prod-eu-west-1"}
