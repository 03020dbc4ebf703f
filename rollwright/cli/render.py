"""Plain-text tables and times for a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(headers), *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def ago(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "-"
    now = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int((now - when).total_seconds())
    # A due time (a promotion's) lies ahead; anything else a little ahead is clock skew between machines.
    ahead = seconds < -1
    seconds = abs(seconds) if ahead else max(0, seconds)
    if seconds < 120:
        span = f"{seconds}s"
    elif seconds < 7200:
        span = f"{seconds // 60}m"
    elif seconds < 172800:
        span = f"{seconds // 3600}h"
    else:
        span = f"{seconds // 86400}d"
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z ({'in ' + span if ahead else span + ' ago'})"


def short_digest(digest: str | None) -> str:
    return digest[:19] if digest else "-"
