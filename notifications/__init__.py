"""Slack-compatible notifications: the message format and a client for incoming-webhook URLs."""

from notifications.client import NotifySettings, SlackWebhookClient
from notifications.errors import NotifyError, NotifyRejectedError, NotifyUnavailableError
from notifications.message import SlackMessage, render

__all__ = [
    "NotifyError",
    "NotifyRejectedError",
    "NotifySettings",
    "NotifyUnavailableError",
    "SlackMessage",
    "SlackWebhookClient",
    "render",
]
