"""A fault-injecting reverse proxy in front of an HTTP server (the real argocd-server, in the tests): a test aid,
not the product.

Every request first waits `latency` seconds. Then a seeded share of them (`error_ratio`) is answered 500, 502 or
503 by the proxy itself; the rest are forwarded and their answers passed back unchanged. An injected fault never
reaches the target, so the target never acts on a request its client saw fail: what the client has to ride out is
exactly an overloaded proxy or a server briefly gone. (A server that dies after acting is the restart test's case.)
A target that cannot be reached is answered 502, as a real proxy would, and counted apart.

    async with run_fault_proxy(cluster.argocd_url, error_ratio=0.3, latency=0.2, seed=7) as proxy:
        ...  # point the client at proxy.url; afterwards proxy.counts.failed > 0
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http import HTTPStatus

import httpx
import uvicorn
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

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

    @property
    def failed(self) -> int:
        return sum(self.injected.values())


class _FaultProxy:
    """The ASGI app: wait, maybe fail, else forward."""

    def __init__(self, target: str, faults: Faults) -> None:
        self.faults = faults
        self.counts = ProxyCounts()
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
        else:
            answer = await self._forward(request, body)
        await answer(scope, receive, send)

    async def _forward(self, request: Request, body: bytes) -> Response:
        path = request.scope["raw_path"].decode("latin-1")
        query = request.scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _REQUEST_DROPPED]
        try:
            upstream = await self._upstream.request(
                request.method, f"{path}?{query}" if query else path, headers=headers, content=body
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


@dataclass(frozen=True)
class RunningFaultProxy:
    url: str
    target: str
    faults: Faults
    counts: ProxyCounts


@contextlib.asynccontextmanager
async def run_fault_proxy(
    target: str, *, error_ratio: float, latency: float = 0.0, seed: int = 0
) -> AsyncIterator[RunningFaultProxy]:
    """A proxy to `target` (a base URL) on a free loopback port, until the block ends."""
    faults = Faults(error_ratio=error_ratio, latency=latency, seed=seed)
    app = _FaultProxy(target, faults)
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
        yield RunningFaultProxy(url=f"http://{LOOPBACK}:{port}", target=target, faults=faults, counts=app.counts)
    finally:
        server.should_exit = True
        await serving
        await app.aclose()
