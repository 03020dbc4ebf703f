"""One delivery, from its source, headers and body to the answer, and the plain ASGI route that serves it.

`POST /webhooks/{source}` and `POST /webhooks/{source}/{token}` are the receiver's hot path: a registry may send
a burst of them. FastAPI's middleware, routing, request objects and dependency solving cost more than all of
Rollwright's own work on a delivery, so the app (app.py) hands these two paths to `answer_delivery` before FastAPI
sees them. FastAPI's routes for them stay, answering through the same `deliver`: they make the OpenAPI docs, and
the tests hold the plain route's answers to theirs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import NamedTuple

from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from rollwright.observability.logging import get_logger
from rollwright.webhooks.body import read_bounded
from rollwright.webhooks.errors import WebhookError
from rollwright.webhooks.receiver import Receiver

log = get_logger(__name__)

DELIVERY_PREFIX = "/webhooks/"
_JSON = (b"content-type", b"application/json")


class Refusal(BaseModel):
    error: str
    reason: str
    field: str | None = None


class Answer(NamedTuple):
    status: int
    body: bytes  # JSON


async def deliver(
    receiver: Receiver, source: str, token: str | None, headers: Mapping[str, str], chunks: AsyncIterator[bytes]
) -> Answer:
    """202 with the DeliveryReport, or the refusal's 4xx/503 with its reason; never raises a WebhookError."""
    try:
        receiver.check_source(source)
        body = await read_bounded(headers.get("content-length"), chunks, receiver.settings.max_body_bytes)
        report = await receiver.receive(source, headers, body, path_token=token)
    except WebhookError as exc:
        log.info("delivery refused", source=source[:64], status=exc.status_code, reason=exc.reason)
        refusal = Refusal(error=exc.error, reason=exc.reason, field=exc.field)
        return Answer(exc.status_code, refusal.model_dump_json(exclude_none=True).encode())
    return Answer(202, report.model_dump_json().encode())


def delivery_route(scope: Scope) -> tuple[str, str | None] | None:
    """(source, path token) when FastAPI would route the request to a delivery endpoint, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    # As Starlette routes: on the path below the root path, which the path includes when a proxy mounts the app.
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    if not path.startswith(DELIVERY_PREFIX):
        return None
    # Starlette's `{param}` matches one non-empty segment: anything else (a trailing slash, more segments) is
    # left to FastAPI, which answers it as it always has (redirect, 404).
    parts = path[len(DELIVERY_PREFIX) :].split("/")
    if len(parts) > 2 or not all(parts):
        return None
    return parts[0], parts[1] if len(parts) == 2 else None


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    # ASGI gives lower-case names; the first of a repeated header counts, as in Starlette's Headers.
    headers: dict[str, str] = {}
    for name, value in raw:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


async def _body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def answer_delivery(
    receiver: Receiver, route: tuple[str, str | None], scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer a request `delivery_route` matched, as plain ASGI."""
    source, token = route
    try:
        answer = await deliver(receiver, source, token, _headers(scope["headers"]), _body_chunks(receive))
    except ClientDisconnect:
        return  # the sender is gone: there is no one to answer
    headers = [(b"content-length", str(len(answer.body)).encode()), _JSON]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
