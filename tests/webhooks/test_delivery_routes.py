"""The delivery routes are answered as plain ASGI, before FastAPI: the same answers as FastAPI's own routes for
them give, over real HTTP from the production server and from `rollwright webhook` itself, with the body cap and
every refusal kept."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from devstack.ports import free_port
from devstack.process import http_probe, managed_process
from rollwright.webhooks.app import create_app
from rollwright.webhooks.delivery import delivery_route
from rollwright.webhooks.server import build_server
from tests.webhooks import payloads
from tests.webhooks.conftest import WebhookStack, serving

DIGEST = "sha256:" + "3c" * 32
MIB = 1024 * 1024
ROOT_PATH = "/receiver"
DELIVERY = "x-rollwright-delivery"

Request = Callable[[WebhookStack], tuple[str, bytes, dict[str, str]]]


def _generic(stack: WebhookStack, tag: str) -> bytes:
    return payloads.encode(payloads.generic(f"registry.local:5000/{stack.repository('generic')}", tag, DIGEST))


def _signed(stack: WebhookStack, body: bytes) -> dict[str, str]:
    return {"content-type": "application/json", "x-rollwright-signature-256": stack.sign("generic", body)}


REFUSALS: dict[str, Request] = {
    "oversized": lambda s: ("/webhooks/generic", b'{"tag": "' + b"v" * MIB + b'"}', _signed(s, b"")),
    "bad signature": lambda s: ("/webhooks/generic", _generic(s, "v1.0.0"), _signed(s, b"other bytes")),
    "no credential": lambda s: ("/webhooks/generic", _generic(s, "v1.0.0"), {"content-type": "application/json"}),
    "wrong path token": lambda s: ("/webhooks/quay/not-the-token", b"{}", {"content-type": "application/json"}),
    "unknown source": lambda s: ("/webhooks/gitlab", b"{}", {"content-type": "application/json"}),
    "not JSON": lambda s: ("/webhooks/generic", b"{", _signed(s, b"{")),
    "wrong shape": lambda s: ("/webhooks/generic", b'{"tag": 1}', _signed(s, b'{"tag": 1}')),
    "wrong media type": lambda s: ("/webhooks/generic", b"{}", {**_signed(s, b"{}"), "content-type": "text/plain"}),
}


@pytest.mark.parametrize(
    ("method", "path", "root_path", "route"),
    [
        ("POST", "/webhooks/generic", "", ("generic", None)),
        ("POST", "/webhooks/quay/a-token", "", ("quay", "a-token")),
        ("POST", "/webhooks/gitlab", "", ("gitlab", None)),  # answered here too: 404 unknown source
        ("POST", "/webhooks/generic/", "", None),  # FastAPI redirects
        ("POST", "/webhooks/", "", None),
        ("POST", "/webhooks/a/b/c", "", None),
        ("POST", "/webhooksgeneric", "", None),
        ("GET", "/webhooks/generic", "", None),  # FastAPI's 405
        ("POST", "/receiver/webhooks/generic", ROOT_PATH, ("generic", None)),
        ("POST", "/webhooks/generic", ROOT_PATH, ("generic", None)),  # a proxy that strips the prefix itself
        ("POST", "/receiver/webhooks/", ROOT_PATH, None),
    ],
)
def test_the_delivery_route_is_exactly_fastapis_two_paths(
    method: str, path: str, root_path: str, route: tuple[str, str | None] | None
) -> None:
    scope = {"type": "http", "method": method, "path": path, "root_path": root_path}
    assert delivery_route(scope) == route


def fastapi_routes(app: FastAPI) -> httpx.AsyncClient:
    """A client of the app's FastAPI routes alone, the plain delivery route passed by."""

    async def through_fastapi(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=through_fastapi), base_url="http://receiver")


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_the_plain_route_refuses_as_fastapis_route_does(stack: WebhookStack, case: str) -> None:
    path, body, headers = REFUSALS[case](stack)
    async with fastapi_routes(create_app(stack.config, stack.client)) as http:
        by_fastapi = await http.post(path, content=body, headers=headers)
    plain = await stack.http.post(path, content=body, headers=headers)

    assert 400 <= plain.status_code < 500
    assert plain.json()["reason"]
    assert (plain.status_code, plain.headers["content-type"], plain.content) == (
        by_fastapi.status_code,
        by_fastapi.headers["content-type"],
        by_fastapi.content,
    )
    assert not await stack.lane_exists("generic")


