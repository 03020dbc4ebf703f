"""What every source's payload boils down to: pushed tags (hints) and the events that started nothing."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

_SHA256_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


class Payload(BaseModel):
    """Base of every registry payload model: registries add fields freely, so unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ImagePush(BaseModel):
    """One tag a source says was pushed. A hint only: the pipeline re-resolves tag → digest itself."""

    model_config = ConfigDict(frozen=True)

    # Names a service's `image` may match, most specific first (e.g. `host/shop/api`, then `shop/api`).
    names: tuple[str, ...] = Field(min_length=1)
    tag: str
    digest: str | None = None
    delivery_id: str
    pushed_at: datetime | None = None
    actor: str | None = None

    @property
    def repository(self) -> str:
        return self.names[0]


class Skipped(BaseModel):
    """An event in a delivery that starts nothing, and why (a blob push, a pull, a delete, …)."""

    event: str
    reason: str


class Extracted(BaseModel):
    pushes: list[ImagePush] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)


def body_fingerprint(source: str, body: bytes) -> str:
    """A stable delivery id for sources that send none: a redelivery carries the same bytes."""
    return f"{source}-{hashlib.sha256(body).hexdigest()[:32]}"


def sha256_or_none(value: str | None) -> str | None:
    """Keep a digest hint only when it is one Rollwright can pin; anything else is dropped, not trusted."""
    if value is not None and _SHA256_RE.match(value):
        return value
    return None


def from_epoch(value: float | None) -> datetime | None:
    if value is None or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def names_for(repository: str, *hosts: str | None) -> tuple[str, ...]:
    """`host/repository` for each known host, then the bare repository path."""
    qualified = tuple(f"{host}/{repository}" for host in hosts if host)
    return (*qualified, repository)
