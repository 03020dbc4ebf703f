"""The version store as the hand-written migrations (before Alembic) left it: their one migration's tables and
the `schema_migrations` table recording it. Frozen here, as shipped, so adoption of old stores stays tested."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
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
    insert,
)

metadata = MetaData()


def _when(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    _when("applied_at"),
)
Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("service", String(63), nullable=False),
    Column("tag", String(128), nullable=False),
    Column("digest", String(140), nullable=False),
    Column("image", String(512)),
    Column("state", String(16), nullable=False),
    _when("pushed_at", nullable=True),
    Column("source", String(64)),
    Column("source_event_id", String(255)),
    Column("workflow_id", String(255)),
    _when("recorded_at"),
    _when("updated_at"),
    UniqueConstraint("service", "tag", "digest", name="uq_versions_service_tag_digest"),
    Index("ix_versions_service_digest", "service", "digest"),
)
Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("service", String(63), nullable=False),
    Column("environment", String(63), nullable=False),
    Column("region", String(63), nullable=False),
    Column("digest", String(140), nullable=False),
    Column("tag", String(128), nullable=False),
    Column("workflow_id", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("detail", Text),
    _when("started_at"),
    _when("updated_at"),
    _when("live_at", nullable=True),
    _when("finished_at", nullable=True),
    UniqueConstraint("service", "environment", "region", "workflow_id", "digest", name="uq_deployments_run"),
    Index("ix_deployments_target", "service", "environment", "region"),
)
Table(
    "region_current",
    metadata,
    Column("service", String(63), nullable=False),
    Column("environment", String(63), nullable=False),
    Column("region", String(63), nullable=False),
    Column("deployment_id", Integer, ForeignKey("deployments.id"), nullable=False),
    Column("digest", String(140), nullable=False),
    Column("tag", String(128), nullable=False),
    Column("workflow_id", String(255), nullable=False),
    _when("since"),
    PrimaryKeyConstraint("service", "environment", "region", name="pk_region_current"),
)
Table(
    "bad_digests",
    metadata,
    Column("service", String(63), nullable=False),
    Column("digest", String(140), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("workflow_id", String(255)),
    _when("marked_at"),
    PrimaryKeyConstraint("service", "digest", name="pk_bad_digests"),
)
Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    _when("at"),
    Column("action", String(32), nullable=False),
    Column("service", String(63), nullable=False),
    Column("digest", String(140), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("workflow_id", String(255)),
    Column("request_key", String(512), unique=True),
    Index("ix_audit_service_digest", "service", "digest"),
)


def create_legacy_store(connection: Connection) -> None:
    """What the old `migrate` did on an empty database."""
    metadata.create_all(connection)
    connection.execute(
        insert(schema_migrations).values(
            version=1, name="versions, deployments, current regions, bad marks, audit log", applied_at=datetime.now(UTC)
        )
    )
