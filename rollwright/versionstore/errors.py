"""Everything the version store raises.

VersionStoreError
├── VersionStoreUnavailableError   the database cannot be reached or is locked (retry later)
├── NotMarkedBadError              clearing a bad mark that does not exist (nothing to do; say so)
├── InvalidLaneActionError         a lane action the audit cannot take as given (retrying cannot help)
├── InvalidFreezeError             a freeze or unfreeze without actor or reason, or expiring in the past
├── NotFrozenError                 an unfreeze that finds no active freeze in its scope
└── RenderedManifestsMissingError  a commit asks for rendered manifests the store does not hold (render again)
"""

from __future__ import annotations


class VersionStoreError(Exception):
    """Base of every version store error."""


class VersionStoreUnavailableError(VersionStoreError):
    pass


class NotMarkedBadError(VersionStoreError):
    pass


class InvalidLaneActionError(VersionStoreError):
    pass


class InvalidFreezeError(VersionStoreError):
    """A freeze or unfreeze the audit cannot take as given (no actor or reason, an expiry in the past)."""


class NotFrozenError(VersionStoreError):
    """An unfreeze with no active freeze in its scope (nothing to lift; say so)."""


class RenderedManifestsMissingError(VersionStoreError):
    """Rendered manifests asked for by a content hash the store does not hold (pruned, or another store's)."""
