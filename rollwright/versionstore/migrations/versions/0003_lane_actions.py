"""Lane actions: the audit of every deliberate act on a lane (rollback, pin, hold, release, promote).

Revision 0003, after 0002.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The widths schema.py gives these columns when this revision was written (a shipped revision never changes).
_NAME = 63
_DIGEST = 140
_TAG = 128
_ID = 255


def _when(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "lane_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service", sa.String(_NAME), nullable=False),
        sa.Column("environment", sa.String(_NAME), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(_ID), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        _when("at"),
        sa.Column("workflow_id", sa.String(_ID), nullable=False),
        sa.Column("tag", sa.String(_TAG)),
        sa.Column("digest", sa.String(_DIGEST)),
        _when("recorded_at"),
        sa.UniqueConstraint("workflow_id", "action", "at", name="uq_lane_actions_act"),
    )
    op.create_index("ix_lane_actions_lane", "lane_actions", ["service", "environment", "at"])
