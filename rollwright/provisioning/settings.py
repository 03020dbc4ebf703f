"""How the runner reaches Pulumi: backend, work dirs, passphrase, binaries, offline environment, cancel grace."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from rollwright.observability.logging import register_secret
from rollwright.provisioning.cli_binary import PulumiCliMissingError, install_policy_plugin, policy_plugin_dir
from rollwright.provisioning.errors import PulumiSetupError
from rollwright.secrets import SecretRef, SecretUnavailableError, read_secret
from rollwright.stacks.inputs import PROJECT_NAME

# Where `rollwright` and the configured programs import from (the checkout, or site-packages when installed), in
# the child and in the dynamic-provider processes the engine starts (dill pickles provider classes by module).
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def expand_file_url(url: str) -> str:
    """A `file://` backend URL with `~` and relative parts resolved; any other URL as it is."""
    if not url.startswith("file://"):
        return url
    return "file://" + str(Path(url.removeprefix("file://")).expanduser().resolve())


class RunnerSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    backend_url: str
    work_root: Path
    passphrase: SecretRef
    bin_dirs: list[Path] = Field(default_factory=list, description="put first on PATH: pulumi and its launcher")
    python: str = sys.executable
    policy_plugin: Path | None = Field(
        default=None, description="the policy-pack launcher's plugin directory; None: the one cached beside the CLI"
    )
    policy_packs: list[Path] = Field(default_factory=list, description="the teams' own packs, after the built-in one")
    python_path: list[Path] = Field(default_factory=lambda: [_PROJECT_ROOT])
    project: str = PROJECT_NAME
    cancel_grace: timedelta = timedelta(seconds=10)

    @property
    def backend_dir(self) -> Path | None:
        """The state directory of a file backend; None for any other backend."""
        if not self.backend_url.startswith("file://"):
            return None
        return Path(self.backend_url.removeprefix("file://"))

    @property
    def pulumi_home(self) -> Path:
        return self.work_root / ".pulumi-home"

    def stack_dir(self, stack: str) -> Path:
        return self.work_root / "stacks" / stack

    def environment(self) -> dict[str, str]:
        """The child's environment: offline, this worker's PULUMI_HOME, our binaries first on PATH."""
        try:
            passphrase = read_secret(self.passphrase)
        except SecretUnavailableError as exc:
            raise PulumiSetupError(f"Pulumi passphrase unavailable: {exc}") from exc
        register_secret(passphrase)
        backend_dir = self.backend_dir
        if backend_dir is not None:
            backend_dir.mkdir(parents=True, exist_ok=True)
        self.pulumi_home.mkdir(parents=True, exist_ok=True)
        try:
            install_policy_plugin(self.pulumi_home, self.policy_plugin or policy_plugin_dir())
        except PulumiCliMissingError as exc:
            raise PulumiSetupError(str(exc)) from exc
        path = os.pathsep.join([*(str(d) for d in self.bin_dirs), os.environ.get("PATH", "")])
        python_path = os.pathsep.join(
            [*(str(p) for p in self.python_path), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        return {
            **os.environ,
            "PATH": path,
            "PYTHONPATH": python_path,
            "PULUMI_BACKEND_URL": self.backend_url,
            "PULUMI_CONFIG_PASSPHRASE": passphrase,
            "PULUMI_HOME": str(self.pulumi_home),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_PYTHON_CMD": self.python,
            # A stack dir recreated on another worker has no salt file; reuse the state's secrets manager.
            "PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER": "true",
        }
