"""Slack-compatible notifications: the message format and a client for incoming-webhook URLs."""

from rollwright.notify.client import NotifySettings, SlackWebhookClient
from rollwright.notify.errors import NotifyError, NotifyRejectedError, NotifyUnavailableError
from rollwright.notify.message import SlackMessage, render

__all__ = [
    "NotifyError",
    "NotifyRejectedError",
    "NotifySettings",
    "NotifyUnavailableError",
    "SlackMessage",
    "SlackWebhookClient",
    "render",
]
