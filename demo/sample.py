"""The demo's one config file: a sample service with staging (one region) and prod (three regions in two
waves, approval required), handed off to the local cluster's real Argo CD, each canary judged by the real Argo
Rollouts controller on a success rate measured by a real Prometheus."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SERVICE = "checkout-api"
REPOSITORY = "shop/checkout-api"
STAGING_REGIONS = ["local-a"]
PROD_WAVES = [["us-east-1"], ["eu-west-1", "ap-south-1"]]
# Each environment is a lane: prod takes a version once staging runs it healthy (the default rule).
LANES = ["staging", "prod"]
ALL_REGIONS = [("staging", r) for r in STAGING_REGIONS] + [("prod", r) for wave in PROD_WAVES for r in wave]
# One fake node per region in the local cluster, and one namespace per environment and region.
CLUSTER_REGIONS = tuple(dict.fromkeys(region for _, region in ALL_REGIONS))
NAMESPACE = "{env}-{region}"

# Short, so both versions get through four regions in a few minutes, yet each canary runs long enough (over 10 s
# from its first pause on) for its background analysis to measure it at 4, 6, 8 and 10 s.
CANARY_STEPS = [{"weight": 25, "pause": "5s"}, {"weight": 50, "pause": "5s"}]
CHECK_NAME = "success-rate"
# The canary's own answers over the last 10 s (Prometheus scrapes every second). 0/0 (nothing counted yet, as when
# the canary's pods turned ready just now) is no verdict, so it cannot fail a healthy version. So the first
# measurement waits 4 s: counting starts seconds after the pods turn ready on a loaded machine, and a rate needs two
# scrapes; with 3 s pauses and measurements from 2 s on, every one read 0/0 and a failing v1.1.0 passed.
# failure_limit 0: the first bad measurement aborts the canary.
SUCCESS_RATE = {
    "name": CHECK_NAME,
    # The pod-template hash is the region's own: the template carries the region's labels.
    "query": (
        'sum(rate(http_requests_total{service="{{args.service}}",pod_template_hash="{{args.canary-hash}}",'
        'code!~"5.."}[10s])) / sum(rate(http_requests_total{service="{{args.service}}",'
        'pod_template_hash="{{args.canary-hash}}"}[10s]))'
    ),
    "success_condition": "isNaN(result[0]) || result[0] >= 0.95",
    "interval": "2s",
    "count": 4,
    "failure_limit": 0,
    "initial_delay": "4s",
}
# What v1.1.0's users in prod's second wave get: 20% of their requests answered with 5xx.
FAILING_ERROR_RATIO = 0.2

# Rollwright's own check of every live region, during prod's bake and through the watch after the last wave: the
# region's 5xx ratio over the last 10 s, and (while some regions are still on the previous version) no more than 2
# points above theirs.
WATCH_CHECK_NAME = "error-ratio"
ERROR_RATIO = {
    "name": WATCH_CHECK_NAME,
    "query": (
        'sum(rate(http_requests_total{service="{{service}}",namespace="{{environment}}-{{region}}",code=~"5.."}[10s]))'
        ' / sum(rate(http_requests_total{service="{{service}}",namespace="{{environment}}-{{region}}"}[10s]))'
    ),
    "success_condition": "result <= 0.05",
    "compare_to_baseline": {"max_degradation": 0.02},
}
CHECK_INTERVAL = "2s"
WATCH_SECONDS = 30
# When the version of the third act starts failing for every user: this long into its watch.
TURNS_BAD_AFTER_SECONDS = 10

ARGOCD_TOKEN_ENV = "ROLLWRIGHT_DEMO_ARGOCD_TOKEN"
REGISTRY_TOKEN_ENV = "ROLLWRIGHT_DEMO_REGISTRY_TOKEN"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
NOTIFY_URL_ENV = "ROLLWRIGHT_DEMO_NOTIFY_URL"


@dataclass(frozen=True)
class DemoPorts:
    temporal: int
    webhook: int


@dataclass(frozen=True)
class DemoMetrics:
    """The Prometheus every region's canary is measured by, and the one of prod's second wave, whose users are
    measured apart (as a region with monitoring of its own), so a version can fail there alone."""

    prometheus: str
    wave_two_prometheus: str


def demo_config(
    *, workdir: Path, registry_host: str, argocd_url: str, metrics: DemoMetrics, ports: DemoPorts, task_queue: str
) -> dict[str, Any]:
    gitops = workdir / "gitops.git"
    return {
        "services": [
            {
                "name": SERVICE,
                "image": f"{registry_host}/{REPOSITORY}",
                "tags": r"^v\d+\.\d+\.\d+$",
                "pulumi": {"program": "rollwright.stacks.web_service:program", "config": {"replicas": 2}},
                "canary": {"steps": CANARY_STEPS, "progress_deadline": "2m", "checks": [SUCCESS_RATE]},
                # A region just made live has no rate yet: the first round waits for two scrapes and more.
                "verification": {"checks": [ERROR_RATIO], "interval": CHECK_INTERVAL, "initial_delay": "5s"},
                "environments": [
                    {"name": "staging", "waves": [STAGING_REGIONS], "prometheus": metrics.prometheus},
                    {
                        "name": "prod",
                        "waves": PROD_WAVES,
                        "bake": "8s",
                        "approval": "required",
                        "approval_timeout": "30m",
                        "config": {"replicas": 3},
                        "prometheus": metrics.prometheus,
                        "region_prometheus": dict.fromkeys(PROD_WAVES[1], metrics.wave_two_prometheus),
                        "verification": {"watch": f"{WATCH_SECONDS}s"},
                    },
                ],
            }
        ],
        "temporal": {
            "address": f"127.0.0.1:{ports.temporal}",
            "task_queue": task_queue,
            "pulumi_task_queue": f"{task_queue}-pulumi",
        },
        "argocd": {
            "server": argocd_url,
            "token": {"env": ARGOCD_TOKEN_ENV},
            "poll_interval": "500ms",
            "namespace": NAMESPACE,
            "manage_applications": True,
            "repo_url": f"file://{gitops}",
        },
        "gitops": {"repo": str(gitops), "branch": "main"},
        "registry": {"insecure_hosts": [registry_host]},
        "version_store": {"url": f"sqlite:///{workdir / 'versions.db'}"},
        "pulumi": {
            "backend_url": f"file://{workdir / 'pulumi-state'}",
            "work_root": str(workdir / "pulumi-work"),
            "passphrase": {"env": PASSPHRASE_ENV},
            "max_concurrent_operations": 2,
        },
        "notify": {"webhook_url": {"env": NOTIFY_URL_ENV}},
        "webhooks": {
            "listen": f"127.0.0.1:{ports.webhook}",
            "sources": {"distribution": {"token": {"env": REGISTRY_TOKEN_ENV}}},
        },
    }


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
