"""The control API: Rollwright's controls over HTTP, each call authenticated by a bearer JWT from the configured
OIDC issuer and allowed by the roles its groups hold (routes.py, auth.py, roles.py)."""

from rollwright.api.app import control_router

__all__ = ["control_router"]
