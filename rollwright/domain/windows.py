"""Deploy windows: when an environment takes changes (weekly open windows) and when it never does (deny windows)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS_RE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$")


def parse_days(days: str) -> frozenset[int]:
    """`mon-fri`, `sat,sun`, `mon,wed-fri` as weekday numbers (Monday 0); ValueError naming a bad part."""
    chosen: set[int] = set()
    for part in days.lower().replace(" ", "").split(","):
        match = _DAYS_RE.match(part)
        if not match:
            raise ValueError(f"days: {part!r} is not a day or range of days (mon..sun, e.g. mon-fri)")
        first = WEEKDAYS.index(match.group(1))
        last = WEEKDAYS.index(match.group(3)) if match.group(3) else first
        # A range may wrap the week's end: fri-mon is Friday to Monday.
        span = (last - first) % 7
        chosen.update((first + offset) % 7 for offset in range(span + 1))
    return frozenset(chosen)


class DeployWindow(BaseModel):
    """`{days: mon-fri, from: "09:00", to: "16:00", tz: Europe/Berlin}`: open on those days between those local
    times (`to` before `from` runs past midnight into the next day)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    days: str = "mon-sun"
    start: time = Field(alias="from")
    end: time = Field(alias="to")
    tz: str = "UTC"

    @field_validator("days")
    @classmethod
    def _days_parse(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("tz")
    @classmethod
    def _tz_is_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"tz: unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)") from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> DeployWindow:
        if self.start == self.end:
            raise ValueError("a window's from and to must differ")
        return self


class DenyWindow(BaseModel):
    """`{from: 2026-12-24T00:00:00+01:00, to: 2026-12-27T00:00:00+01:00, reason: holidays}`: closed in between,
    whatever the open windows say."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered_and_zoned(self) -> DenyWindow:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a deny window's from and to need a UTC offset (e.g. 2026-12-24T00:00:00+01:00)")
        if self.end <= self.start:
            raise ValueError("a deny window's to must come after its from")
        return self


class Closed(BaseModel):
    """An environment closed now: when it opens next, and why it is closed."""

    model_config = ConfigDict(frozen=True)

    until: datetime
    reason: str


# How far ahead an opening is looked for; a config closed for longer is re-checked after this (never a busy loop).
_HORIZON = timedelta(days=400)


def _in_window(window: DeployWindow, moment: datetime) -> bool:
    zone = ZoneInfo(window.tz)
    local = moment.astimezone(zone)
    days = parse_days(window.days)
    # A window running past midnight may have opened yesterday.
    for day in (local.date() - timedelta(days=1), local.date()):
        if day.weekday() not in days:
            continue
        opens = datetime.combine(day, window.start, zone)
        end_day = day + timedelta(days=1) if window.end <= window.start else day
        closes = datetime.combine(end_day, window.end, zone)
        # Compared in UTC: aware datetimes of one zone compare by wall clock, which a DST change makes wrong.
        if opens.astimezone(UTC) <= moment.astimezone(UTC) < closes.astimezone(UTC):
            return True
    return False


def _denied(deny_windows: Sequence[DenyWindow], moment: datetime) -> DenyWindow | None:
    return next((deny for deny in deny_windows if deny.start <= moment < deny.end), None)


def _is_open(windows: Sequence[DeployWindow], deny_windows: Sequence[DenyWindow], moment: datetime) -> bool:
    if _denied(deny_windows, moment) is not None:
        return False
    return not windows or any(_in_window(window, moment) for window in windows)


def _openings(windows: Sequence[DeployWindow], deny_windows: Sequence[DenyWindow], after: datetime) -> list[datetime]:
    """Every moment in the horizon where the environment may open: a window's start, or a deny window's end."""
    moments = [deny.end.astimezone(UTC) for deny in deny_windows if deny.end > after]
    for window in windows:
        zone = ZoneInfo(window.tz)
        days = parse_days(window.days)
        first = after.astimezone(zone).date()
        for offset in range(_HORIZON.days + 1):
            day = first + timedelta(days=offset)
            if day.weekday() in days:
                moments.append(datetime.combine(day, window.start, zone).astimezone(UTC))
    return sorted(moment for moment in moments if moment > after)


def _describe(window: DeployWindow) -> str:
    return f"{window.days} {window.start:%H:%M}-{window.end:%H:%M} {window.tz}"


def closed_until(
    moment: datetime, windows: Sequence[DeployWindow], deny_windows: Sequence[DenyWindow]
) -> Closed | None:
    """None when the environment takes changes at `moment`; otherwise when it opens next and why it is closed now.

    No open windows means always open (deny windows aside). A deny window overrides every open window.
    """
    if moment.tzinfo is None:
        raise ValueError("closed_until needs an aware moment")
    if _is_open(windows, deny_windows, moment):
        return None
    denied = _denied(deny_windows, moment)
    if denied is not None:
        reason = f"deny window until {denied.end.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {denied.reason}"
    else:
        reason = "outside the deploy windows (" + "; ".join(_describe(window) for window in windows) + ")"
    for opening in _openings(windows, deny_windows, moment):
        if _is_open(windows, deny_windows, opening):
            return Closed(until=opening, reason=reason)
    return Closed(until=moment.astimezone(UTC) + _HORIZON, reason=reason + "; no opening within 400 days")


class BreakGlass(BaseModel):
    """A verified operator's word that this deployment goes through a closed deploy window."""

    model_config = ConfigDict(frozen=True)

    actor: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    groups: tuple[str, ...] = ()
    environment: str | None = None


def break_glass_problem(groups: Sequence[str], allowed: Sequence[str], environment: str) -> str | None:
    """Why an operator in `groups` may not break through `environment`'s closed window, or None when they may."""
    if not allowed:
        return f"{environment} allows no break-glass (its break_glass_groups is empty)"
    if not set(groups) & set(allowed):
        mine = ", ".join(groups) or "none"
        return f"break-glass in {environment} needs a member of {', '.join(allowed)} (the operator's groups: {mine})"
    return None