async def test_the_plain_route_and_fastapis_route_deliver_alike(stack: WebhookStack) -> None:
    app = create_app(stack.config, stack.client)
    transport = httpx.ASGITransport(app=app, root_path=ROOT_PATH)
    first, second = _generic(stack, "v1.2.3"), _generic(stack, "v1.2.4")
    async with fastapi_routes(app) as by_fastapi, httpx.AsyncClient(transport=transport, base_url="http://r") as plain:
        fastapi_answer = await by_fastapi.post(
            "/webhooks/generic", content=first, headers={**_signed(stack, first), DELIVERY: "first"}
        )
        plain_answer = await plain.post(
            f"{ROOT_PATH}/webhooks/generic", content=second, headers={**_signed(stack, second), DELIVERY: "second"}
        )

    assert fastapi_answer.status_code == plain_answer.status_code == 202, (fastapi_answer.text, plain_answer.text)
    assert fastapi_answer.headers["content-type"] == plain_answer.headers["content-type"] == "application/json"
    assert fastapi_answer.json()["accepted"][0]["tag"] == "v1.2.3"
    assert plain_answer.json() == {
        **fastapi_answer.json(),
        "accepted": [{**fastapi_answer.json()["accepted"][0], "tag": "v1.2.4", "delivery_id": "second"}],
    }
    assert [event.tag for event in await stack.enqueued("generic")] == ["v1.2.3", "v1.2.4"]


async def test_the_production_server_answers_deliveries_and_refusals_over_http(stack: WebhookStack) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536

    body = _generic(stack, "v2.0.0")
    server = build_server(stack.config, stack.client, listen=f"127.0.0.1:{free_port()}")
    async with serving(server) as url, httpx.AsyncClient(base_url=url) as http:
        oversized = await http.post("/webhooks/generic", content=b" " * (MIB + 1), headers=_signed(stack, b""))
        oversized_chunked = await http.post("/webhooks/generic", content=chunks(), headers=_signed(stack, b""))
        forged = await http.post("/webhooks/generic", content=body, headers=_signed(stack, b"{}"))
        accepted = await http.post("/webhooks/generic", content=body, headers=_signed(stack, body))
        by_path_token = await http.post(
            f"/webhooks/generic/{stack.tokens['generic']}",
            content=_generic(stack, "v2.0.1"),
            headers={"content-type": "application/json"},
        )
        health = await http.get("/healthz")
        docs = (await http.get("/openapi.json")).json()

    assert oversized.status_code == oversized_chunked.status_code == 413
    assert oversized.json() == {
        "error": "payload_too_large",
        "reason": f"body of {MIB + 1} bytes is over the {MIB}-byte limit",
    }
    assert oversized_chunked.json()["reason"] == f"body is over the {MIB}-byte limit"
    assert forged.status_code == 401
    assert forged.json() == {"error": "unauthorized", "reason": "x-rollwright-signature-256 does not match the body"}
    assert accepted.status_code == by_path_token.status_code == 202
    assert accepted.headers["content-type"] == "application/json"
    assert [event.tag for event in await stack.enqueued("generic")] == ["v2.0.0", "v2.0.1"]
    assert health.json() == {"status": "ok", "temporal": None}
    assert "post" in docs["paths"]["/webhooks/{source}"]
    assert "post" in docs["paths"]["/webhooks/{source}/{token}"]


async def test_rollwright_webhook_serves_a_delivery(stack: WebhookStack, tmp_path: Path) -> None:
    port = free_port()
    config_file = tmp_path / "rollwright.yaml"
    config_file.write_text(yaml.safe_dump(stack.config.model_dump(mode="json", exclude_defaults=True)))
    argv = [sys.executable, "-m", "rollwright.cli", "--config", str(config_file), "webhook"]
    argv += ["--listen", f"127.0.0.1:{port}"]
    probe = http_probe(f"http://127.0.0.1:{port}/readyz", timeout=30)
    body = _generic(stack, "v3.0.0")
    async with (
        managed_process("rollwright webhook", argv, log_file=tmp_path / "webhook.log", probe=probe),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
    ):
        refused = await http.post("/webhooks/generic", content=body, headers=_signed(stack, b""))
        accepted = await http.post("/webhooks/generic", content=body, headers=_signed(stack, body))

    assert refused.status_code == 401
    assert accepted.status_code == 202, accepted.text
    assert [event.tag for event in await stack.enqueued("generic")] == ["v3.0.0"]
