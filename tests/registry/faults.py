"""httpx transports that sit between the client and a real registry and change what it says.

For behaviour the launched registry never shows on its own: a transient 503, a HEAD without the digest
header (some registries), a body that does not match its digest.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

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
