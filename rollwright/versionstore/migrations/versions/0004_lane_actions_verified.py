"""Lane actions say whether their actor was verified (the control API's attested subject) or only named.

Revision 0004, after 0003. Actions audited before it were all unverified: no control could be verified then.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a NOT NULL column in place without a default it copies from.
    with op.batch_alter_table("lane_actions") as batch:
        batch.add_column(sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()))
