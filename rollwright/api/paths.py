"""Where each control lives in the API, shared by the server (routes.py) and the CLI that calls it."""

from __future__ import annotations

from rollwright.control.models import Action

API_PREFIX = "/api/v1"


def path_of(action: Action) -> str:
    return f"{API_PREFIX}/{action.value}"
