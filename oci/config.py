"""The registry client's knobs as explicit objects: timeouts, retry budget, credentials, plain-HTTP hosts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from deployconfig.models import RegistryConfig
from deployconfig.secrets import read_secret
from observability.logging import register_secret

# Registries reached without TLS regardless of config: a registry on this machine never has a certificate.
_ALWAYS_PLAIN_HTTP = ("127.0.0.1", "localhost", "[::1]")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Timeouts(_Frozen):
    connect: float = Field(default=5.0, gt=0)
    read: float = Field(default=30.0, gt=0)
    write: float = Field(default=30.0, gt=0)
    pool: float = Field(default=5.0, gt=0)


class RetryPolicy(_Frozen):
    """Bounded retries for transient failures (5xx, 429, timeouts, refused connections)."""

    max_attempts: int = Field(default=3, ge=1)
    initial_backoff: float = Field(default=0.2, ge=0)
    max_backoff: float = Field(default=2.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failure (1-based)."""
        return float(min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1)))


class BasicCredentials(_Frozen):
    username: str
    password: SecretStr


class RegistryClientConfig(_Frozen):
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
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

    @classmethod
    def from_settings(cls, settings: RegistryConfig) -> RegistryClientConfig:
        """Build from the config file's `registry:` section, reading each password from its secret source."""
        credentials: dict[str, BasicCredentials] = {}
        for entry in settings.credentials:
            password = read_secret(entry.password)
            register_secret(password)
            credentials[entry.host] = BasicCredentials(username=entry.username, password=SecretStr(password))
        seconds = settings.timeout.total_seconds()
        return cls(
            timeouts=Timeouts(connect=min(seconds, 5.0), read=seconds, write=seconds, pool=min(seconds, 5.0)),
            credentials=credentials,
            insecure_hosts=frozenset(settings.insecure_hosts),
        )
