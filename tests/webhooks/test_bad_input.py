"""Acceptance 3: bad input gets its documented status and a reason, never a 5xx, never a workflow."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog

from rollwright.observability.logging import configure_logging
from rollwright.webhooks.app import create_app
from tests.webhooks import payloads
from tests.webhooks.conftest import WebhookStack

DIGEST = "sha256:" + "7a" * 32
MIB = 1024 * 1024


def _auth(stack: WebhookStack) -> dict[str, str]:
    return {"authorization": f"Bearer {stack.tokens['distribution']}"}


async def test_oversized_body_is_413(stack: WebhookStack) -> None:
    body = b'{"events": [' + b" " * MIB + b"]}"
    response = await stack.post("distribution", body, _auth(stack))

    assert response.status_code == 413
    assert "1048576-byte limit" in response.json()["reason"]


async def test_oversized_chunked_body_without_length_is_413(stack: WebhookStack) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536

    response = await stack.http.post(
        "/webhooks/distribution", content=chunks(), headers={"content-type": "application/json", **_auth(stack)}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_wrong_content_type_is_415(stack: WebhookStack, content_type: str) -> None:
    body = payloads.encode(payloads.distribution(stack.repository("distribution"), "v1.0.0", DIGEST))
    response = await stack.post("distribution", body, {"content-type": content_type, **_auth(stack)})

    assert response.status_code == 415
    assert "not JSON" in response.json()["reason"]
    assert not await stack.lane_exists("distribution")


@pytest.mark.parametrize("body", [b'{"events": [', b"\xff\xfe{}", b"", b"[" * 100_000 + b"]" * 100_000])
async def test_malformed_json_is_400(stack: WebhookStack, body: bytes) -> None:
    response = await stack.post("distribution", body, _auth(stack))

    assert response.status_code == 400
    assert response.json()["error"] == "malformed_body"


async def test_wrong_shape_is_422_naming_the_field(stack: WebhookStack) -> None:
    envelope = payloads.distribution(stack.repository("distribution"), "v1.0.0", DIGEST)
    del envelope["events"][1]["target"]["repository"]
    response = await stack.post("distribution", payloads.encode(envelope), _auth(stack))

    assert response.status_code == 422
    assert response.json()["field"] == "events[1].target.repository"
    assert "events[1].target.repository: Field required" in response.json()["reason"]
    assert not await stack.lane_exists("distribution")


async def test_a_generic_push_with_a_bad_digest_is_422(stack: WebhookStack) -> None:
    body = payloads.encode({"repository": "registry.local:5000/shop/x", "tag": "v1.0.0", "digest": "md5:abc"})
    response = await stack.post("generic", body, {"x-rollwright-token": stack.tokens["generic"]})

    assert response.status_code == 422
    assert response.json()["field"] == "digest"


async def test_unknown_repository_is_202_ignored_with_the_reason(stack: WebhookStack) -> None:
    body = payloads.encode(payloads.distribution("shop/nobody-watches-this", "v1.0.0", DIGEST))
    response = await stack.post("distribution", body, _auth(stack))

    assert response.status_code == 202
    answer = response.json()
    assert answer["status"] == "ignored"
    assert answer["workflow_ids"] == []
    reasons = {item["event"]: item["reason"] for item in answer["ignored"]}
    assert reasons["registry.local:5000/shop/nobody-watches-this:v1.0.0"] == "no service watches this repository"
    assert reasons["blob push shop/nobody-watches-this"] == "blob pushes start nothing"


async def test_unknown_source_is_404(stack: WebhookStack) -> None:
    response = await stack.post("gitlab", b"{}", _auth(stack))

    assert response.status_code == 404
    assert "known: distribution, dockerhub" in response.json()["reason"]


async def test_a_source_without_credentials_is_refused(stack: WebhookStack) -> None:
    no_sources = stack.config.webhooks.model_copy(update={"sources": {}})
    unconfigured = stack.config.model_copy(update={"webhooks": no_sources})
    app = create_app(unconfigured, stack.client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as http:
        body = payloads.encode(payloads.quay("shop", stack.service("quay"), ["v1.0.0"]))
        headers = {"content-type": "application/json"}
        response = await http.post("/webhooks/quay/anything", content=body, headers=headers)

    assert response.status_code == 401
    assert "unauthenticated deliveries are refused" in response.json()["reason"]
    assert not await stack.lane_exists("quay")


async def test_a_redelivery_starts_nothing_new(stack: WebhookStack) -> None:
    body = payloads.encode(payloads.distribution(stack.repository("distribution"), "v2.0.0", DIGEST))
    first = await stack.post("distribution", body, {"content-type": payloads.DISTRIBUTION_MEDIA_TYPE, **_auth(stack)})
    again = await stack.post("distribution", body, {"content-type": payloads.DISTRIBUTION_MEDIA_TYPE, **_auth(stack)})
    # A new delivery id but the same digest for the same tag is the same push, too.
    other = await stack.post(
        "distribution",
        payloads.encode(payloads.distribution(stack.repository("distribution"), "v2.0.0", DIGEST)),
        _auth(stack),
    )

    assert first.json()["status"] == "accepted"
    assert again.status_code == other.status_code == 202
    assert again.json()["status"] == other.json()["status"] == "duplicate"
    assert again.json()["workflow_ids"] == first.json()["workflow_ids"]
    assert len(await stack.enqueued("distribution")) == 1


async def test_tags_that_are_not_oci_tags_are_ignored(stack: WebhookStack) -> None:
    body = payloads.encode(payloads.quay("shop", stack.service("quay"), ["../../etc", "v1.0.0"]))
    response = await stack.post("quay", body, {"x-rollwright-token": stack.tokens["quay"]})

    answer = response.json()
    assert [item["tag"] for item in answer["accepted"]] == ["v1.0.0"]
    assert answer["ignored"][0]["reason"] == "not a valid OCI tag"
    assert [event.tag for event in await stack.enqueued("quay")] == ["v1.0.0"]


async def test_github_ping_and_deleted_packages_start_nothing(stack: WebhookStack) -> None:
    ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    headers = {"x-hub-signature-256": stack.sign("github", ping), "x-github-event": "ping"}
    pinged = await stack.post("github", ping, headers)
    deleted = payloads.encode(payloads.github("shop", stack.service("github"), "v1.0.0", DIGEST, action="deleted"))
    removed = await stack.post("github", deleted, {"x-hub-signature-256": stack.sign("github", deleted)})

    assert pinged.status_code == removed.status_code == 202
    assert pinged.json()["status"] == removed.json()["status"] == "ignored"
    assert "'deleted' package events start nothing" in removed.json()["ignored"][0]["reason"]
    assert not await stack.lane_exists("github")


async def test_secrets_never_reach_responses_or_logs(stack: WebhookStack, monkeypatch: pytest.MonkeyPatch) -> None:
    logged_to = io.StringIO()
    monkeypatch.setattr(sys, "stderr", logged_to)
    configure_logging("json", "DEBUG")
    try:
        token = stack.tokens["dockerhub"]
        body = payloads.encode(payloads.dockerhub(stack.repository("dockerhub"), "v3.0.0"))
        accepted = await stack.post("dockerhub", body, path=f"/{token}")
        refused = await stack.post("dockerhub", body, path=f"/{token}x")
        signed = await stack.post("generic", b"{}", {"x-rollwright-signature-256": stack.sign("generic", b"{}x")})
    finally:
        structlog.reset_defaults()

    logged = logged_to.getvalue()
    assert accepted.status_code == 202
    assert refused.status_code == signed.status_code == 401
    assert "push queued" in logged
    assert "delivery refused" in logged
    for secret in [token, stack.hmac_secrets["generic"], stack.hmac_secrets["github"]]:
        assert secret not in logged
        assert secret not in accepted.text + refused.text + signed.text
