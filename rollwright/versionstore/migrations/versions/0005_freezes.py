"""Freezes: "stop the line" for all services or some, in one environment or all; lifted, never deleted.

Revision 0005, after 0004.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The widths schema.py gives these columns when this revision was written (a shipped revision never changes).
_NAME = 63
_ID = 255


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "freezes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("services", sa.Text),
        sa.Column("environment", sa.String(_NAME)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(_ID), nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        _when("created_at"),
        _when("until", nullable=True),
        sa.Column("let_running_finish", sa.Boolean, nullable=False),
        _when("lifted_at", nullable=True),
        sa.Column("lifted_by", sa.String(_ID)),
        sa.Column("lift_reason", sa.Text),
    )
    op.create_index("ix_freezes_lifted_at", "freezes", ["lifted_at"])
