"""Acceptance 4: the notify activity posts one Slack-compatible message; delivery problems never fail it."""

from __future__ import annotations

import io
import sys

import pytest
import structlog
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities
from devstack.ports import free_port
from rollwright.config.models import NotifyConfig
from rollwright.connections.http import RetryPolicy, Timeouts
from rollwright.domain.notification import Notification, NotificationKind
from rollwright.notify import NotifySettings
from rollwright.observability.logging import configure_logging
from rollwright.secrets import SecretRef
from tests.notify.conftest import Endpoint

DIGEST = "sha256:" + "c0" * 32
FAST = NotifySettings(
    retry=RetryPolicy(max_attempts=3, initial_backoff=0.01), timeouts=Timeouts(connect=2, read=2, write=2, pool=2)
)
ROLLBACK = Notification(
    kind=NotificationKind.ROLLED_BACK,
    service="checkout-api",
    tag="v1.4.0",
    digest=DIGEST,
    environment="prod",
    regions=["checkout-api/prod/us-east-1", "checkout-api/prod/eu-west-1"],
    reason="canary analysis failed in checkout-api/prod/eu-west-1: error rate 7% > 1%",
    workflow_id="deploy-checkout-api-v1.4.0-abc",
)


def _activities(monkeypatch: pytest.MonkeyPatch, url: str | None) -> NotifyActivities:
    if url is None:
        return NotifyActivities(NotifyConfig(), FAST)
    monkeypatch.setenv("RW_TEST_NOTIFY_URL", url)
    return NotifyActivities(NotifyConfig(webhook_url=SecretRef(env="RW_TEST_NOTIFY_URL")), FAST)


async def test_a_rollback_posts_one_message_with_the_facts(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = _activities(monkeypatch, endpoint.url).notify

    await ActivityEnvironment().run(notify, ROLLBACK)

    [message] = endpoint.received
    for fact in ["checkout-api", DIGEST[:19], "us-east-1", "eu-west-1", "error rate 7% > 1%"]:
        assert fact in message["text"]
    fields = {field["title"]: field["value"] for field in message["attachments"][0]["fields"]}
    assert fields["Service"] == "checkout-api"
    assert fields["Digest"] == DIGEST
    assert fields["Regions"] == "checkout-api/prod/us-east-1, checkout-api/prod/eu-west-1"
    assert fields["Reason"] == ROLLBACK.reason
    assert fields["Workflow"] == ROLLBACK.workflow_id
    assert message["attachments"][0]["color"] == "danger"
    block_text = " ".join(field["text"] for field in message["blocks"][1]["fields"])
    assert "*Environment*\nprod" in block_text


async def test_a_flaky_endpoint_is_retried_and_gets_the_message_once(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint.failures = [503, 429]

    await ActivityEnvironment().run(_activities(monkeypatch, endpoint.url).notify, ROLLBACK)

    assert endpoint.attempts == 3
    assert len(endpoint.received) == 1


async def test_undeliverable_notifications_never_fail_the_activity(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint.failures = [500, 500, 500, 500]
    logged_to = io.StringIO()
    monkeypatch.setattr(sys, "stderr", logged_to)
    configure_logging("json", "DEBUG")
    try:
        await ActivityEnvironment().run(_activities(monkeypatch, endpoint.url).notify, ROLLBACK)
        endpoint.failures = [400]
        await ActivityEnvironment().run(_activities(monkeypatch, endpoint.url).notify, ROLLBACK)
        closed = f"http://127.0.0.1:{free_port()}/hooks/secret"
        await ActivityEnvironment().run(_activities(monkeypatch, closed).notify, ROLLBACK)
    finally:
        structlog.reset_defaults()

    logs = logged_to.getvalue()
    assert endpoint.received == []
    assert endpoint.attempts == 4  # three for the 500s (bounded), one for the 400 (not retried)
    assert logs.count("notification not delivered") == 3
    assert "HTTP 400" in logs
    assert "/services/T000/B000/secretpath" not in logs
    assert "/hooks/secret" not in logs


async def test_without_a_url_it_is_a_no_op(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    await ActivityEnvironment().run(_activities(monkeypatch, None).notify, ROLLBACK)
    unset = NotifyActivities(NotifyConfig(webhook_url=SecretRef(env="RW_TEST_NOTIFY_URL_UNSET")), FAST)
    await ActivityEnvironment().run(unset.notify, ROLLBACK)

    assert endpoint.attempts == 0
