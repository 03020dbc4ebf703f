"""The version data store: published versions, per-region deployments, last known good, bad marks (audited).

A SQLite file by default, PostgreSQL by URL; one SQLAlchemy Core implementation with its own migrations.
"""

from rollwright.versionstore.errors import NotMarkedBadError, VersionStoreError, VersionStoreUnavailableError
from rollwright.versionstore.models import (
    AuditAction,
    AuditRecord,
    BadMark,
    DeploymentRecord,
    LiveRegion,
    VersionRecord,
    VersionState,
)
from rollwright.versionstore.store import VersionStore

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
