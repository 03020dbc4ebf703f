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


def write_dynamic_provider_launcher(directory: Path, python: str | None = None) -> Path:
    """Our `pulumi-resource-pulumi-python`: runs Python dynamic providers with this environment's Python."""
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / DYNAMIC_PROVIDER_LAUNCHER
    interpreter = python or sys.executable
    launcher.write_text(f'#!/bin/sh\nexec "${{PULUMI_PYTHON_CMD:-{interpreter}}}" -u -m pulumi.dynamic "$@"\n')
    launcher.chmod(0o755)
    return launcher
