"""A fault-injecting reverse proxy in front of an HTTP server (the real argocd-server, in the tests): a test aid,
not the product.

Every request first waits `latency` seconds. Then a seeded share of them (`error_ratio`) is answered 500, 502 or
503 by the proxy itself; the rest are forwarded and their answers passed back unchanged. An injected fault never
reaches the target, so the target never acts on a request its client saw fail: what the client has to ride out is
exactly an overloaded proxy or a server briefly gone. (A server that dies after acting is the restart test's case.)
A target that cannot be reached is answered 502, as a real proxy would, and counted apart.

Answers on a streaming path (Argo CD's watch streams) are relayed as they come. `proxy.streams.cut()` ends every
open one mid-answer (the connection dropped, as a load balancer's idle timeout or a restarted server does) and
answers new ones 503 until `proxy.streams.restore()`; plain requests still pass meanwhile.

    async with run_fault_proxy(cluster.argocd_url, error_ratio=0.3, latency=0.2, seed=7) as proxy:
        ...  # point the client at proxy.url; afterwards proxy.counts.failed > 0
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

import httpx
import uvicorn
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from devstack.ports import free_port

LOOPBACK = "127.0.0.1"
FAULT_STATUSES = (HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE)
# Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, and the lengths and encodings are recomputed:
# httpx hands the answer over decoded.
_REQUEST_DROPPED = {"host", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length",
                    "accept-encoding", "proxy-connection"}  # fmt: skip
_RESPONSE_DROPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
# Longer than any one Argo CD answer takes here; a stuck target shows as a 504 rather than a hung test.
UPSTREAM_TIMEOUT = 30.0
# Argo CD's watch streams: /api/v1/stream/applications and .../resource-tree.
ARGOCD_STREAMS = ("/api/v1/stream/",)


class Faults(BaseModel):
    """What goes wrong, and how often; the same seed draws the same faults for the same sequence of requests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error_ratio: float = Field(ge=0, le=1, description="share of requests answered 5xx without being forwarded")
    latency: float = Field(ge=0, description="seconds every request waits before anything else")
    seed: int = 0


@dataclass
class ProxyCounts:
    forwarded: int = 0  # reached the target (whatever it answered)
    injected: Counter[int] = field(default_factory=Counter)  # status -> requests the proxy failed itself
    unreachable: int = 0  # meant to be forwarded, but the target did not answer
    streams_relayed: int = 0  # streamed answers begun
    streams_cut: int = 0  # streamed answers ended mid-answer by `streams.cut()`
    streams_refused: int = 0  # stream requests answered 503 while the streams were cut

    @property
    def failed(self) -> int:
        return sum(self.injected.values())


class Streams:
    """Cut the proxy's streamed answers, and let them through again."""

    def __init__(self) -> None:
        self.cut_off = asyncio.Event()

    def cut(self) -> None:
        self.cut_off.set()

    def restore(self) -> None:
        self.cut_off.clear()


