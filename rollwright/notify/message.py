"""A Rollwright notification as a Slack-compatible message: `text` for any client, plus `blocks` and
`attachments` carrying the structured fields (Mattermost, Rocket.Chat and Discord's /slack endpoint read these)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from rollwright.domain.digest import short
from rollwright.domain.notification import Notification, NotificationKind

_HEADLINES = {
    NotificationKind.APPROVAL_NEEDED: ":raised_hand: {service} {tag} is waiting for approval to enter {environment}",
    NotificationKind.ENVIRONMENT_SUCCEEDED: ":white_check_mark: {service} {tag} is live in {environment}",
    NotificationKind.ROLLED_BACK: ":rewind: {service} {tag} was rolled back",
    NotificationKind.FAILED: ":x: {service} {tag} failed to deploy",
    NotificationKind.HALTED: ":octagonal_sign: {service} {tag} is halted in {environment}: abort or resume it",
    NotificationKind.BREAK_GLASS: ":rotating_light: {service} {tag} goes through {environment}'s closed deploy window",
}
_COLORS = {
    NotificationKind.APPROVAL_NEEDED: "warning",
    NotificationKind.ENVIRONMENT_SUCCEEDED: "good",
    NotificationKind.ROLLED_BACK: "danger",
    NotificationKind.FAILED: "danger",
    NotificationKind.HALTED: "warning",
    NotificationKind.BREAK_GLASS: "warning",
}


class SlackMessage(BaseModel):
    text: str
    blocks: list[dict[str, Any]] = Field(default_factory=list)
    attachments: list[dict[str, Any]] = Field(default_factory=list)


def _fields(notification: Notification) -> list[tuple[str, str]]:
    fields = [
        ("Service", notification.service),
        ("Tag", notification.tag),
        ("Digest", notification.digest),
        ("Environment", notification.environment or "-"),
        ("Regions", ", ".join(notification.regions) or "-"),
        ("Workflow", notification.workflow_id),
    ]
    if notification.reason:
        fields.append(("Reason", notification.reason))
    if notification.advisories:
        fields.append(("Advisories", "\n".join(notification.advisories)))
    return fields


def render(notification: Notification) -> SlackMessage:
    headline = _HEADLINES[notification.kind].format(
        service=notification.service, tag=notification.tag, environment=notification.environment or "its environment"
    )
    detail = f" ({short(notification.digest)}"
    if notification.regions:
        detail += f"; regions {', '.join(notification.regions)}"
    detail += ")"
    text = headline + detail + (f": {notification.reason}" if notification.reason else "")
    fields = _fields(notification)
    return SlackMessage(
        text=text,
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{title}*\n{value}"} for title, value in fields[:10]],
            },
        ],
        attachments=[
            {
                "fallback": text,
                "color": _COLORS[notification.kind],
                "fields": [
                    {
                        "title": title,
                        "value": value,
                        "short": title not in {"Digest", "Reason", "Regions", "Advisories"},
                    }
                    for title, value in fields
                ],
                "footer": f"Rollwright · {notification.kind.value}",
            }
        ],
    )
