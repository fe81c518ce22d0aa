"""verdict per media item

Created: 2026-12-01 12:11:11.571443

Released migrations are never edited: change the schema with a new one.

A verdict rated a whole case; now it rates one media item of a case. Each
existing verdict goes to every item the case held when it was proposed: the
``media-added`` events before its ``verdict-proposed`` event. The verdict row
itself goes to the first of them and a copy of it, every field the same, to
each of the others, so an item's verdicts keep their order. The history is not
touched, and ``verify`` reads an old ``verdict-proposed`` event (one without a
``media_id``) by the same rule, so the chain and the rows of a migrated case
still agree. A verdict proposed before its case held any media keeps a null
``media_id``.

Rows are paired with events by position, as ``verify`` pairs them: an imported
case's verdict ids differ from the ids its events name. A row with no event
(added outside mediacheck, which ``verify`` names) goes to every item the case
holds now. Downgrading deletes the copies again.

The rule is written out here rather than imported: a released migration must
not change when the code it would import does.
"""

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COPIED = (
    "case_id",
    "rating",
    "state",
    "rationale",
    "original_url",
    "original_context",
    "confidence",
    "proposed_by",
    "proposed_at",
    "decided_by",
    "decided_at",
    "decision_comment",
)


def upgrade() -> None:
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("media_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_verdicts_media_id"), ["media_id"], unique=False)
        batch_op.create_foreign_key("fk_verdicts_media_id_media", "media", ["media_id"], ["id"])
    conn = op.get_bind()
    case_ids = conn.execute(sa.text("SELECT DISTINCT case_id FROM verdicts")).scalars().all()
    for case_id in sorted(case_ids):
        _assign_case(conn, case_id)


def _assign_case(conn: sa.Connection, case_id: str) -> None:
    rated_then = _media_at_each_proposal(conn, case_id)
    members = conn.execute(
        sa.text("SELECT media_id FROM case_media WHERE case_id = :c ORDER BY id"), {"c": case_id}
    ).scalars()
    now = list(members)
    columns = ", ".join(("id", *COPIED))
    rows = conn.execute(
        sa.text(f"SELECT {columns} FROM verdicts WHERE case_id = :c ORDER BY id"), {"c": case_id}
    ).mappings()
    for position, row in enumerate(list(rows)):
        media = rated_then[position] if position < len(rated_then) else now
        if not media:
            continue
        conn.execute(
            sa.text("UPDATE verdicts SET media_id = :m WHERE id = :i"),
            {"m": media[0], "i": row["id"]},
        )
        for media_id in media[1:]:
            _insert_copy(conn, row, media_id)


def _media_at_each_proposal(conn: sa.Connection, case_id: str) -> list[list[str]]:
    """For each verdict-proposed event in order, the media the case held by then."""
    events = conn.execute(
        sa.text("SELECT action, details FROM events WHERE case_id = :c ORDER BY seq"),
        {"c": case_id},
    )
    held: list[str] = []
    found: list[list[str]] = []
    for action, text in events:
        try:
            details = json.loads(text)
        except ValueError:
            continue  # verify names the edited event; its row goes by position as usual
        if not isinstance(details, dict):
            continue
        if action == "media-added" and details.get("media_id") not in (None, *held):
            held.append(str(details["media_id"]))
        elif action == "verdict-proposed" and "verdict_id" in details:
            # One that names its item is newer than 0001 (a database upgraded, downgraded, again).
            named = details.get("media_id")
            found.append([str(named)] if named is not None else list(held))
    return found


def _insert_copy(conn: sa.Connection, row: sa.RowMapping, media_id: str) -> None:
    names = ", ".join((*COPIED, "media_id"))
    values = ", ".join(f":{name}" for name in (*COPIED, "media_id"))
    conn.execute(
        sa.text(f"INSERT INTO verdicts ({names}) VALUES ({values})"),
        {name: row[name] for name in COPIED} | {"media_id": media_id},
    )


def downgrade() -> None:
    # Verdicts rate cases again. The copies upgrade made (rows equal to an older row of
    # their case in every field) go; every other verdict stays, now one of its case.
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, {', '.join(COPIED)} FROM verdicts ORDER BY id"))
    seen: set[tuple] = set()
    for row in list(rows):
        fields = tuple(row[1:])
        if fields in seen:
            conn.execute(sa.text("DELETE FROM verdicts WHERE id = :i"), {"i": row[0]})
        seen.add(fields)
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_verdicts_media_id_media", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_verdicts_media_id"))
        batch_op.drop_column("media_id")