class _FaultProxy:
    """The ASGI app: wait, maybe fail, else forward (a streaming path's answer as it comes)."""

    def __init__(self, target: str, faults: Faults, stream_paths: Sequence[str]) -> None:
        self.faults = faults
        self.counts = ProxyCounts()
        self.streams = Streams()
        self._stream_paths = tuple(stream_paths)
        self._rng = random.Random(faults.seed)
        self._upstream = httpx.AsyncClient(base_url=target.rstrip("/"), timeout=UPSTREAM_TIMEOUT)

    def _draw_fault(self) -> HTTPStatus | None:
        # Both draws on every request, so which request fails depends only on the seed and its place in the order.
        fails, status = self._rng.random() < self.faults.error_ratio, self._rng.choice(FAULT_STATUSES)
        return status if fails else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        await asyncio.sleep(self.faults.latency)
        fault = self._draw_fault()
        if fault is not None:
            self.counts.injected[fault.value] += 1
            answer = Response(f"{fault.value} {fault.phrase} (injected by the fault proxy)", status_code=fault)
        elif request.url.path.startswith(self._stream_paths):
            await self._relay(request, scope, receive, send)
            return
        else:
            answer = await self._forward(request, body)
        await answer(scope, receive, send)

    def _upstream_path(self, request: Request) -> str:
        path = request.scope["raw_path"].decode("latin-1")
        query = request.scope["query_string"].decode("latin-1")
        return f"{path}?{query}" if query else path

    async def _relay(self, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a streamed answer on as it comes, until either side ends it or the streams are cut."""
        if self.streams.cut_off.is_set():
            self.counts.streams_refused += 1
            await Response("503 streams cut by the fault proxy", status_code=HTTPStatus.SERVICE_UNAVAILABLE)(
                scope, receive, send
            )
            return
        started = asyncio.Event()
        relay = asyncio.create_task(self._pass_on(request, send, started))
        gone = asyncio.create_task(_disconnected(receive))
        cut = asyncio.create_task(self.streams.cut_off.wait())
        done, pending = await asyncio.wait({relay, gone, cut}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if relay in done and relay.exception() is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif cut in done:
            self.counts.streams_cut += 1
            if not started.is_set():
                # The target had not answered yet (the resource-tree stream answers at its first change).
                await Response("503 stream cut by the fault proxy", status_code=HTTPStatus.SERVICE_UNAVAILABLE)(
                    scope, receive, send
                )
            # Otherwise returning with the answer unfinished makes the server drop the connection mid-stream.
        elif relay in done and not started.is_set():
            await Response(f"the target cannot be reached: {relay.exception()!r}", status_code=HTTPStatus.BAD_GATEWAY)(
                scope, receive, send
            )

    async def _pass_on(self, request: Request, send: Send, started: asyncio.Event) -> None:
        """Open the stream at the target and send on its answer as it comes; `started` once its status is sent."""
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _REQUEST_DROPPED]
        # No read timeout: a watch stream is silent for as long as nothing changes.
        timeout = httpx.Timeout(UPSTREAM_TIMEOUT, read=None)
        try:
            async with self._upstream.stream(
                request.method, self._upstream_path(request), headers=headers, timeout=timeout
            ) as upstream:
                self.counts.forwarded += 1
                self.counts.streams_relayed += 1
                kept = [(k, v) for k, v in upstream.headers.raw if k.decode("latin-1").lower() not in _RESPONSE_DROPPED]
                await send({"type": "http.response.start", "status": upstream.status_code, "headers": kept})
                started.set()
                async for chunk in upstream.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.TransportError:
            if not started.is_set():
                self.counts.unreachable += 1
            raise

    async def _forward(self, request: Request, body: bytes) -> Response:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _REQUEST_DROPPED]
        try:
            upstream = await self._upstream.request(
                request.method, self._upstream_path(request), headers=headers, content=body
            )
        except httpx.TimeoutException as exc:
            self.counts.unreachable += 1
            return Response(f"the target did not answer in time: {exc!r}", status_code=HTTPStatus.GATEWAY_TIMEOUT)
        except httpx.TransportError as exc:
            self.counts.unreachable += 1
            return Response(f"the target cannot be reached: {exc!r}", status_code=HTTPStatus.BAD_GATEWAY)
        self.counts.forwarded += 1
        answer = Response(upstream.content, status_code=upstream.status_code)
        # Raw pairs, so a repeated header (Set-Cookie) stays repeated.
        answer.raw_headers.extend(
            (k, v) for k, v in upstream.headers.raw if k.decode("latin-1").lower() not in _RESPONSE_DROPPED
        )
        return answer

    async def aclose(self) -> None:
        await self._upstream.aclose()


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone."""
    message: Message = {}
    while message.get("type") != "http.disconnect":
        message = await receive()


@dataclass(frozen=True)
class RunningFaultProxy:
    url: str
    target: str
    faults: Faults
    counts: ProxyCounts
    streams: Streams


@contextlib.asynccontextmanager
async def run_fault_proxy(
    target: str,
    *,
    error_ratio: float,
    latency: float = 0.0,
    seed: int = 0,
    stream_paths: Sequence[str] = ARGOCD_STREAMS,
) -> AsyncIterator[RunningFaultProxy]:
    """A proxy to `target` (a base URL) on a free loopback port, until the block ends; answers on a path beginning
    with one of `stream_paths` are relayed as they come."""
    faults = Faults(error_ratio=error_ratio, latency=latency, seed=seed)
    app = _FaultProxy(target, faults, stream_paths)
    port = free_port()
    # The target's own Server and Date headers pass through; uvicorn's would double them.
    config = uvicorn.Config(
        app, host=LOOPBACK, port=port, log_level="warning", lifespan="off", server_header=False, date_header=False
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError(f"the fault proxy to {target} stopped before it listened on {LOOPBACK}:{port}")
            await asyncio.sleep(0.02)
        yield RunningFaultProxy(
            url=f"http://{LOOPBACK}:{port}", target=target, faults=faults, counts=app.counts, streams=app.streams
        )
    finally:
        server.should_exit = True
        await serving
        await app.aclose()
