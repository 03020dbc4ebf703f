"""One HTTP exchange with a registry, sent once: a transient failure is RegistryUnavailableError at once.

Retrying it is not this client's job: the activity maps RegistryUnavailableError to a retryable failure and
Temporal's retry policy decides when to try again. Only connecting is retried, by the transport.
"""

from __future__ import annotations

import httpx

from rollwright.registry.errors import RegistryUnavailableError


def is_transient(status: int) -> bool:
    return status >= 500 or status == 429


async def send_once(http: httpx.AsyncClient, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
    """The registry's answer, unless it is a 5xx or 429 or never came (timeout, no connection)."""
    try:
        response = await http.send(request, stream=stream)
    except httpx.TransportError as exc:  # timeouts are transport errors too
        raise RegistryUnavailableError(
            f"{request.method} {request.url}: {type(exc).__name__}: {exc or 'no detail'}"
        ) from exc
    if is_transient(response.status_code):
        await response.aclose()
        retry_after = response.headers.get("retry-after")
        hint = f" (Retry-After: {retry_after})" if retry_after else ""
        raise RegistryUnavailableError(f"{request.method} {request.url}: HTTP {response.status_code}{hint}")
    return response
