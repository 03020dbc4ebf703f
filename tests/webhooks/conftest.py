"""A receiver wired to the real Temporal dev server, with one watched service per source; a push lands in the
service's first lane."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from rollwright.config import RollwrightConfig, parse_config
from rollwright.domain.deployment import ENQUEUE_SIGNAL, PushEvent
from rollwright.domain.lane import lane_workflow_id
from rollwright.webhooks.app import create_app

SOURCE_IMAGES = {
    "distribution": "registry.local:5000/shop/{service}",
    "dockerhub": "docker.io/shop/{service}",
    "github": "ghcr.io/shop/{service}",
    "harbor": "harbor.example.com/shop/{service}",
    "quay": "quay.io/shop/{service}",
    "generic": "registry.local:5000/shop/{service}",
}
HMAC_SOURCES = {"github", "generic"}
# Every service's first (and only) environment: its lane takes the pushes.
FIRST_ENVIRONMENT = "staging"


@dataclass
class WebhookStack:
    config: RollwrightConfig
    client: Client
    http: httpx.AsyncClient
    services: dict[str, str]  # source -> service name
    tokens: dict[str, str]
    hmac_secrets: dict[str, str]
    started: set[str] = field(default_factory=set)

    def service(self, source: str) -> str:
        return self.services[source]

    def repository(self, source: str) -> str:
        """The repository path the source's payload names (no host)."""
        return f"shop/{self.services[source]}"

    def sign(self, source: str, body: bytes) -> str:
        return "sha256=" + hmac.new(self.hmac_secrets[source].encode(), body, hashlib.sha256).hexdigest()

    async def post(self, source: str, body: bytes, headers: dict[str, str] | None = None, path: str = "") -> Any:
        response = await self.http.post(
            f"/webhooks/{source}{path}", content=body, headers={"content-type": "application/json", **(headers or {})}
        )
        return response

    def lane(self, source: str) -> str:
        """The workflow id of the source's service's first lane, where its pushes land."""
        return lane_workflow_id(self.services[source], FIRST_ENVIRONMENT)

    async def enqueued(self, source: str) -> list[PushEvent]:
        return await enqueued_events(self.client, self.lane(source))

    async def lane_exists(self, source: str) -> bool:
        try:
            await self.client.get_workflow_handle(self.lane(source)).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True


@contextlib.asynccontextmanager
async def serving(server: uvicorn.Server) -> AsyncIterator[str]:
    """Run `server` for the block's length: its base URL once it listens; a start that fails raises its error."""
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://{server.config.host}:{server.config.port}"
    finally:
        server.should_exit = True
        await task


async def enqueued_events(client: Client, workflow_id: str) -> list[PushEvent]:
    """Every PushEvent signalled to the workflow, read back from its history."""
    events: list[PushEvent] = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_execution_signaled_event_attributes"):
            attrs = event.workflow_execution_signaled_event_attributes
            if attrs.signal_name == ENQUEUE_SIGNAL:
                [push] = await client.data_converter.decode(attrs.input.payloads, [PushEvent])
                events.append(push)
    return events


def build_config(
    services: dict[str, str], task_queue: str, sources: dict[str, dict[str, Any]], address: str
) -> RollwrightConfig:
    return parse_config(
        {
            "services": [
                {
                    "name": name,
                    "image": SOURCE_IMAGES[source].format(service=name),
                    "tags": r"^v\d+\.\d+\.\d+$",
                    "environments": [{"name": FIRST_ENVIRONMENT, "waves": [["local-a"]]}],
                }
                for source, name in services.items()
            ],
            "gitops": {"repo": "file:///nonexistent/gitops.git"},
            "temporal": {"address": address, "task_queue": task_queue},
            "webhooks": {"sources": sources},
        }
    )


@pytest.fixture
async def stack(temporal_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[WebhookStack]:
    suffix = uuid.uuid4().hex[:8]
    services = {source: f"{source}-{suffix}" for source in SOURCE_IMAGES}
    tokens: dict[str, str] = {}
    hmac_secrets: dict[str, str] = {}
    sources: dict[str, dict[str, Any]] = {}
    for source in SOURCE_IMAGES:
        entry: dict[str, Any] = {}
        if source in HMAC_SOURCES:
            hmac_secrets[source] = f"hmac-{source}-{uuid.uuid4().hex}"
            monkeypatch.setenv(f"RW_TEST_{source.upper()}_HMAC_{suffix}", hmac_secrets[source])
            entry["hmac_secret"] = {"env": f"RW_TEST_{source.upper()}_HMAC_{suffix}"}
        if source != "github":
            tokens[source] = f"tok-{source}-{uuid.uuid4().hex}"
            monkeypatch.setenv(f"RW_TEST_{source.upper()}_TOKEN_{suffix}", tokens[source])
            entry["token"] = {"env": f"RW_TEST_{source.upper()}_TOKEN_{suffix}"}
        sources[source] = entry
    client = temporal_env.client
    address = client.service_client.config.target_host
    config = build_config(services, f"webhooks-{suffix}", sources, address)
    app = create_app(config, client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as http:
        yield WebhookStack(config, client, http, services, tokens, hmac_secrets)
    await terminate_lanes(client, config)


async def terminate_lanes(client: Client, config: RollwrightConfig) -> None:
    """End every lane the config's services may have started (no worker runs them; they would linger)."""
    for service in config.services:
        for environment in service.environments:
            with contextlib.suppress(RPCError):
                await client.get_workflow_handle(lane_workflow_id(service.name, environment.name)).terminate(
                    "test finished"
                )
