"""seen-before spans: which stretch of a stored video a new video shows

Created: 2026-12-01 15:05:00

A video found in a stored video records the stretch of each: ``stored_start_s``,
``stored_end_s``, ``query_start_s`` and ``query_end_s`` (seconds), null for every
earlier row and for photos.

Released migrations are never edited: change the schema with a new one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("stored_start_s", "stored_end_s", "query_start_s", "query_end_s")


def upgrade() -> None:
    with op.batch_alter_table("seen_before", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seen_before", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
