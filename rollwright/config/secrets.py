"""The version store's URL, which may be kept as a secret when it carries a password."""

from __future__ import annotations

from rollwright.config.models import VersionStoreConfig
from rollwright.observability.logging import register_secret
from rollwright.secrets import read_secret


def version_store_url(config: VersionStoreConfig) -> str:
    """The store's URL; one kept as a secret is registered so it never reaches a log line."""
    if isinstance(config.url, str):
        return config.url
    url = read_secret(config.url)
    register_secret(url)
    return url
