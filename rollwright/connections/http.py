"""Timeouts and retry budgets: what every Rollwright HTTP client takes as explicit objects.

Clients subclass these only to change defaults (a registry moves big blobs; Argo CD rides out restarts).
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field


class FrozenSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(FrozenSettings):
    connect: float = Field(default=5.0, gt=0)
    read: float = Field(default=10.0, gt=0)
    write: float = Field(default=10.0, gt=0)
    pool: float = Field(default=5.0, gt=0)

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class RetryPolicy(FrozenSettings):
    """Bounded retries for transient failures; each wait is backoff × multiplier^n, capped."""

    max_attempts: int = Field(default=3, ge=1)
    initial_backoff: float = Field(default=0.2, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    max_backoff: float = Field(default=2.0, ge=0)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1 = the first retry)."""
        return float(min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1)))
