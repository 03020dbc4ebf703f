"""The version store's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Every write path has a unique key to upsert on, so a retried activity updates its own row, never adds one.
The tables are what the revisions in `migrations/versions/` build; a change here needs a revision there
(a test compares the two on both databases).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

_NAME = 63
_DIGEST = 140  # room for sha512
_TAG = 128
_ID = 255


def _when(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("service", String(_NAME), nullable=False),
    Column("tag", String(_TAG), nullable=False),
    Column("digest", String(_DIGEST), nullable=False),
    Column("image", String(512)),
    Column("state", String(16), nullable=False),
    _when("pushed_at", nullable=True),
    Column("source", String(64)),
    Column("source_event_id", String(_ID)),
    Column("workflow_id", String(_ID)),
    _when("recorded_at"),
    _when("updated_at"),
    UniqueConstraint("service", "tag", "digest", name="uq_versions_service_tag_digest"),
    Index("ix_versions_service_digest", "service", "digest"),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("service", String(_NAME), nullable=False),
    Column("environment", String(_NAME), nullable=False),
    Column("region", String(_NAME), nullable=False),
    Column("digest", String(_DIGEST), nullable=False),
    Column("tag", String(_TAG), nullable=False),
    Column("workflow_id", String(_ID), nullable=False),
    Column("state", String(16), nullable=False),
    Column("detail", Text),
    _when("started_at"),
    _when("updated_at"),
    _when("live_at", nullable=True),
    _when("finished_at", nullable=True),
    # One row per deployment of a digest to a region; a rollback in the same workflow is another digest.
    UniqueConstraint("service", "environment", "region", "workflow_id", "digest", name="uq_deployments_run"),
    Index("ix_deployments_target", "service", "environment", "region"),
)

region_current = Table(
    "region_current",
    metadata,
    Column("service", String(_NAME), nullable=False),
    Column("environment", String(_NAME), nullable=False),
    Column("region", String(_NAME), nullable=False),
    Column("deployment_id", Integer, ForeignKey("deployments.id"), nullable=False),
    Column("digest", String(_DIGEST), nullable=False),
    Column("tag", String(_TAG), nullable=False),
    Column("workflow_id", String(_ID), nullable=False),
    _when("since"),
    PrimaryKeyConstraint("service", "environment", "region", name="pk_region_current"),
)

bad_digests = Table(
    "bad_digests",
    metadata,
    Column("service", String(_NAME), nullable=False),
    Column("digest", String(_DIGEST), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(_ID), nullable=False),
    Column("workflow_id", String(_ID)),
    _when("marked_at"),
    PrimaryKeyConstraint("service", "digest", name="pk_bad_digests"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    _when("at"),
    Column("action", String(32), nullable=False),
    Column("service", String(_NAME), nullable=False),
    Column("digest", String(_DIGEST), nullable=False),
    Column("actor", String(_ID), nullable=False),
    Column("reason", Text, nullable=False),
    Column("workflow_id", String(_ID)),
    # Set by callers that may retry (activities): the same request is audited once.
    Column("request_key", String(512), unique=True),
    Index("ix_audit_service_digest", "service", "digest"),
)

lane_actions = Table(
    "lane_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("service", String(_NAME), nullable=False),
    Column("environment", String(_NAME), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(_ID), nullable=False),
    Column("reason", Text, nullable=False),
    _when("at"),
    Column("workflow_id", String(_ID), nullable=False),
    Column("tag", String(_TAG)),
    Column("digest", String(_DIGEST)),
    _when("recorded_at"),
    # The actor is the control API's attested subject, not only a name the request gave.
    Column("verified", Boolean, nullable=False, server_default=false()),
    # A lane acts once per instant of its own history: a retried audit activity finds its row here.
    UniqueConstraint("workflow_id", "action", "at", name="uq_lane_actions_act"),
    Index("ix_lane_actions_lane", "service", "environment", "at"),
)

freezes = Table(
    "freezes",
    metadata,
    Column("id", Integer, primary_key=True),
    # A JSON list of service names; NULL freezes every service.
    Column("services", Text),
    # NULL: every environment.
    Column("environment", String(_NAME)),
    Column("reason", Text, nullable=False),
    Column("actor", String(_ID), nullable=False),
    Column("verified", Boolean, nullable=False),
    _when("created_at"),
    _when("until", nullable=True),
    Column("let_running_finish", Boolean, nullable=False),
    # Never deleted: an unfreeze stamps these, so the table is the freezes' audit trail.
    _when("lifted_at", nullable=True),
    Column("lifted_by", String(_ID)),
    Column("lift_reason", Text),
    Index("ix_freezes_lifted_at", "lifted_at"),
)

rendered_manifests = Table(
    "rendered_manifests",
    metadata,
    # The region directory's content hash (rollwright.stacks.k8s_manifests.content_hash): equal keys, equal files.
    Column("content_hash", String(64), nullable=False),
    # A JSON object: path in the GitOps repository -> file content.
    Column("files", Text, nullable=False),
    # Refreshed whenever the same files are rendered again; rows untouched for the retention are pruned.
    _when("stored_at"),
    PrimaryKeyConstraint("content_hash", name="pk_rendered_manifests"),
    Index("ix_rendered_manifests_stored_at", "stored_at"),
)
