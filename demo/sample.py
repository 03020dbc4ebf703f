"""The demo's one config file: a sample service with staging (one region) and prod (three regions in two
waves, approval required)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SERVICE = "checkout-api"
REPOSITORY = "shop/checkout-api"
STAGING_REGIONS = ["local-a"]
PROD_WAVES = [["us-east-1"], ["eu-west-1", "ap-south-1"]]
ALL_REGIONS = [("staging", r) for r in STAGING_REGIONS] + [("prod", r) for wave in PROD_WAVES for r in wave]

ARGOCD_TOKEN_ENV = "ROLLWRIGHT_DEMO_ARGOCD_TOKEN"
REGISTRY_TOKEN_ENV = "ROLLWRIGHT_DEMO_REGISTRY_TOKEN"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
NOTIFY_URL_ENV = "ROLLWRIGHT_DEMO_NOTIFY_URL"


@dataclass(frozen=True)
class DemoPorts:
    temporal: int
    webhook: int


def demo_config(
    *, workdir: Path, registry_host: str, argocd_url: str, ports: DemoPorts, task_queue: str
) -> dict[str, Any]:
    return {
        "services": [
            {
                "name": SERVICE,
                "image": f"{registry_host}/{REPOSITORY}",
                "tags": r"^v\d+\.\d+\.\d+$",
                "pulumi": {"program": "rollwright.stacks.web_service:program", "config": {"replicas": 2}},
                "canary": {
                    "steps": [{"weight": 20, "pause": "20s"}, {"weight": 50, "pause": "20s"}],
                    "progress_deadline": "3m",
                },
                "environments": [
                    {"name": "staging", "waves": [STAGING_REGIONS]},
                    {
                        "name": "prod",
                        "waves": PROD_WAVES,
                        "bake": "5s",
                        "approval": "required",
                        "approval_timeout": "30m",
                        "config": {"replicas": 3},
                    },
                ],
            }
        ],
        "temporal": {
            "address": f"127.0.0.1:{ports.temporal}",
            "task_queue": task_queue,
            "pulumi_task_queue": f"{task_queue}-pulumi",
        },
        "argocd": {"server": argocd_url, "token": {"env": ARGOCD_TOKEN_ENV}, "timeout": "5s", "poll_interval": "500ms"},
        "gitops": {"repo": str(workdir / "gitops.git"), "branch": "main"},
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
