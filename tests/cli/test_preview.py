"""`rollwright preview`: a real `pulumi preview` of each region, for a tag resolved against a real registry."""

from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path

import pytest
import yaml

from devstack.images import push_image
from rollwright.cli.main import main
from tests.conftest import RegistryFactory


async def _rollwright(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(main, list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_preview_shows_what_a_version_would_create(
    registry_factory: RegistryFactory, pulumi_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{pulumi_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("RW_TEST_PREVIEW_PASSPHRASE", "preview passphrase")
    async with registry_factory() as registry:
        digest = await push_image(registry.url, "shop/api", "v1.0.0", seed="preview")
        config = {
            "services": [
                {
                    "name": "api",
                    "image": f"{registry.host}/shop/api",
                    "environments": [
                        {"name": "staging", "waves": [["local-a"]]},
                        {"name": "prod", "waves": [["us-east", "eu-west"]]},
                    ],
                }
            ],
            "gitops": {"repo": "file:///nonexistent/gitops.git"},
            "registry": {"insecure_hosts": [registry.host]},
            "pulumi": {
                "backend_url": f"file://{tmp_path / 'state'}",
                "work_root": str(tmp_path / "work"),
                "passphrase": {"env": "RW_TEST_PREVIEW_PASSPHRASE"},
            },
        }
        path = str(tmp_path / "rollwright.yaml")
        Path(path).write_text(yaml.safe_dump(config))
        code, out, err = await _rollwright("--config", path, "preview", "api", "prod", "v1.0.0", "--json")
        missing = await _rollwright("--config", path, "preview", "api", "prod", "v9.9.9")
        no_env = await _rollwright("--config", path, "preview", "api", "qa", "v1.0.0")

    assert code == 0, err
    preview = json.loads(out)
    assert preview["digest"] == digest
    assert [region["target"]["region"] for region in preview["regions"]] == ["us-east", "eu-west"]
    for region in preview["regions"]:
        assert region["changes"], region
        assert {change["op"] for change in region["changes"]} == {"create"}
        assert f"api-prod-{region['target']['region']}" in region["markdown"]
    # A preview renders nothing into the GitOps working copy.
    assert [p for p in (tmp_path / "work" / "stacks").rglob("*") if p.is_file() and "gitops" in p.parts] == []
    assert missing[0] == 1
    assert missing[2].startswith(f"rollwright: cannot resolve {registry.host}/shop/api:v9.9.9")
    assert no_env[0] == 2
    assert "has no environment 'qa' (configured: staging, prod)" in no_env[2]
