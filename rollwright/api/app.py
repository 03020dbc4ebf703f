"""Building the control API's routes from the config, for the HTTP service that serves the webhook receiver."""

from __future__ import annotations

from fastapi import APIRouter
from temporalio.client import Client

from rollwright.api.auth import Jwks, TokenVerifier
from rollwright.api.routes import ControlApi
from rollwright.config.models import RollwrightConfig
from rollwright.observability.logging import register_secret
from rollwright.secrets import read_secret


def control_router(config: RollwrightConfig, client: Client, jwks: Jwks | None = None) -> APIRouter | None:
    """The routes, or None when `api` configures no issuer (the service then serves webhooks only).

    Reads api.control_key at once: SecretUnavailableError names what is missing before the service starts.
    """
    api = config.api
    if api.issuer is None or api.audience is None or api.jwks_url is None or api.control_key is None:
        return None
    key = read_secret(api.control_key)
    register_secret(key)
    verifier = TokenVerifier(
        issuer=api.issuer,
        audience=api.audience,
        roles_claim=api.roles_claim,
        leeway=api.leeway,
        jwks=jwks or Jwks(api.jwks_url),
    )
    return ControlApi(config, client, key.encode(), verifier).router()
