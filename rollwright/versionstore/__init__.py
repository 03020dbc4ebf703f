"""The version data store: published versions, per-region deployments, last known good, bad marks (audited), the
audit of deliberate acts on lanes, freezes, and the manifests each Pulumi run rendered (by content hash).

A SQLite file by default, PostgreSQL by URL; one SQLAlchemy Core implementation with its own migrations.
"""

from rollwright.versionstore.errors import (
    InvalidFreezeError,
    InvalidLaneActionError,
    NotFrozenError,
    NotMarkedBadError,
    RenderedManifestsMissingError,
    VersionStoreError,
    VersionStoreUnavailableError,
)
from rollwright.versionstore.models import (
    AuditAction,
    AuditRecord,
    BadMark,
    DeploymentRecord,
    LaneActionRecord,
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
    "InvalidFreezeError",
    "InvalidLaneActionError",
    "LaneActionRecord",
    "LiveRegion",
    "NotFrozenError",
    "NotMarkedBadError",
    "RenderedManifestsMissingError",
    "VersionRecord",
    "VersionState",
    "VersionStore",
    "VersionStoreError",
    "VersionStoreUnavailableError",
]
