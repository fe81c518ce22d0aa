"""initial

Created: 2026-11-25 12:01:53.061531

Released migrations are never edited: change the schema with a new one.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
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
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "seq"),
    )
    op.create_table(
        "media",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sha1", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("md5", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("mime", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("video", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("blob_path", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "case_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("media_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("original_path", sa.Text(), nullable=False),
        sa.Column("file_mtime", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("was_symlink", sa.Boolean(), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "media_id"),
    )
    with op.batch_alter_table("case_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_media_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_media_media_id"), ["media_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("user", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "seq"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("media_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("image", sa.Text(), nullable=True),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_media_id"), ["media_id"], unique=False)

    op.create_table(
        "fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("frame_time_s", sa.Float(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fingerprints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fingerprints_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_fingerprints_media_id"), ["media_id"], unique=False)

    op.create_table(
        "keyframes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("time_s", sa.Float(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("keyframes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_keyframes_media_id"), ["media_id"], unique=False)

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("media_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("engine", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("earliest_date", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("corrects", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["corrects"],
            ["notes.id"],
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_case_id"), ["case_id"], unique=False)

    op.create_table(
        "seen_before",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("matched_media_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("matched_case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("distance", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("frame_time_s", sa.Float(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["matched_media_id"],
            ["media.id"],
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("seen_before", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_before_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_seen_before_media_id"), ["media_id"], unique=False)

    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("rating", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("original_url", sa.Text(), nullable=True),
        sa.Column("original_context", sa.Text(), nullable=True),
        sa.Column("confidence", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("proposed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("proposed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verdicts_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verdicts_case_id"))

    op.drop_table("verdicts")
    with op.batch_alter_table("seen_before", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_before_media_id"))
        batch_op.drop_index(batch_op.f("ix_seen_before_case_id"))

    op.drop_table("seen_before")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_case_id"))

    op.drop_table("notes")
    with op.batch_alter_table("keyframes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_keyframes_media_id"))

    op.drop_table("keyframes")
    with op.batch_alter_table("fingerprints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fingerprints_media_id"))
        batch_op.drop_index(batch_op.f("ix_fingerprints_kind"))

    op.drop_table("fingerprints")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_media_id"))
        batch_op.drop_index(batch_op.f("ix_findings_case_id"))

    op.drop_table("findings")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_case_id"))

    op.drop_table("events")
    with op.batch_alter_table("case_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_media_media_id"))
        batch_op.drop_index(batch_op.f("ix_case_media_case_id"))

    op.drop_table("case_media")
    op.drop_table("media")
    op.drop_table("cases")
