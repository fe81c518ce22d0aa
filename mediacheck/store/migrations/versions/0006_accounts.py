"""accounts: desk members, their roles, password hashes and API tokens; verdict decisions

Created: 2026-12-01 15:00:00

Accounts and API tokens are new tables. A verdict's approval or rejection becomes a
row of ``verdict_decisions`` rather than an update of the verdict row, so a
PostgreSQL desk can deny UPDATE on verdicts (``db grant``); verdicts decided before
keep their decision in their own row, and the store reads both the same way.

Released migrations are never edited: change the schema with a new one.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["account"], ["accounts.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_account"), ["account"], unique=False)
    op.create_table(
        "verdict_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verdict_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["verdict_id"], ["verdicts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("verdict_id"),
    )


def downgrade() -> None:
    _fold_decisions_into_verdicts()
    op.drop_table("verdict_decisions")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_account"))
    op.drop_table("api_tokens")
    op.drop_table("accounts")


def _fold_decisions_into_verdicts() -> None:
    """Before 0006 a decision was written into its verdict's row: put each one back there."""
    for column, source in [
        ("state", "state"),
        ("decided_by", "decided_by"),
        ("decided_at", "decided_at"),
        ("decision_comment", "comment"),
    ]:
        op.execute(
            f"UPDATE verdicts SET {column} = (SELECT d.{source} FROM verdict_decisions d "
            "WHERE d.verdict_id = verdicts.id) "
            "WHERE id IN (SELECT verdict_id FROM verdict_decisions)"
        )
