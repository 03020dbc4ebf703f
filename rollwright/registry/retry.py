"""One HTTP exchange with the retry budget applied: transient failures are retried, the rest returned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from rollwright.observability.logging import get_logger
from rollwright.registry.config import RetryPolicy
from rollwright.registry.errors import RegistryUnavailableError

log = get_logger(__name__)


def is_transient(status: int) -> bool:
    return status >= 500 or status == 429


async def send_with_retry(
    http: httpx.AsyncClient,
    build: Callable[[], httpx.Request],
    policy: RetryPolicy,
    *,
    stream: bool = False,
) -> httpx.Response:
    """Send `build()` until it gets a non-transient answer or the attempts run out.

    The request is rebuilt per attempt so a consumed body is never resent half-read.
    """
    for attempt in range(1, policy.max_attempts + 1):
        request = build()
        try:
            response = await http.send(request, stream=stream)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            problem = f"{type(exc).__name__}: {exc or 'no detail'}"
        else:
            if not is_transient(response.status_code):
                return response
            problem = f"HTTP {response.status_code}"
            await response.aclose()
        if attempt < policy.max_attempts:
            delay = policy.backoff(attempt)
            log.info("registry_retry", method=request.method, url=str(request.url), problem=problem, delay=delay)
            await asyncio.sleep(delay)
    raise RegistryUnavailableError(
        f"{request.method} {request.url} failed after {policy.max_attempts} attempt(s): {problem}"
    )
