"""A real HTTP endpoint standing in for Slack's incoming webhook: records what it is sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from devstack.ports import free_port


@dataclass
class Endpoint:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    # Statuses to answer, in order, before answering 200.
    failures: list[int] = field(default_factory=list)
    attempts: int = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.attempts += 1
        status = self.failures.pop(0) if self.failures else 200
        if status == 200:
            self.received.append(json.loads(body))
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok" if status == 200 else b"invalid_payload"})


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    port = free_port()
    recorder = Endpoint(url=f"http://127.0.0.1:{port}/services/T000/B000/secretpath")
    server = uvicorn.Server(uvicorn.Config(recorder, host="127.0.0.1", port=port, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield recorder
    finally:
        server.should_exit = True
        await task
