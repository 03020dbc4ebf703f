"""A Pulumi runner on the real CLI with a file backend under the test's temporary directory."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from deployconfig.models import SecretRef
from provisioning.provisioner import Provisioner
from provisioning.settings import RunnerSettings

PASSPHRASE_ENV = "ROLLWRIGHT_TEST_PULUMI_PASSPHRASE"
_BUILT_CLI = Path("/tmp/pb")


def _bin_dirs(scratch: Path) -> list[Path]:
    """Prefer the lead's cached CLI (devstack); else the freshly built one, with our own launcher next to it."""
    try:
        from devstack.pulumi_cli import pulumi_bin_dir

        return [pulumi_bin_dir()]
    except (ImportError, RuntimeError):
        launcher = scratch / "launcher" / "pulumi-resource-pulumi-python"
        launcher.parent.mkdir(parents=True, exist_ok=True)
        launcher.write_text(f'#!/bin/sh\nexec "${{PULUMI_PYTHON_CMD:-{sys.executable}}}" -u -m pulumi.dynamic "$@"\n')
        launcher.chmod(0o755)
        return [_BUILT_CLI, launcher.parent]


@pytest.fixture(scope="session")
def pulumi_bin_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _bin_dirs(tmp_path_factory.mktemp("pulumi-bin"))


def make_settings(root: Path, bin_dirs: list[Path], cancel_grace_seconds: float = 5.0) -> RunnerSettings:
    os.environ[PASSPHRASE_ENV] = "correct horse battery staple"
    return RunnerSettings(
        backend_url=f"file://{root / 'state'}",
        work_root=root / "work",
        passphrase=SecretRef(env=PASSPHRASE_ENV),
        bin_dirs=bin_dirs,
        cancel_grace=timedelta(seconds=cancel_grace_seconds),
    )


@pytest.fixture(scope="module")
def module_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prov")


@pytest.fixture(scope="module")
def runner_settings(module_root: Path, pulumi_bin_dirs: list[Path]) -> RunnerSettings:
    return make_settings(module_root, pulumi_bin_dirs)


@pytest.fixture(scope="module")
def provisioner(runner_settings: RunnerSettings) -> Provisioner:
    return Provisioner(runner_settings)
