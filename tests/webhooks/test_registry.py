"""Acceptance 2: a push to the real docker-registry, with notifications pointed at the receiver, lands in the
first lane of the service that watches the repository; the registry's blob-push events start nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from devstack.images import push_image
from devstack.ports import free_port
from devstack.registry import run_registry
from rollwright.config import parse_config
from rollwright.control.enqueue import intake_workflow_id
from rollwright.domain.lane import lane_workflow_id
from rollwright.webhooks.app import create_app
from tests.webhooks.conftest import enqueued_events, serving, terminate_lanes

ASGIApp = Any


class RecordReports:
    """ASGI middleware keeping the receiver's answers, to see what the registry actually delivered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.reports: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        chunks: list[bytes] = []

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and scope["path"].startswith("/webhooks/"):
                    self.reports.append(json.loads(b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, keep)


async def test_a_real_registry_push_reaches_the_right_lane(
    temporal_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suffix = uuid.uuid4().hex[:8]
    service, other = f"api-{suffix}", f"web-{suffix}"
    token = f"registry-token-{uuid.uuid4().hex}"
    monkeypatch.setenv(f"RW_TEST_REGISTRY_TOKEN_{suffix}", token)
    registry_port = free_port()
    host = f"127.0.0.1:{registry_port}"
    client = temporal_env.client
    config = parse_config(
        {
            "services": [
                {"name": name, "image": f"{host}/shop/{name}", "environments": [{"name": "dev", "waves": [["a"]]}]}
                for name in (service, other)
            ],
            "gitops": {"repo": "file:///nonexistent/gitops.git"},
            "temporal": {"task_queue": f"registry-{suffix}"},
            "webhooks": {"sources": {"distribution": {"token": {"env": f"RW_TEST_REGISTRY_TOKEN_{suffix}"}}}},
        }
    )
    lane = intake_workflow_id(config, service)
    assert lane == lane_workflow_id(service, "dev")
    recorder = RecordReports(create_app(config, client))
    receiver = uvicorn.Server(
        uvicorn.Config(recorder, host="127.0.0.1", port=free_port(), log_config=None, access_log=False)
    )
    try:
        async with (
            serving(receiver) as receiver_url,
            run_registry(
                tmp_path / "registry",
                port=registry_port,
                notify_url=f"{receiver_url}/webhooks/distribution",
                notify_headers={"Authorization": f"Bearer {token}"},
            ) as registry,
        ):
            digest = await push_image(registry.url, f"shop/{service}", "v1.0.0", seed=suffix)
            events = await _wait_for_events(client, lane)
            await asyncio.sleep(1.0)  # let the registry's remaining deliveries (blob pushes) arrive
            events = await enqueued_events(client, lane)

        [event] = events
        assert event.tag == "v1.0.0"
        assert event.digest_hint == digest
        assert event.repository == f"{host}/shop/{service}"
        assert event.source.source == "distribution"
        ignored = [item["reason"] for report in recorder.reports for item in report["ignored"]]
        assert "blob pushes start nothing" in ignored
        assert all(report["status"] in {"accepted", "ignored", "duplicate"} for report in recorder.reports)
        with pytest.raises(RPCError) as no_lane:
            await client.get_workflow_handle(intake_workflow_id(config, other)).describe()
        assert no_lane.value.status == RPCStatusCode.NOT_FOUND
    finally:
        await terminate_lanes(client, config)


async def _wait_for_events(client: Any, workflow_id: str) -> list[Any]:
    async with asyncio.timeout(20):
        while True:
            with contextlib.suppress(RPCError):
                events = await enqueued_events(client, workflow_id)
                if events:
                    return events
            await asyncio.sleep(0.2)
