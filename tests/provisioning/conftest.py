"""A Pulumi runner on the real CLI with a file backend under the test's temporary directory."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from rollwright.provisioning.provisioner import Provisioner
from rollwright.provisioning.settings import RunnerSettings
from rollwright.secrets import SecretRef

PASSPHRASE_ENV = "ROLLWRIGHT_TEST_PULUMI_PASSPHRASE"


@pytest.fixture(scope="session")
def pulumi_bin_dirs(pulumi_dir: Path) -> list[Path]:
    return [pulumi_dir]


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
