"""Everything the version store raises.

VersionStoreError
├── VersionStoreUnavailableError   the database cannot be reached or is locked (retry later)
├── NotMarkedBadError              clearing a bad mark that does not exist (nothing to do; say so)
└── InvalidLaneActionError         a lane action the audit cannot take as given (retrying cannot help)
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
