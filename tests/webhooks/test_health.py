"""/healthz says the process is up; /readyz says whether Temporal answers."""

from __future__ import annotations

import httpx

from devstack.ports import free_port
from rollwright.connections.temporal import connect_temporal
from rollwright.webhooks.app import create_app
from tests.webhooks.conftest import WebhookStack


async def test_ready_when_temporal_answers(stack: WebhookStack) -> None:
    assert (await stack.http.get("/healthz")).json() == {"status": "ok", "temporal": None}
    ready = await stack.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["temporal"] == "reachable"


async def test_up_but_not_ready_when_temporal_is_down(stack: WebhookStack) -> None:
    temporal = stack.config.temporal.model_copy(update={"address": f"127.0.0.1:{free_port()}"})
    client = await connect_temporal(temporal, lazy=True)
    app = create_app(stack.config.model_copy(update={"temporal": temporal}), client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as http:
        healthy = await http.get("/healthz")
        ready = await http.get("/readyz")
        body = b'{"repository": "registry.local:5000/shop/' + stack.service("generic").encode() + b'", "tag": "v1.0.0"}'
        headers = {"content-type": "application/json", "x-rollwright-token": stack.tokens["generic"]}
        pushed = await http.post("/webhooks/generic", content=body, headers=headers)

    assert healthy.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {"status": "not_ready", "temporal": "unreachable"}
    # The registry is told to retry later, not that its push was bad.
    assert pushed.status_code == 503
    assert pushed.json()["error"] == "pipeline_unavailable"
