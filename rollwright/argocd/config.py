"""How the client reaches Argo CD: address, auth, TLS, timeouts and connection retries, all explicit objects."""

from __future__ import annotations

from pydantic import Field, SecretStr

from rollwright.http_settings import ConnectRetries as ConnectRetries  # the client's public surface re-exports it
from rollwright.http_settings import FrozenSettings
from rollwright.http_settings import Timeouts as Timeouts  # likewise


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
