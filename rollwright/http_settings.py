"""Timeouts and connection retries: what every Rollwright HTTP client takes as explicit objects.

Clients fail fast. A request that reached the server is sent once: a 5xx, a 429 or a timeout becomes the
client's "unavailable" error at once, and the activity that called it maps that error to a retryable Temporal
failure, so Temporal's retry policy is the one owner of retries. Only opening a connection is tried again
here (nothing has been sent yet, so that is safe for any request).

Clients subclass these only to change defaults (a registry moves big blobs).
"""

from __future__ import annotations

import ssl

import httpx
from pydantic import BaseModel, ConfigDict, Field


class FrozenSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(FrozenSettings):
    """httpx's four timeouts; each bounds one wait (read: between two bytes of the answer), not a whole request."""

    connect: float = Field(default=5.0, gt=0)
    read: float = Field(default=10.0, gt=0)
    write: float = Field(default=10.0, gt=0)
    pool: float = Field(default=5.0, gt=0)

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class ConnectRetries(FrozenSettings):
    """How many more times a refused or timed-out connection is opened before the request fails.

    httpx's transport `retries=`: it covers connecting only, never a request that was sent. httpcore waits
    0 s, 0.5 s, 1 s, 2 s … before each retry, so connecting takes at most (count + 1) × the connect timeout
    plus those waits: 3 × 5 s + 0.5 s = 15.5 s with the defaults.
    """

    count: int = Field(default=2, ge=0, le=5)

    def transport(self, *, verify: ssl.SSLContext | bool = True) -> httpx.AsyncHTTPTransport:
        # A client given a transport ignores its own `verify`, so TLS settings go here.
        return httpx.AsyncHTTPTransport(verify=verify, retries=self.count)
