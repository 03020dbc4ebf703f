"""When each part of the local cluster began and became ready, in seconds since the launch began: what the
start-up benchmark breaks the total into. Parts run in parallel, so their durations add up to more than the total;
the readiness times show the critical path."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class PartTiming:
    began: float
    ready: float

    @property
    def seconds(self) -> float:
        return self.ready - self.began


class Timeline:
    def __init__(self) -> None:
        self.origin = time.monotonic()
        self.parts: dict[str, PartTiming] = {}

    def now(self) -> float:
        return time.monotonic() - self.origin

    @contextlib.contextmanager
    def part(self, name: str) -> Iterator[None]:
        """Time the block as `name`; a block that raises leaves no timing (the start failed anyway)."""
        began = self.now()
        yield
        self.parts[name] = PartTiming(began=began, ready=self.now())
