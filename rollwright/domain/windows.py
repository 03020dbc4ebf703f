"""Deploy windows: when an environment takes changes (weekly open windows) and when it never does (deny windows)."""

from __future__ import annotations

import re
from datetime import datetime, time
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
