"""Acceptance 3, property-based: whatever a client sends, the receiver answers below 500 and starts nothing
(the config watches a repository no generated body can name)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollwright.webhooks.sources import SOURCES
from tests.webhooks import payloads
from tests.webhooks.conftest import WebhookStack

HEADER_NAMES = [
    "content-type",
    "authorization",
    "x-rollwright-token",
    "x-hub-signature-256",
    "x-rollwright-signature-256",
    "x-github-event",
    "x-github-delivery",
    "x-rollwright-delivery",
]
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5),
    max_leaves=25,
)
DIGEST = "sha256:" + "1f" * 32
REALISTIC = [
    payloads.distribution("shop/unwatched", "v1.0.0", DIGEST),
    payloads.dockerhub("shop/unwatched", "v1.0.0"),
    payloads.github("shop", "unwatched", "v1.0.0", DIGEST),
    payloads.harbor("harbor.example.com", "shop", "unwatched", "v1.0.0", DIGEST),
    payloads.quay("shop", "unwatched", ["v1.0.0"]),
    payloads.generic("registry.local:5000/shop/unwatched", "v1.0.0", DIGEST),
]


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A realistic payload with one value somewhere replaced by anything."""
    document = json.loads(json.dumps(draw(st.sampled_from(REALISTIC))))
    node = document
    while isinstance(node, dict | list) and node and draw(st.booleans()):
        key = draw(st.sampled_from(list(node.keys()) if isinstance(node, dict) else list(range(len(node)))))
        if isinstance(node[key], dict | list) and node[key]:
            node = node[key]
            continue
        node[key] = draw(json_values)
        break
    return document


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    mutated().map(lambda value: json.dumps(value).encode()),
)


async def test_random_deliveries_never_get_a_5xx_nor_start_a_workflow(stack: WebhookStack) -> None:
    loop = asyncio.get_running_loop()
    statuses: list[int] = []

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        source=st.sampled_from([*SOURCES, "nope", "..", "distribution%2F"]),
        body=bodies,
        headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_text, max_size=5),
        authenticated=st.sampled_from(["token", "path", "signature", "none"]),
        path_token=st.one_of(st.none(), st.text(st.characters(min_codepoint=0x30, max_codepoint=0x7A), max_size=30)),
    )
    def deliver(source: str, body: bytes, headers: dict[str, str], authenticated: str, path_token: str | None) -> None:
        headers = dict(headers)
        path = f"/{path_token}" if path_token else ""
        if authenticated == "token" and source in stack.tokens:
            headers["x-rollwright-token"] = stack.tokens[source]
        elif authenticated == "path" and source in stack.tokens:
            path = f"/{stack.tokens[source]}"
        elif authenticated == "signature" and source in stack.hmac_secrets:
            name = "x-hub-signature-256" if source == "github" else "x-rollwright-signature-256"
            headers[name] = stack.sign(source, body)
        if authenticated != "none":
            headers.setdefault("content-type", "application/json")

        async def send() -> int:
            response = await stack.http.post(f"/webhooks/{source}{path}", content=body, headers=headers)
            if response.status_code == 202:
                assert response.json()["accepted"] == []
            return response.status_code

        status = asyncio.run_coroutine_threadsafe(send(), loop).result(timeout=30)
        assert status < 500, (source, body[:200], headers)
        statuses.append(status)

    # The app and the Temporal client live on this loop; hypothesis drives them from a worker thread.
    await asyncio.to_thread(deliver)

    assert {202, 400, 401, 404, 415, 422} <= set(statuses)  # the bodies reached every layer
    count = await stack.client.count_workflows(f"TaskQueue = '{stack.config.temporal.task_queue}'")
    assert count.count == 0
