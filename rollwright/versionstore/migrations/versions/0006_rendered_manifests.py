"""Rendered manifests by content hash: a Pulumi run leaves a region's files here and the GitOps commit reads them,
so the deployment's history carries a hash instead of every file.

Revision 0006, after 0005.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rendered_manifests",
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name="pk_rendered_manifests"),
    )
    op.create_index("ix_rendered_manifests_stored_at", "rendered_manifests", ["stored_at"])
