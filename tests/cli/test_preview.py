"""`rollwright preview`: a real `pulumi preview` of each region, run by the workers (PreviewWorkflow), for a tag
resolved against a real registry. The CLI's own config carries no Pulumi backend or passphrase."""

from __future__ import annotations

import asyncio
import io
import json
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from devstack.images import push_image
from rollwright.cli.main import main
from rollwright.config.loader import load_config
from tests.conftest import RegistryFactory
from worker import Role, build_workers

CHECK = {"name": "ready", "provider": "web", "url": "http://127.0.0.1:9/ready", "success_condition": "result == true"}


async def _rollwright(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(main, list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_preview_shows_what_a_version_would_create(
    temporal_env: WorkflowEnvironment,
    registry_factory: RegistryFactory,
    pulumi_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", f"{pulumi_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("RW_TEST_PREVIEW_PASSPHRASE", "preview passphrase")
    queue = f"preview-{uuid.uuid4().hex[:8]}"
    async with registry_factory() as registry:
        digest = await push_image(registry.url, "shop/api", "v1.0.0", seed="preview")
        shared: dict[str, Any] = {
            "services": [
                {
                    "name": "api",
                    "image": f"{registry.host}/shop/api",
                    "pulumi": {"config": {"replicas": 2}},
                    "canary": {"steps": [{"weight": 50, "pause": "30s"}], "checks": [CHECK]},
                    "environments": [
                        {"name": "staging", "waves": [["local-a"]]},
                        {"name": "prod", "waves": [["us-east", "eu-west"]]},
                    ],
                },
                # Production without a measured canary: the built-in pack refuses it.
                {
                    "name": "thin",
                    "image": f"{registry.host}/shop/api",
                    "environments": [{"name": "prod", "waves": [["us-east"]]}],
                },
            ],
            "gitops": {"repo": "file:///nonexistent/gitops.git"},
            "registry": {"insecure_hosts": [registry.host]},
            "temporal": {
                "address": temporal_env.client.service_client.config.target_host,
                "task_queue": queue,
                "pulumi_task_queue": f"{queue}-pulumi",
            },
            "version_store": {"url": f"sqlite:///{tmp_path / 'versions.db'}"},
        }
        workers_config = {
            **shared,
            "pulumi": {
                "backend_url": f"file://{tmp_path / 'state'}",
                "work_root": str(tmp_path / "work"),
                "passphrase": {"env": "RW_TEST_PREVIEW_PASSPHRASE"},
            },
        }
        (tmp_path / "workers.yaml").write_text(yaml.safe_dump(workers_config))
        laptop = str(tmp_path / "laptop.yaml")
        Path(laptop).write_text(yaml.safe_dump(shared))
        config = load_config(tmp_path / "workers.yaml")
        workers = build_workers(temporal_env.client, config, Role.ALL, timedelta(seconds=5))
        runs = [asyncio.create_task(worker.run()) for worker in workers]
        try:
            code, out, err = await _rollwright("--config", laptop, "preview", "api", "prod", "v1.0.0", "--json")
            missing = await _rollwright("--config", laptop, "preview", "api", "prod", "v9.9.9")
            no_env = await _rollwright("--config", laptop, "preview", "api", "qa", "v1.0.0")
            thin = await _rollwright("--config", laptop, "preview", "thin", "prod", "v1.0.0")
        finally:
            await asyncio.gather(*(worker.shutdown() for worker in workers))
            await asyncio.gather(*runs, return_exceptions=True)

    assert code == 0, err
    preview = json.loads(out)
    assert preview["digest"] == digest
    assert [region["target"]["region"] for region in preview["regions"]] == ["us-east", "eu-west"]
    for region in preview["regions"]:
        assert region["error"] is None, region
        changes = region["result"]["changes"]
        assert changes, region
        assert {change["op"] for change in changes} == {"create"}
        assert f"api-prod-{region['target']['region']}" in region["result"]["markdown"]
    # A preview renders nothing into the GitOps working copy, and only the workers' backend was used.
    assert [p for p in (tmp_path / "work" / "stacks").rglob("*") if p.is_file() and "gitops" in p.parts] == []
    assert missing[0] == 1
    assert missing[2].startswith(f"rollwright: cannot resolve {registry.host}/shop/api:v9.9.9")
    assert no_env[0] == 2
    assert "has no environment 'qa' (configured: staging, prod)" in no_env[2]
    assert thin[0] == 1
    assert thin[2].startswith("rollwright: thin/prod/us-east: refused by policy: ")
    assert "[rollwright-guardrails/production-rollouts, mandatory] rollout:" in thin[2]
    assert "runs 1 replica(s); production needs at least 2" in thin[2]
