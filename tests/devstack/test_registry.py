"""An image pushed with httpx to the launched registry produces a push notification with its tag and digest."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from devstack.ports import free_port
from tests.conftest import RegistryFactory

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


async def push_blob(client: httpx.AsyncClient, repo: str, body: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    start = await client.post(f"/v2/{repo}/blobs/uploads/")
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    # The upload URL carries its own state in the query string; the digest is added to it, not replacing it.
    separator = "&" if "?" in location else "?"
    done = await client.put(f"{location}{separator}digest={digest}", content=body)
    assert done.status_code == 201, done.text
    return digest


async def push_minimal_image(base_url: str, repo: str, tag: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as client:
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
        config_digest = await push_blob(client, repo, config.encode())
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_TYPE,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": [],
            }
        ).encode()
        response = await client.put(
            f"/v2/{repo}/manifests/{tag}", content=manifest, headers={"Content-Type": MANIFEST_TYPE}
        )
        assert response.status_code == 201, response.text
        digest: str = response.headers["Docker-Content-Digest"]
        assert digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
        return digest


@pytest.fixture
async def notification_sink() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/events")
    async def events(request: Request) -> dict[str, str]:
        received.extend(json.loads(await request.body())["events"])
        return {"ok": "yes"}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/events", received
    finally:
        server.should_exit = True
        await task


async def test_push_notifies_with_tag_and_digest(
    registry_factory: RegistryFactory, notification_sink: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = notification_sink
    async with registry_factory(notify_url=url) as registry:
        digest = await push_minimal_image(registry.url, "shop/checkout-api", "v1.0.0")
        for _ in range(100):
            pushes = [e for e in received if e["action"] == "push" and e["target"].get("tag") == "v1.0.0"]
            if pushes:
                break
            await asyncio.sleep(0.1)
    assert pushes, f"no manifest push notification arrived; got {[e['action'] for e in received]}"
    target = pushes[0]["target"]
    assert target["repository"] == "shop/checkout-api"
    assert target["digest"] == digest


async def test_registry_with_htpasswd_requires_credentials(registry_factory: RegistryFactory) -> None:
    async with registry_factory(htpasswd=("ci", "letmein")) as registry, httpx.AsyncClient() as client:
        assert (await client.get(f"{registry.url}/v2/")).status_code == 401
        assert (await client.get(f"{registry.url}/v2/", auth=("ci", "letmein"))).status_code == 200
