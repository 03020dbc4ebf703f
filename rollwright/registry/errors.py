"""Everything the registry client raises, as one tree so callers catch what they mean.

RegistryError
├── InvalidReferenceError        the image reference cannot be parsed (bad input, never retry)
├── RegistryAuthError            401/403, or no token could be obtained (fix credentials, never retry)
├── NotFoundError                404 on a manifest or blob (the tag/digest/repository does not exist)
├── DigestMismatchError          the body does not hash to the digest the registry or caller named
├── RegistryProtocolError        an answer no conforming registry gives (unexpected status, bad JSON)
└── RegistryUnavailableError     5xx, 429, timeout or connection failure, raised at once (retry later)

Requests are sent once; only opening a connection is retried (RegistryClientConfig.connect_retries). Retrying
RegistryUnavailableError is the caller's decision: the publish activities leave it to Temporal.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base of every registry client error."""


class InvalidReferenceError(RegistryError, ValueError):
    """An image reference that is not `host[:port]/path[:tag][@digest]`."""


class RegistryAuthError(RegistryError):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFoundError(RegistryError):
    pass


class DigestMismatchError(RegistryError):
    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class RegistryProtocolError(RegistryError):
    pass


class RegistryUnavailableError(RegistryError):
    pass
