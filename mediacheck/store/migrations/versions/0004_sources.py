"""sources: posts and pages taken in from a link, with their WARC captures

Created: 2026-12-01 15:30:00

Two new tables: ``sources`` (one capture of a link: the URLs, the HTTP answer, what
the extractor said of the post, the WARC's digest and key in the blob store) and
``source_media`` (the media taken in from each source). No existing row changes.

Released migrations are never edited: change the schema with a new one.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", text(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("fetched_at", text(), nullable=False),
        sa.Column("fetched_by", text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("extractor", text(), nullable=True),
        sa.Column("uploader", sa.Text(), nullable=True),
        sa.Column("uploader_id", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("posted_at", text(), nullable=True),
        sa.Column("view_count", sa.BigInteger(), nullable=True),
        sa.Column("like_count", sa.BigInteger(), nullable=True),
        sa.Column("comment_count", sa.BigInteger(), nullable=True),
        sa.Column("webpage_url", sa.Text(), nullable=True),
        sa.Column("thumbnails", sa.JSON(), nullable=False),
        sa.Column("warc_sha256", text(length=64), nullable=False),
        sa.Column("warc_size", sa.BigInteger(), nullable=False),
        sa.Column("warc_path", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sources_case_id", "sources", ["case_id"])
    op.create_index("ix_sources_warc_sha256", "sources", ["warc_sha256"])
    op.create_table(
        "source_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("media_id", text(length=32), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "media_id"),
    )
    op.create_index("ix_source_media_source_id", "source_media", ["source_id"])
    op.create_index("ix_source_media_media_id", "source_media", ["media_id"])


def downgrade() -> None:
    op.drop_table("source_media")
    op.drop_table("sources")
