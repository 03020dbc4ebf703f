"""How the client reaches Argo CD: address, auth, TLS, timeouts and connection retries, all explicit objects."""

from __future__ import annotations

from pydantic import Field, SecretStr

from rollwright.config.models import ArgoCDConfig
from rollwright.http_settings import ConnectRetries as ConnectRetries  # the client's public surface re-exports it
from rollwright.http_settings import FrozenSettings
from rollwright.http_settings import Timeouts as Timeouts  # likewise
from rollwright.observability.logging import register_secret
from rollwright.secrets import read_secret


class TLSOptions(FrozenSettings):
    verify: bool = True
    ca_file: str | None = Field(default=None, description="PEM bundle to trust instead of the system store")


class ArgoCDClientConfig(FrozenSettings):
    server: str = Field(description="base URL, e.g. https://argocd.example.com")
    token: SecretStr | None = None
    tls: TLSOptions = TLSOptions()
    timeouts: Timeouts = Timeouts()
    connect_retries: ConnectRetries = ConnectRetries()
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
