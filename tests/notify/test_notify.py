"""The notify activity posts one Slack-compatible message; an unavailable endpoint is Temporal's to retry."""

from __future__ import annotations

import io
import sys
import time

import pytest
import structlog
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities
from devstack.ports import free_port
from rollwright.config.models import NotifyConfig
from rollwright.domain.notification import Notification, NotificationKind
from rollwright.http_settings import ConnectRetries, Timeouts
from rollwright.notify import NotifySettings
from rollwright.observability.logging import configure_logging
from rollwright.secrets import SecretRef
from tests.notify.conftest import Endpoint

DIGEST = "sha256:" + "c0" * 32
FAST = NotifySettings(connect_retries=ConnectRetries(count=0), timeouts=Timeouts(connect=2, read=2, write=2, pool=2))
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


def _activities(monkeypatch: pytest.MonkeyPatch, url: str | None, settings: NotifySettings = FAST) -> NotifyActivities:
    if url is None:
        return NotifyActivities(NotifyConfig(), settings)
    monkeypatch.setenv("RW_TEST_NOTIFY_URL", url)
    return NotifyActivities(NotifyConfig(webhook_url=SecretRef(env="RW_TEST_NOTIFY_URL")), settings)


async def _unavailable(notify: NotifyActivities) -> ApplicationError:
    with pytest.raises(ApplicationError) as failure:
        await ActivityEnvironment().run(notify.notify, ROLLBACK)
    return failure.value


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


async def test_an_unavailable_endpoint_fails_the_attempt_for_temporal_to_retry(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint.failures = [503, 429]
    notify = _activities(monkeypatch, endpoint.url)

    for status in (503, 429):
        failure = await _unavailable(notify)
        assert (failure.type, failure.non_retryable) == ("NotifyUnavailableError", False)
        assert f"HTTP {status}" in failure.message
    # The third attempt, as Temporal's retry policy would make it, delivers.
    await ActivityEnvironment().run(notify.notify, ROLLBACK)

    assert endpoint.attempts == 3, "each attempt posts once: the client never resends"
    assert len(endpoint.received) == 1


async def test_a_refused_message_is_logged_and_dropped_and_the_url_never_shows(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged_to = io.StringIO()
    monkeypatch.setattr(sys, "stderr", logged_to)
    configure_logging("json", "DEBUG")
    try:
        endpoint.failures = [400]
        await ActivityEnvironment().run(_activities(monkeypatch, endpoint.url).notify, ROLLBACK)
        closed = f"http://127.0.0.1:{free_port()}/hooks/secret"
        unreachable = await _unavailable(_activities(monkeypatch, closed))
    finally:
        structlog.reset_defaults()

    logs = logged_to.getvalue()
    assert endpoint.received == []
    assert endpoint.attempts == 1, "a 400 is not retried"
    assert "HTTP 400" in logs
    assert (unreachable.type, unreachable.non_retryable) == ("NotifyUnavailableError", False)
    assert "ConnectError" in unreachable.message
    assert unreachable.__cause__ is None
    for secret in ("/services/T000/B000/secretpath", "/hooks/secret"):
        assert secret not in logs
        assert secret not in unreachable.message


async def test_a_refused_connection_is_tried_again_before_the_attempt_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = f"http://127.0.0.1:{free_port()}/hooks/secret"
    settings = FAST.model_copy(update={"connect_retries": ConnectRetries(count=2)})

    started = time.monotonic()
    await _unavailable(_activities(monkeypatch, closed, settings))

    # httpcore waits 0 s, then 0.5 s, between the three connection attempts; without retries this is instant.
    assert time.monotonic() - started >= 0.5


async def test_without_a_url_it_is_a_no_op(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    await ActivityEnvironment().run(_activities(monkeypatch, None).notify, ROLLBACK)
    unset = NotifyActivities(NotifyConfig(webhook_url=SecretRef(env="RW_TEST_NOTIFY_URL_UNSET")), FAST)
    await ActivityEnvironment().run(unset.notify, ROLLBACK)

    assert endpoint.attempts == 0
