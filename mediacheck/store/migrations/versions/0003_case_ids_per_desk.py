"""case ids per desk: no unique (year, seq) across desks

Created: 2026-12-01 12:40:00

A case is numbered within its desk's prefix (MC-2026-0001, KYIV-2026-0001), so two
desks' cases of the same year share numbers: the case id (the primary key) stays
unique, the (year, seq) pair does not. SQLite cannot drop a constraint: the cases
table is rebuilt, its rows copied out and back while foreign keys are checked only
at commit (every child row finds its case again by then).

Released migrations are never edited: change the schema with a new one.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POSTGRES_NAME = "cases_year_seq_key"  # PostgreSQL's name for 0001's UniqueConstraint


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_cases(unique_year_seq=False)
    else:
        op.drop_constraint(POSTGRES_NAME, "cases", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_cases(unique_year_seq=True)
    else:
        op.create_unique_constraint(POSTGRES_NAME, "cases", ["year", "seq"])


def _rebuild_cases(unique_year_seq: bool) -> None:
    columns = _case_columns()
    names = ", ".join(column.name for column in columns)
    op.execute("PRAGMA defer_foreign_keys=ON")
    op.execute("CREATE TABLE _cases_rows AS SELECT * FROM cases")
    op.execute("DROP TABLE cases")
    keys = [sa.UniqueConstraint("year", "seq")] if unique_year_seq else []
    op.create_table("cases", *columns, sa.PrimaryKeyConstraint("id"), *keys)
    op.execute(f"INSERT INTO cases ({names}) SELECT {names} FROM _cases_rows")
    op.execute("DROP TABLE _cases_rows")


def _case_columns() -> list[sa.Column]:
    """The cases table's columns as 0001 made them."""
    return [
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("claim", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("posted_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("assignee", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("claimed_lat", sa.Float(), nullable=True),
        sa.Column("claimed_lon", sa.Float(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    ]
