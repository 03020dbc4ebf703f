"""Drop the hand-written mechanism's `schema_migrations` table: Alembic's `alembic_version` took its place.

Revision 0002, after 0001. Only stores created before Alembic have the table.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TABLE IF EXISTS schema_migrations")
