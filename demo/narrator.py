"""What the demo prints: a story for a person at a terminal, one line per thing that happened."""

from __future__ import annotations

import sys
import time


class Narrator:
    def __init__(self) -> None:
        self._started = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since the demo began."""
        return time.monotonic() - self._started

    def _stamp(self) -> str:
        elapsed = int(self.elapsed)
        return f"[{elapsed // 60:02d}:{elapsed % 60:02d}]"

    def chapter(self, title: str) -> None:
        print(f"\n{self._stamp()} == {title}", flush=True)

    def say(self, text: str) -> None:
        print(f"{self._stamp()}    {text}", flush=True)

    def detail(self, text: str) -> None:
        print(f"{self._stamp()}      · {text}", flush=True)

    def problem(self, text: str) -> None:
        print(f"{self._stamp()} !! {text}", file=sys.stderr, flush=True)
