"""httpx transports that sit between the client and a real registry and change what it says.

For behaviour the launched registry never shows on its own: a transient 503, a HEAD without the digest
header (some registries), a body that does not match its digest; and a relay that starts listening late,
as a registry does while it restarts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

import httpx

from devstack.ports import free_port

Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class RewritingTransport(httpx.AsyncBaseTransport):
    """Forward every request to the real registry; `rewrite` may replace the answer it gives."""

    def __init__(self, rewrite: Rewrite) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._rewrite = rewrite
        self.seen: list[tuple[str, str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        await response.aread()
        replaced = self._rewrite(request, response)
        final = replaced if replaced is not None else response
        self.seen.append((request.method, request.url.path, final.status_code))
        return final

    async def aclose(self) -> None:
        await self._inner.aclose()


def copy_response(response: httpx.Response, *, status: int | None = None, drop_headers: tuple[str, ...] = (),
                  content: bytes | None = None) -> httpx.Response:  # fmt: skip
    headers = {k: v for k, v in response.headers.items() if k.lower() not in drop_headers}
    body = response.content if content is None else content
    headers.pop("content-length", None)
    return httpx.Response(status or response.status_code, headers=headers, content=body)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@asynccontextmanager
async def listening_late(upstream_port: int, delay: float) -> AsyncIterator[int]:
    """A port that refuses connections for `delay` seconds, then relays them to the registry on `upstream_port`."""
    port = free_port()
    servers: list[asyncio.Server] = []

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    async def listen_later() -> None:
        await asyncio.sleep(delay)
        servers.append(await asyncio.start_server(relay, "127.0.0.1", port))

    opening = asyncio.create_task(listen_later())
    try:
        yield port
    finally:
        opening.cancel()
        with suppress(asyncio.CancelledError):
            await opening
        for server in servers:
            server.close()
            await server.wait_closed()
