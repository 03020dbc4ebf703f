"""CNCF Distribution (`docker-registry`, Debian package) on a free port, optionally with htpasswd auth and
notifications pointed at a webhook."""

from __future__ import annotations

import contextlib
import shutil
import warnings
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devstack.ports import free_port
from devstack.process import http_probe, managed_process

with warnings.catch_warnings():
    # Deprecated in 3.11 but still the stdlib's bcrypt (via libxcrypt); Distribution's htpasswd takes only bcrypt.
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

REGISTRY_BINARY = "docker-registry"


class RegistryUnavailableError(RuntimeError):
    """The docker-registry binary is not installed."""


@dataclass(frozen=True)
class RunningRegistry:
    host: str  # 127.0.0.1:PORT, as it appears in image references
    url: str
    pid: int


def registry_binary() -> str:
    path = shutil.which(REGISTRY_BINARY)
    if path is None and Path("/usr/bin/docker-registry").exists():
        path = "/usr/bin/docker-registry"
    if path is None:
        raise RegistryUnavailableError(
            "docker-registry is not installed: run `make tools` (apt-get install docker-registry)"
        )
    return path


def registry_config(
    *,
    storage: Path,
    port: int,
    notify_url: str | None,
    notify_headers: Mapping[str, str] | None,
    htpasswd_file: Path | None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "rollwright-local-registry"},
    }
    if htpasswd_file is not None:
        config["auth"] = {"htpasswd": {"realm": "rollwright", "path": str(htpasswd_file)}}
    if notify_url is not None:
        config["notifications"] = {
            "endpoints": [
                {
                    "name": "rollwright",
                    "url": notify_url,
                    "headers": {key: [value] for key, value in (notify_headers or {}).items()},
                    "timeout": "2s",
                    "threshold": 3,
                    "backoff": "1s",
                }
            ]
        }
    return config


@contextlib.asynccontextmanager
async def run_registry(
    workdir: Path,
    *,
    notify_url: str | None = None,
    notify_headers: Mapping[str, str] | None = None,
    htpasswd: tuple[str, str] | None = None,
    port: int | None = None,
) -> AsyncIterator[RunningRegistry]:
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    htpasswd_file = None
    if htpasswd is not None:
        user, password = htpasswd
        htpasswd_file = workdir / "htpasswd"
        htpasswd_file.write_text(f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))}\n")
    config_file = workdir / "config.yml"
    config = registry_config(
        storage=workdir / "storage",
        port=port,
        notify_url=notify_url,
        notify_headers=notify_headers,
        htpasswd_file=htpasswd_file,
    )
    config_file.write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{port}"
    probe = http_probe(f"{url}/v2/", accept=(200, 401), timeout=20)
    async with managed_process(
        "docker-registry",
        [registry_binary(), "serve", str(config_file)],
        log_file=workdir / "registry.log",
        probe=probe,
    ) as proc:
        yield RunningRegistry(host=f"127.0.0.1:{port}", url=url, pid=proc.pid)
