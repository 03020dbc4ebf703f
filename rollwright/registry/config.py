"""The registry client's knobs as explicit objects: timeouts, connection retries, credentials, plain-HTTP hosts."""

from __future__ import annotations

from pydantic import Field, SecretStr

from rollwright import http_settings
from rollwright.http_settings import ConnectRetries as ConnectRetries  # the client's public surface re-exports it
from rollwright.http_settings import FrozenSettings

# Registries reached without TLS regardless of config: a registry on this machine never has a certificate.
_ALWAYS_PLAIN_HTTP = ("127.0.0.1", "localhost", "[::1]")


class Timeouts(http_settings.Timeouts):
    """Blobs are large: reads and writes get longer than the HTTP default."""

    read: float = Field(default=30.0, gt=0)
    write: float = Field(default=30.0, gt=0)


class BasicCredentials(FrozenSettings):
    username: str
    password: SecretStr


class RegistryClientConfig(FrozenSettings):
    timeouts: Timeouts = Timeouts()
    connect_retries: ConnectRetries = ConnectRetries()
    # Keyed by registry host as written in references (`host:port`).
    credentials: dict[str, BasicCredentials] = Field(default_factory=dict)
    insecure_hosts: frozenset[str] = frozenset()
    # Uploads larger than this go in PATCH chunks rather than one PUT.
    chunk_size: int = Field(default=8 * 1024 * 1024, ge=1024)

    def scheme_for(self, host: str) -> str:
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        plain = host in self.insecure_hosts or hostname in self.insecure_hosts or hostname in _ALWAYS_PLAIN_HTTP
        return "http" if plain else "https"

    def credentials_for(self, host: str) -> BasicCredentials | None:
        return self.credentials.get(host)
