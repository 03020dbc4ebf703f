"""The `notify` activity: tell people what a deployment did. It never fails a deployment (the workflow treats
a notification as best effort). An endpoint that cannot take the message now fails the attempt as retryable, so
Temporal's retry policy tries again; one that refuses it is logged and dropped, as retrying cannot help; with no URL
configured it does nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import ActivityName
from activities.heartbeat import keeps_heartbeating
from rollwright.config.models import NotifyConfig, RollwrightConfig
from rollwright.domain.notification import Notification
from rollwright.notify import NotifyRejectedError, NotifySettings, NotifyUnavailableError, SlackWebhookClient, render
from rollwright.observability.logging import get_logger, register_secret
from rollwright.secrets import SecretUnavailableError, read_secret

log = get_logger(__name__)


class NotifyActivities:
    def __init__(self, config: NotifyConfig, settings: NotifySettings | None = None) -> None:
        self._config = config
        self._settings = settings or NotifySettings()

    @activity.defn(name=ActivityName.NOTIFY)
    @keeps_heartbeating
    async def notify(self, notification: Notification) -> None:
        fields = {
            "kind": notification.kind.value,
            "service": notification.service,
            "workflow": notification.workflow_id,
        }
        if self._config.webhook_url is None:
            log.debug("no notify.webhook_url configured; notification skipped", **fields)
            return
        try:
            # Read at each call, so a rotated URL is picked up without restarting workers.
            url = read_secret(self._config.webhook_url)
        except SecretUnavailableError as exc:
            log.warning("notification not sent: webhook URL unavailable", problem=str(exc), **fields)
            return
        register_secret(url)
        try:
            async with SlackWebhookClient(url, self._settings) as slack:
                await slack.post(render(notification))
        except NotifyRejectedError as exc:
            log.warning("notification not delivered", problem=str(exc), **fields)
            return
        except NotifyUnavailableError as exc:
            log.warning("notification not delivered yet", problem=str(exc), attempt=activity.info().attempt, **fields)
            # No cause chained: the client's errors never quote the URL, which is a secret.
            raise ApplicationError(str(exc), type=type(exc).__name__) from None
        log.info("notification sent", **fields)


def create_activities(config: RollwrightConfig) -> list[Callable[..., Any]]:
    return [NotifyActivities(config.notify).notify]
