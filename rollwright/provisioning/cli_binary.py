"""Where the real `pulumi` CLI lives (at exactly the `pulumi` Python package's version) and the environment
that keeps it offline.

tools/ensure-tools.sh builds the CLI from Go modules at exactly the version of the installed `pulumi`
Python package and caches it by version; a `pulumi` on PATH with that version is used as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

DYNAMIC_PROVIDER_LAUNCHER = "pulumi-resource-pulumi-python"
# The engine runs Python policy packs through this plugin; found without a warning only under PULUMI_HOME/plugins.
POLICY_PLUGIN = "analyzer-policy-python-v0.0.1"
POLICY_LAUNCHER = "pulumi-analyzer-policy-python"


class PulumiCliMissingError(RuntimeError):
    """No `pulumi` CLI of the required version: the tools script has not run."""


def required_version() -> str:
    return version("pulumi")


def cache_root() -> Path:
    return Path(os.environ.get("ROLLWRIGHT_CACHE", Path.home() / ".cache" / "rollwright"))


def cached_bin_dir(pulumi_version: str | None = None) -> Path:
    return cache_root() / "pulumi" / f"v{pulumi_version or required_version()}" / "bin"


def _cli_version(binary: Path) -> str | None:
    try:
        out = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().removeprefix("v")


def pulumi_bin_dir() -> Path:
    """A directory holding `pulumi` at the required version and the dynamic-provider launcher."""
    wanted = required_version()
    cached = cached_bin_dir(wanted)
    if (cached / "pulumi").exists() and (cached / DYNAMIC_PROVIDER_LAUNCHER).exists():
        return cached
    on_path = shutil.which("pulumi")
    if on_path and _cli_version(Path(on_path)) == wanted:
        launcher_dir = cache_root() / "pulumi" / f"v{wanted}" / "launcher"
        write_dynamic_provider_launcher(launcher_dir)
        return Path(on_path).parent
    raise PulumiCliMissingError(f"pulumi CLI v{wanted} not found: run `make tools` to build and cache it")


def policy_plugin_dir(pulumi_version: str | None = None) -> Path:
    """The policy-pack launcher's plugin directory, written by tools/ensure-tools.sh beside the cached CLI."""
    plugin = cache_root() / "pulumi" / f"v{pulumi_version or required_version()}" / "plugins" / POLICY_PLUGIN
    if not (plugin / POLICY_LAUNCHER).exists():
        raise PulumiCliMissingError(f"the policy-pack launcher is missing from {plugin}: run `make tools`")
    return plugin


def install_policy_plugin(pulumi_home: Path, source: Path) -> None:
    """Copy the policy-pack launcher into a PULUMI_HOME (each worker has its own), unless it is there already."""
    launcher = source / POLICY_LAUNCHER
    installed = pulumi_home / "plugins" / POLICY_PLUGIN / POLICY_LAUNCHER
    text = launcher.read_text()
    if installed.exists() and installed.read_text() == text:
        return
    installed.parent.mkdir(parents=True, exist_ok=True)
    scratch = installed.with_name(f".{POLICY_LAUNCHER}.tmp")
    scratch.write_text(text)
    scratch.chmod(0o755)
    # Renamed into place: a concurrent run on the same PULUMI_HOME sees the old launcher or the new, never half.
    scratch.replace(installed)


def write_dynamic_provider_launcher(directory: Path, python: str | None = None) -> Path:
    """Our `pulumi-resource-pulumi-python`: runs Python dynamic providers with this environment's Python."""
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / DYNAMIC_PROVIDER_LAUNCHER
    interpreter = python or sys.executable
    launcher.write_text(f'#!/bin/sh\nexec "${{PULUMI_PYTHON_CMD:-{interpreter}}}" -u -m pulumi.dynamic "$@"\n')
    launcher.chmod(0o755)
    return launcher
