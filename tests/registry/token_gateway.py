"""A token-auth front for the launched registry, as Docker Hub, GHCR and Harbor do it.

Requests without a valid bearer token get `401` with a `WWW-Authenticate: Bearer realm=…,service=…,scope=…`
challenge; `/token` trades basic credentials for a token for the asked scopes; with a token, requests
are passed to the real registry unchanged. Distribution's own token auth needs a signing CA, which this
environment lacks, so this front plays the token server's part. A test aid, not the product.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

from devstack.ports import free_port

_PATH_RE = re.compile(r"^/v2/(?P<name>.+)/(?:manifests|blobs|tags)/")


@dataclass
class TokenGateway:
    host: str
    tokens_issued: list[list[str]] = field(default_factory=list)


def _needed_scope(request: Request) -> str | None:
    match = _PATH_RE.match(request.url.path)
    if match is None:
        return None
    action = "pull" if request.method in ("GET", "HEAD") else "pull,push"
    return f"repository:{match.group('name')}:{action}"


def _grants(scopes: list[str], needed: str) -> bool:
    kind, name, actions = needed.split(":")
    for scope in scopes:
        s_kind, s_name, s_actions = scope.split(":")
        if (s_kind, s_name) == (kind, name) and set(actions.split(",")) <= set(s_actions.split(",")):
            return True
    return False


def _app(upstream: str, username: str, password: str, gateway: TokenGateway) -> FastAPI:
    app = FastAPI()
    tokens: dict[str, list[str]] = {}
    expected_basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    @app.get("/token")
    async def token(request: Request) -> Response:
        if request.headers.get("authorization") != expected_basic:
            return Response(status_code=401)
        scopes = request.query_params.getlist("scope")
        issued = secrets.token_hex(16)
        tokens[issued] = scopes
        gateway.tokens_issued.append(scopes)
        return Response(content=f'{{"token": "{issued}", "expires_in": 300}}', media_type="application/json")

    @app.api_route("/v2/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    async def proxy(request: Request, rest: str) -> Response:
        needed = _needed_scope(request)
        authorization = request.headers.get("authorization", "")
        granted = tokens.get(authorization.removeprefix("Bearer "), [])
        if needed is not None and not _grants(granted, needed):
            challenge = f'Bearer realm="http://{gateway.host}/token",service="gateway",scope="{needed}"'
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "host")}
        async with httpx.AsyncClient() as http:
            upstream_response = await http.request(
                request.method, f"{upstream}{request.url.path}", params=request.url.query,
                headers=headers, content=await request.body(),
            )  # fmt: skip
        passed = {
            k: v for k, v in upstream_response.headers.items() if k.lower() not in ("content-length", "connection")
        }
        if "location" in passed:
            passed["location"] = passed["location"].replace(upstream, f"http://{gateway.host}")
        return Response(content=upstream_response.content, status_code=upstream_response.status_code, headers=passed)

    return app


@contextlib.asynccontextmanager
async def run_token_gateway(upstream: str, username: str, password: str) -> AsyncIterator[TokenGateway]:
    port = free_port()
    gateway = TokenGateway(host=f"127.0.0.1:{port}")
    config = uvicorn.Config(
        _app(upstream, username, password, gateway), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield gateway
    finally:
        server.should_exit = True
        await task
