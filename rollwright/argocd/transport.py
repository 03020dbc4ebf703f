"""One HTTP exchange with Argo CD, sent once: bearer auth, errors by kind.

A 5xx, 429, timeout or lost connection is ArgoCDUnavailableError at once. Whether to try again is the caller's
choice: the follower rides out a short outage within its stated budget, everything else is Temporal's to retry.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from rollwright.argocd.config import ArgoCDClientConfig
from rollwright.argocd.errors import (
    ArgoCDAuthError,
    ArgoCDError,
    ArgoCDNotFoundError,
    ArgoCDPermissionError,
    ArgoCDRequestError,
    ArgoCDResponseError,
    ArgoCDUnavailableError,
    OperationInProgressError,
)

# util/argo/argo.go: the FailedPrecondition text a sync gets while another operation runs.
OPERATION_IN_PROGRESS = "another operation is already in progress"


def _verify(config: ArgoCDClientConfig) -> bool | ssl.SSLContext:
    if not config.tls.verify:
        return False
    if config.tls.ca_file:
        return ssl.create_default_context(cafile=config.tls.ca_file)
    return True


def build_http_client(config: ArgoCDClientConfig) -> httpx.AsyncClient:
    headers = {"User-Agent": config.user_agent, "Accept": "application/json"}
    if config.token is not None:
        headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
    return httpx.AsyncClient(
        base_url=config.server.rstrip("/"),
        headers=headers,
        timeout=config.timeouts.for_httpx(),
        transport=config.connect_retries.transport(verify=_verify(config)),
    )


def _error_text(response: httpx.Response) -> str:
    """Argo CD's runtimeError `message`, or the raw body when the answer is not JSON (a proxy, say)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:500]
    return str(body)[:300]


def error_for(response: httpx.Response, what: str) -> ArgoCDError:
    status = response.status_code
    text = _error_text(response)
    if status == 401:
        return ArgoCDAuthError(f"{what}: Argo CD rejected the token (401: {text}); check argocd.token", status=status)
    if status == 403:
        return ArgoCDPermissionError(
            f"{what}: permission denied (403: {text}); the token lacks RBAC for this, "
            "or the application does not exist (Argo CD answers 403 for apps it will not show)",
            status=status,
        )
    if status == 404:
        return ArgoCDNotFoundError(f"{what}: not found (404: {text})", status=status)
    if status == 400 and OPERATION_IN_PROGRESS in text:
        return OperationInProgressError(f"{what}: {text}", status=status)
    if status >= 500 or status == 429:
        return ArgoCDUnavailableError(f"{what}: Argo CD answered {status}: {text}", status=status)
    return ArgoCDRequestError(f"{what}: Argo CD refused the request ({status}: {text})", status=status)


async def send(
    http: httpx.AsyncClient,
    config: ArgoCDClientConfig,
    method: str,
    path: str,
    *,
    what: str,
    params: dict[str, str] | None = None,
    json: Any = None,
) -> Any:
    """Send a request once and return its JSON body; any failure raises its kind of ArgoCDError."""
    try:
        response = await http.request(method, path, params=params, json=json)
    except httpx.TransportError as exc:  # timeouts are transport errors too
        raise ArgoCDUnavailableError(f"{what}: cannot reach Argo CD at {config.server}: {exc!r}") from exc
    if not response.is_success:
        raise error_for(response, what)
    try:
        return response.json() if response.content else {}
    except ValueError as exc:
        raise ArgoCDResponseError(f"{what}: answer is not JSON: {response.text[:200]!r}") from exc
