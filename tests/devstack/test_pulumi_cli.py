"""The real pulumi CLI, at the Python package's version, runs an inline program with a Python dynamic
resource against a local file backend."""

from __future__ import annotations

import asyncio
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto
from pulumi.dynamic import CreateResult, Resource, ResourceProvider

from rollwright.provisioning.settings import RunnerSettings
from rollwright.secrets import SecretRef


class GreetingFileProvider(ResourceProvider):
    """Writes a real file, so the test sees the provider ran in its own process."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        Path(props["path"]).write_text(props["text"])
        return CreateResult(id_=props["path"], outs={**props, "length": len(props["text"])})


class GreetingFile(Resource):
    length: pulumi.Output[int]

    def __init__(self, name: str, path: str, text: str) -> None:
        super().__init__(GreetingFileProvider(), name, {"path": path, "text": text, "length": None})


def test_cli_version_matches_python_package(pulumi_dir: Path) -> None:
    out = subprocess.run([str(pulumi_dir / "pulumi"), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"v{version('pulumi')}"


async def test_inline_program_with_dynamic_resource(
    tmp_path: Path, pulumi_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "greeting.txt"
    backend = tmp_path / "state"
    backend.mkdir()

    def program() -> None:
        greeting = GreetingFile("greeting", str(target), "hello from pulumi")
        pulumi.export("length", greeting.length)

    monkeypatch.setenv("RW_TEST_PULUMI_PASSPHRASE", "test")
    env = RunnerSettings(
        backend_url=f"file://{backend}",
        work_root=tmp_path / "runner",
        passphrase=SecretRef(env="RW_TEST_PULUMI_PASSPHRASE"),
        bin_dirs=[pulumi_dir],
    ).environment()

    def up() -> auto.UpResult:
        stack = auto.create_or_select_stack(
            stack_name="devstack-check",
            project_name="rollwright-devstack",
            program=program,
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(tmp_path / "work"),
                env_vars=env,
                pulumi_command=auto.PulumiCommand(root=str(pulumi_dir.parent)),
            ),
        )
        return stack.up()

    (tmp_path / "work").mkdir()
    result = await asyncio.to_thread(up)
    assert result.summary.result == "succeeded"
    assert result.outputs["length"].value == len("hello from pulumi")
    assert target.read_text() == "hello from pulumi"
