"""Posting to a Slack-compatible incoming webhook, once per call. Knows nothing of Temporal.

The message is sent once: a 5xx, 429, timeout or lost connection is NotifyUnavailableError at once, for the
caller's retry policy (the notify activity leaves it to Temporal). Only connecting is retried, by the transport.
"""

from __future__ import annotations

from types import TracebackType

import httpx

from rollwright.http_settings import ConnectRetries, FrozenSettings, Timeouts
from rollwright.notify.errors import NotifyRejectedError, NotifyUnavailableError
from rollwright.notify.message import SlackMessage


class NotifySettings(FrozenSettings):
    timeouts: Timeouts = Timeouts(read=5.0, write=5.0)
    connect_retries: ConnectRetries = ConnectRetries()


def _transient(status: int) -> bool:
    return status == 429 or status >= 500


class SlackWebhookClient:
    """`async with SlackWebhookClient(url) as slack: await slack.post(message)`."""

    def __init__(
        self, url: str, settings: NotifySettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._url = url
        self._settings = settings or NotifySettings()
        self._http = httpx.AsyncClient(
            timeout=self._settings.timeouts.for_httpx(),
            transport=transport or self._settings.connect_retries.transport(),
        )

    async def __aenter__(self) -> SlackWebhookClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def post(self, message: SlackMessage) -> None:
        """Deliver once; raise NotifyRejectedError on a 4xx (not 429), NotifyUnavailableError when it may pass later."""
        try:
            response = await self._http.post(self._url, json=message.model_dump())
        except httpx.HTTPError as exc:
            # The message of a transport error may quote the URL, which is a secret: keep only the class,
            # and no chained cause that would carry it.
            raise NotifyUnavailableError(type(exc).__name__) from None
        if response.is_success:
            return
        if _transient(response.status_code):
            raise NotifyUnavailableError(f"HTTP {response.status_code}")
        raise NotifyRejectedError(response.status_code, response.text[:200])
