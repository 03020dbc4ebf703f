"""Reading a SecretRef at the moment it is needed; the value never lands in config objects or logs."""

from __future__ import annotations

import os
from pathlib import Path

from rollwright.config.models import SecretRef, VersionStoreConfig
from rollwright.observability.logging import register_secret


class SecretUnavailableError(RuntimeError):
    """A configured secret's env var is unset or its file is unreadable."""


def read_secret(ref: SecretRef) -> str:
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if value is None:
            raise SecretUnavailableError(f"environment variable {ref.env} is not set")
        return value
    assert ref.file is not None
    path = Path(ref.file).expanduser()
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise SecretUnavailableError(f"cannot read secret file {path}: {exc.strerror}") from exc


def version_store_url(config: VersionStoreConfig) -> str:
    """The store's URL; one kept as a secret is registered so it never reaches a log line."""
    if isinstance(config.url, str):
        return config.url
    url = read_secret(config.url)
    register_secret(url)
    return url
