"""How the client reaches Argo CD: address, auth, TLS, timeouts and retries, all explicit objects."""

from __future__ import annotations

from pydantic import Field, SecretStr

from rollwright.config.models import ArgoCDConfig
from rollwright.connections import http
from rollwright.connections.http import FrozenSettings
from rollwright.connections.http import Timeouts as Timeouts  # the client's public surface re-exports it
from rollwright.observability.logging import register_secret
from rollwright.secrets import read_secret


class TLSOptions(FrozenSettings):
    verify: bool = True
    ca_file: str | None = Field(default=None, description="PEM bundle to trust instead of the system store")


class RetryPolicy(http.RetryPolicy):
    """Retries for 5xx answers and connection errors: Argo CD restarts take a few seconds, so more of them."""

    max_attempts: int = Field(default=5, ge=1)
    max_backoff: float = Field(default=3.0, ge=0)


class OperationWait(FrozenSettings):
    """How long a sync waits for an operation already running on the application to finish."""

    interval: float = Field(default=1.0, gt=0)
    timeout: float = Field(default=120.0, gt=0)


class ArgoCDClientConfig(FrozenSettings):
    server: str = Field(description="base URL, e.g. https://argocd.example.com")
    token: SecretStr | None = None
    tls: TLSOptions = TLSOptions()
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    operation_wait: OperationWait = OperationWait()
    user_agent: str = "rollwright"


def client_config_from(config: ArgoCDConfig) -> ArgoCDClientConfig:
    """The client's config from Rollwright's file; reads the token now (raises SecretUnavailableError if absent)."""
    token: SecretStr | None = None
    if config.token is not None:
        value = read_secret(config.token)
        register_secret(value)
        token = SecretStr(value)
    seconds = config.timeout.total_seconds()
    return ArgoCDClientConfig(
        server=config.server,
        token=token,
        tls=TLSOptions(verify=config.verify_tls, ca_file=config.ca_file),
        timeouts=Timeouts(read=seconds, write=seconds),
    )
