"""Acceptance 1: each source's realistic delivery, correctly authenticated, feeds its service's first lane on
the real dev server and is answered 202 with the workflow id; a wrong or missing credential gets 401 and
starts nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from rollwright.control.enqueue import intake_workflow_id
from rollwright.domain import search_attributes as sa
from tests.webhooks import payloads
from tests.webhooks.conftest import FIRST_ENVIRONMENT, WebhookStack

DIGEST = "sha256:" + "5e" * 32


@dataclass(frozen=True)
class Case:
    source: str
    body: Callable[[WebhookStack], bytes]
    # Headers that authenticate a body correctly, or deliberately wrongly.
    good: Callable[[WebhookStack, bytes], tuple[dict[str, str], str]]
    bad: Callable[[WebhookStack, bytes], tuple[dict[str, str], str]]
    content_type: str = "application/json"
    expect_digest: str | None = DIGEST
    expect_repository: str = ""


def _bearer(stack: WebhookStack, source: str, token: str | None = None) -> tuple[dict[str, str], str]:
    return {"authorization": f"Bearer {token or stack.tokens[source]}"}, ""


def _path(stack: WebhookStack, source: str, token: str | None = None) -> tuple[dict[str, str], str]:
    return {}, f"/{token or stack.tokens[source]}"


CASES = [
    Case(
        "distribution",
        lambda s: payloads.encode(payloads.distribution(s.repository("distribution"), "v1.2.3", DIGEST)),
        lambda s, _: _bearer(s, "distribution"),
        lambda s, _: _bearer(s, "distribution", "not-the-token"),
        content_type=payloads.DISTRIBUTION_MEDIA_TYPE,
    ),
    Case(
        "dockerhub",
        lambda s: payloads.encode(payloads.dockerhub(s.repository("dockerhub"), "v1.2.3")),
        lambda s, _: _path(s, "dockerhub"),
        lambda s, _: _path(s, "dockerhub", "guessed"),
        expect_digest=None,
    ),
    Case(
        "github",
        lambda s: payloads.encode(payloads.github("Shop", s.service("github"), "v1.2.3", DIGEST)),
        lambda s, body: ({"x-hub-signature-256": s.sign("github", body), "x-github-event": "package"}, ""),
        lambda s, body: ({"x-hub-signature-256": s.sign("github", body + b" "), "x-github-event": "package"}, ""),
    ),
    Case(
        "harbor",
        lambda s: payloads.encode(payloads.harbor("harbor.example.com", "shop", s.service("harbor"), "v1.2.3", DIGEST)),
        lambda s, _: _bearer(s, "harbor"),
        lambda s, _: ({"authorization": "Bearer " + s.tokens["harbor"][:-1]}, ""),
    ),
    Case(
        "quay",
        lambda s: payloads.encode(payloads.quay("shop", s.service("quay"), ["v1.2.3"])),
        lambda s, _: _path(s, "quay"),
        lambda s, _: ({"x-rollwright-token": "wrong"}, ""),
        expect_digest=None,
    ),
    Case(
        "generic",
        lambda s: payloads.encode(payloads.generic(f"registry.local:5000/{s.repository('generic')}", "v1.2.3", DIGEST)),
        lambda s, body: ({"x-rollwright-signature-256": s.sign("generic", body), "x-rollwright-delivery": "ci-77"}, ""),
        lambda s, body: ({"x-rollwright-signature-256": "sha256=" + "0" * 64}, ""),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.source for case in CASES])
async def test_authenticated_push_feeds_the_first_lane(stack: WebhookStack, case: Case) -> None:
    body = case.body(stack)
    headers, path = case.good(stack, body)
    response = await stack.post(case.source, body, {"content-type": case.content_type, **headers}, path)

    assert response.status_code == 202, response.text
    answer = response.json()
    service = stack.service(case.source)
    workflow_id = stack.lane(case.source)
    assert workflow_id == intake_workflow_id(stack.config, service) == f"lane-{service}-{FIRST_ENVIRONMENT}"
    assert answer["status"] == "accepted"
    assert answer["workflow_ids"] == [workflow_id]
    [event] = await stack.enqueued(case.source)
    assert event.service == service
    assert event.tag == "v1.2.3"
    assert event.digest_hint == case.expect_digest
    assert event.source.source == case.source
    assert event.source.delivery_id == answer["accepted"][0]["delivery_id"]
    assert stack.repository(case.source) in event.repository
    # The push alone travels: the plan is the workers' to read when a deployment starts.
    assert event.settings is None
    description = await stack.client.get_workflow_handle(workflow_id).describe()
    assert description.workflow_type == "LaneWorkflow"
    assert description.task_queue == stack.config.temporal.task_queue
    # How the Temporal UI finds the lane before any worker has run it.
    attributes = description.typed_search_attributes
    assert attributes.get(sa.SERVICE) == service
    assert attributes.get(sa.ENVIRONMENT) == FIRST_ENVIRONMENT
    assert attributes.get(sa.LANE) == f"{service}/{FIRST_ENVIRONMENT}"
    # The same visibility query the fuzz test relies on to prove that nothing started.
    count = await stack.client.count_workflows(f"TaskQueue = '{stack.config.temporal.task_queue}'")
    assert count.count == 1


@pytest.mark.parametrize("case", CASES, ids=[case.source for case in CASES])
async def test_wrong_credential_is_401_and_starts_nothing(stack: WebhookStack, case: Case) -> None:
    body = case.body(stack)
    headers, path = case.bad(stack, body)
    response = await stack.post(case.source, body, {"content-type": case.content_type, **headers}, path)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "does not match" in response.json()["reason"]
    assert not await stack.lane_exists(case.source)


@pytest.mark.parametrize("case", CASES, ids=[case.source for case in CASES])
async def test_missing_credential_is_401_and_starts_nothing(stack: WebhookStack, case: Case) -> None:
    response = await stack.post(case.source, case.body(stack), {"content-type": case.content_type})

    assert response.status_code == 401
    assert response.json()["reason"].startswith("missing credential")
    assert not await stack.lane_exists(case.source)


async def test_github_rejects_a_token_when_only_a_signature_is_configured(stack: WebhookStack) -> None:
    body = payloads.encode(payloads.github("shop", stack.service("github"), "v1.2.3", DIGEST))
    response = await stack.post("github", body, {"authorization": "Bearer anything"})

    assert response.status_code == 401
    assert "X-Hub-Signature-256".lower() in response.json()["reason"]
    assert not await stack.lane_exists("github")
