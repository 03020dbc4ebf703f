"""How the client reaches Argo CD: address, auth, TLS, timeouts and retries, all explicit objects."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from deployconfig.models import ArgoCDConfig
from deployconfig.secrets import read_secret
from observability.logging import register_secret


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TLSOptions(_Frozen):
    verify: bool = True
    ca_file: str | None = Field(default=None, description="PEM bundle to trust instead of the system store")


class Timeouts(_Frozen):
    connect: float = Field(default=5.0, gt=0)
    read: float = Field(default=10.0, gt=0)
    write: float = Field(default=10.0, gt=0)
    pool: float = Field(default=5.0, gt=0)


class RetryPolicy(_Frozen):
    """Retries for 5xx answers and connection errors; each wait is backoff × multiplier^n, capped."""

    max_attempts: int = Field(default=5, ge=1)
    initial_backoff: float = Field(default=0.2, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    max_backoff: float = Field(default=3.0, ge=0)

    def backoff(self, attempt: int) -> float:
        """Wait before retry number `attempt` (1 = the first retry)."""
        return float(min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1)))


class OperationWait(_Frozen):
    """How long a sync waits for an operation already running on the application to finish."""

    interval: float = Field(default=1.0, gt=0)
    timeout: float = Field(default=120.0, gt=0)


class ArgoCDClientConfig(_Frozen):
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
