"""Posting to a Slack-compatible incoming webhook, with bounded retries. Knows nothing of Temporal."""

from __future__ import annotations

import asyncio
from types import TracebackType

import httpx

from rollwright.connections.http import FrozenSettings, RetryPolicy, Timeouts
from rollwright.notify.errors import NotifyRejectedError, NotifyUnavailableError
from rollwright.notify.message import SlackMessage
from rollwright.observability.logging import get_logger

log = get_logger(__name__)


class NotifySettings(FrozenSettings):
    timeouts: Timeouts = Timeouts(read=5.0, write=5.0)
    retry: RetryPolicy = RetryPolicy(initial_backoff=0.5, max_backoff=5.0)


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class SlackWebhookClient:
    """`async with SlackWebhookClient(url) as slack: await slack.post(message)`."""

    def __init__(
        self, url: str, settings: NotifySettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._url = url
        self._settings = settings or NotifySettings()
        self._http = httpx.AsyncClient(timeout=self._settings.timeouts.for_httpx(), transport=transport)

    async def __aenter__(self) -> SlackWebhookClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def post(self, message: SlackMessage) -> None:
        """Deliver once; raise NotifyRejectedError on a 4xx, NotifyUnavailableError when retries run out."""
        attempts = self._settings.retry.max_attempts
        problem = ""
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http.post(self._url, json=message.model_dump())
            except httpx.HTTPError as exc:
                # The message of a transport error may quote the URL, which is a secret: keep only the class.
                problem = type(exc).__name__
            else:
                if response.is_success:
                    return
                if not _retryable(response.status_code):
                    raise NotifyRejectedError(response.status_code, response.text[:200])
                problem = f"HTTP {response.status_code}"
            log.debug("notification attempt failed", attempt=attempt, problem=problem)
            if attempt < attempts:
                await asyncio.sleep(self._settings.retry.backoff(attempt))
        raise NotifyUnavailableError(attempts, problem)
