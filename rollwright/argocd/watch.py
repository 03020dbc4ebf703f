"""One Argo CD watch stream kept open while a hand-off waits on it: news at once, polling only while it is down.

    async with Watch("tree of api", lambda listening: client.watch_resource_tree(app, on_listening=listening),
                     settings, on_state=report) as watch:
        news = await watch.wait(timeout)   # events since the last look; `stale`: look for yourself

The stream is opened at once and again after every break (an error, or Argo CD ending it), waiting between tries
`first_wait` doubling up to `max_wait`, with jitter. A break is never an error here: the caller polls meanwhile,
and its own reads meet whatever is really wrong (a revoked token, a deleted application) as errors of their kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Generic, TypeVar

from pydantic import Field

from rollwright.argocd.errors import ArgoCDError
from rollwright.http_settings import FrozenSettings
from rollwright.observability.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")

# How long an answer is awaited before the stream counts as up: refusals come at once, and the resource-tree
# stream sends nothing, not even headers, until the tree changes.
_REFUSAL_WINDOW = 0.5

# Opens the stream; the callback is called once the request is out and Argo CD is being listened to.
StreamOpener = Callable[[Callable[[], None]], AsyncIterator[T]]


class StreamSettings(FrozenSettings):
    """How a hand-off follows Argo CD's watch streams, and how it reconnects one that broke."""

    enabled: bool = Field(default=True, description="false: poll every poll_interval, as before streams")
    # A connection that died without a word (no FIN, no keep-alives on these streams), or a proxy that buffers the
    # stream, brings nothing: the state is still read this often while the stream is up.
    recheck: float = Field(default=10.0, gt=0)
    first_wait: float = Field(default=0.5, gt=0)
    max_wait: float = Field(default=10.0, gt=0)


class StreamState(StrEnum):
    OFF = "off, polling"  # streams disabled by settings
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down, polling"


@dataclass
class News(Generic[T]):
    """What a stream brought since the last look, oldest first. `stale`: events may have been missed (the wait timed
    out, or the stream broke or came back), so the caller reads the state for itself."""

    events: list[T] = field(default_factory=list)
    stale: bool = False


class Watch(Generic[T]):
    """`async with` keeps the stream open (None: streams off, `wait` only sleeps); `state` says how it is."""

    def __init__(
        self,
        name: str,
        opener: StreamOpener[T] | None,
        settings: StreamSettings,
        on_state: Callable[[StreamState], None] = lambda _: None,
    ) -> None:
        self._name = name
        self._opener = opener if settings.enabled else None
        self._settings = settings
        self._on_state = on_state
        self.state = StreamState.CONNECTING if self._opener is not None else StreamState.OFF
        self._news: News[T] = News()
        self._arrived = asyncio.Event()
        self._first_try = asyncio.Event()
        self._breaks = 0  # since the last event
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watch[T]:
        if self._opener is not None:
            self._task = asyncio.create_task(self._keep_open(self._opener), name=f"watch {self._name}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def up(self) -> bool:
        return self.state is StreamState.UP

    async def listening(self, timeout: float) -> None:
        """Return once the first try to open the stream has sent its request or failed (at most `timeout`): a read
        made after that misses no change, as the stream reports every later one."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_try.wait(), timeout)

    async def wait(self, timeout: float) -> News[T]:
        """The news since the last look, as soon as there is any, or stale news after `timeout` seconds."""
        if self._task is not None and self._task.done():
            self._task.result()  # a stream that stopped reconnecting is a bug: say so rather than poll for ever
            raise RuntimeError(f"the watch on {self._name} stopped")
        if not self._arrived.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), max(timeout, 0.0))
        news, self._news = self._news, News()
        self._arrived.clear()
        if not news.events:
            news.stale = True
        return news

    def _set(self, state: StreamState, *, stale: bool) -> None:
        if stale:
            self._news.stale = True
            self._arrived.set()
        if state is not self.state:
            self.state = state
            self._on_state(state)

    def _came_up(self, *, resumed: bool) -> None:
        if self.state is StreamState.UP:
            return
        if resumed:
            log.info("argocd stream back", stream=self._name)
        # Every connection but the first starts after a gap whose changes the stream will not repeat.
        self._set(StreamState.UP, stale=resumed)

    async def _connection(self, opener: StreamOpener[T], *, resumed: bool) -> str:
        """One connection, from opening to its end; returns why it ended."""
        loop = asyncio.get_running_loop()
        promotion: asyncio.TimerHandle | None = None

        def listening() -> None:
            nonlocal promotion
            self._first_try.set()
            # A refusal (503 from a proxy, 401) answers at once; a stream still awaited after the window listens.
            promotion = loop.call_later(_REFUSAL_WINDOW, functools.partial(self._came_up, resumed=resumed))

        try:
            async for event in opener(listening):
                self._breaks = 0
                self._came_up(resumed=resumed)
                self._news.events.append(event)
                self._arrived.set()
            return "Argo CD ended the stream"
        except ArgoCDError as exc:
            return exc.message
        finally:
            self._first_try.set()
            if promotion is not None:
                promotion.cancel()

    async def _keep_open(self, opener: StreamOpener[T]) -> None:
        while True:
            reason = await self._connection(opener, resumed=self._breaks > 0)
            self._breaks += 1
            if self.state is not StreamState.DOWN:
                log.info("argocd stream down, polling until it is back", stream=self._name, reason=reason)
            self._set(StreamState.DOWN, stale=True)
            wait = min(self._settings.first_wait * 2 ** (self._breaks - 1), self._settings.max_wait)
            # Jitter: the hand-offs of a whole wave lose their streams together when argocd-server restarts.
            await asyncio.sleep(wait * random.uniform(0.5, 1.0))
