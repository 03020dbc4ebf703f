"""Where a version came from: the webhook delivery or CLI call that announced it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class SourceEvent(BaseModel):
    """Where a version came from: which webhook delivery (or CLI call) announced it."""

    source: str
    delivery_id: str
    received_at: datetime | None = None
    actor: str | None = None
