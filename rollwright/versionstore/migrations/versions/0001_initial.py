"""Versions, deployments, current regions, bad marks, audit log: what the hand-written migration 1 created.

Revision 0001, the first.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_NAME = 63
_DIGEST = 140
_TAG = 128
_ID = 255


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service", sa.String(_NAME), nullable=False),
        sa.Column("tag", sa.String(_TAG), nullable=False),
        sa.Column("digest", sa.String(_DIGEST), nullable=False),
        sa.Column("image", sa.String(512)),
        sa.Column("state", sa.String(16), nullable=False),
        _when("pushed_at", nullable=True),
        sa.Column("source", sa.String(64)),
        sa.Column("source_event_id", sa.String(_ID)),
        sa.Column("workflow_id", sa.String(_ID)),
        _when("recorded_at"),
        _when("updated_at"),
        sa.UniqueConstraint("service", "tag", "digest", name="uq_versions_service_tag_digest"),
    )
    op.create_index("ix_versions_service_digest", "versions", ["service", "digest"])

    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service", sa.String(_NAME), nullable=False),
        sa.Column("environment", sa.String(_NAME), nullable=False),
        sa.Column("region", sa.String(_NAME), nullable=False),
        sa.Column("digest", sa.String(_DIGEST), nullable=False),
        sa.Column("tag", sa.String(_TAG), nullable=False),
        sa.Column("workflow_id", sa.String(_ID), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text),
        _when("started_at"),
        _when("updated_at"),
        _when("live_at", nullable=True),
        _when("finished_at", nullable=True),
        sa.UniqueConstraint("service", "environment", "region", "workflow_id", "digest", name="uq_deployments_run"),
    )
    op.create_index("ix_deployments_target", "deployments", ["service", "environment", "region"])

    op.create_table(
        "region_current",
        sa.Column("service", sa.String(_NAME), nullable=False),
        sa.Column("environment", sa.String(_NAME), nullable=False),
        sa.Column("region", sa.String(_NAME), nullable=False),
        sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id"), nullable=False),
        sa.Column("digest", sa.String(_DIGEST), nullable=False),
        sa.Column("tag", sa.String(_TAG), nullable=False),
        sa.Column("workflow_id", sa.String(_ID), nullable=False),
        _when("since"),
        sa.PrimaryKeyConstraint("service", "environment", "region", name="pk_region_current"),
    )

    op.create_table(
        "bad_digests",
        sa.Column("service", sa.String(_NAME), nullable=False),
        sa.Column("digest", sa.String(_DIGEST), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(_ID), nullable=False),
        sa.Column("workflow_id", sa.String(_ID)),
        _when("marked_at"),
        sa.PrimaryKeyConstraint("service", "digest", name="pk_bad_digests"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        _when("at"),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("service", sa.String(_NAME), nullable=False),
        sa.Column("digest", sa.String(_DIGEST), nullable=False),
        sa.Column("actor", sa.String(_ID), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("workflow_id", sa.String(_ID)),
        sa.Column("request_key", sa.String(512), unique=True),
    )
    op.create_index("ix_audit_service_digest", "audit_log", ["service", "digest"])
