"""timestamps: RFC 3161 time-stamp tokens of history heads and captures

Created: 2026-12-01 15:00:00

Released migrations are never edited: change the schema with a new one.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timestamps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tsa_url", sa.Text(), nullable=False),
        sa.Column("gen_time", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("timestamps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timestamps_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_timestamps_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("timestamps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timestamps_subject_id"))
        batch_op.drop_index(batch_op.f("ix_timestamps_case_id"))
    op.drop_table("timestamps")
