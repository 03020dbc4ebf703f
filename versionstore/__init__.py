"""The version data store: published versions, per-region deployments, last known good, bad marks (audited).

A SQLite file by default, PostgreSQL by URL; one SQLAlchemy Core implementation with its own migrations.
"""

from versionstore.errors import NotMarkedBadError, VersionStoreError, VersionStoreUnavailableError
from versionstore.models import (
    AuditAction,
    AuditRecord,
    BadMark,
    DeploymentRecord,
    LiveRegion,
    VersionRecord,
    VersionState,
)
from versionstore.store import VersionStore

__all__ = [
    "AuditAction",
    "AuditRecord",
    "BadMark",
    "DeploymentRecord",
    "LiveRegion",
    "NotMarkedBadError",
    "VersionRecord",
    "VersionState",
    "VersionStore",
    "VersionStoreError",
    "VersionStoreUnavailableError",
]
