"""The rendered Kubernetes objects: pinned image, canary steps, environment labels."""

from __future__ import annotations

import yaml

from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryStep
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
