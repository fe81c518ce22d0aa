"""Migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import mediacheck.store.models  # noqa: F401 - every table on SQLModel.metadata
from mediacheck.history import chain
from mediacheck.store import revisions as schema
from mediacheck.store.cases import CaseFields
from mediacheck.store.database import Store
from mediacheck.store.events import append_event, lock_case
from tests.conftest import Cli
from tests.media import QUICK, photo
from tests.test_bundle import rebag


def migrate(store: Store, revision: str, down: bool = False) -> None:
    with store.engine.begin() as conn:
        step = command.downgrade if down else command.upgrade
        step(schema.alembic_config(conn), revision)


def tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names())


def test_every_migration_in_turn_builds_the_models(settings):
    store = Store.open(settings, check_schema=False)
    assert tables(store) == set()
    for revision in schema.revisions():
        migrate(store, revision)
        assert store.schema_state().current == revision
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    assert tables(store) == set(SQLModel.metadata.tables) | {"alembic_version"}


def test_downgrade_to_empty_and_back(settings):
    store = Store.open(settings)
    migrate(store, "base", down=True)
    assert tables(store) == {"alembic_version"}
    assert store.schema_state().status == "empty"
    Store.open(settings)
    assert store.schema_state().status == "up to date"


def test_migrations_are_numbered_in_order():
    # mediacheck reads revisions from file names: Alembic's own chain must agree.
    revisions = schema.revisions()
    assert revisions == tuple(f"{n:04d}" for n in range(1, len(revisions) + 1))
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    chain = [(s.revision, s.down_revision) for s in scripts.walk_revisions()][::-1]
    assert chain == list(zip(revisions, (None, *revisions[:-1]), strict=True))


def test_empty_database_is_built_on_first_use(cli, settings):
    head = schema.head()
    Store.open(settings)  # what intake and import do: the only commands that make a store
    assert cli.json("db", "current") == {"database": head, "head": head, "status": "up to date"}
    assert cli("db", "upgrade").stdout == f"already at revision {head}\n"


@pytest.mark.parametrize("command", [("db", "current"), ("db", "upgrade"), ("cases",)])
def test_no_command_but_intake_and_import_makes_a_store(cli, settings, store_dir, command):
    missing = f"Error: no case store at {store_dir} (set MEDIACHECK_HOME or --store)\n"
    assert cli(*command, expect=1).stderr == missing
    assert not store_dir.exists()
    store_dir.mkdir()  # a folder, but no database in it (or an empty PostgreSQL schema)
    shown = Store(settings).safe_url if settings.db_url.startswith("postgresql") else store_dir
    empty = f"Error: no case store at {shown} (set MEDIACHECK_HOME or --store)\n"
    assert cli(*command, expect=1).stderr == empty
    assert list(store_dir.iterdir()) == []
    assert tables(Store(settings)) == set()


def set_revision(store: Store, revision: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_unknown_revision_is_refused(cli, settings):
    store = Store.open(settings)
    set_revision(store, "9999")
    message = (
        "Error: the database schema is at revision 9999, which this mediacheck does not know "
        f"(newest {schema.head()}): install a newer mediacheck\n"
    )
    assert cli("cases", expect=1).stderr == message
    assert cli("db", "upgrade", expect=1).stderr == message
    assert cli.json("db", "current")["status"] == "newer than this mediacheck"


def test_older_revision_is_refused_until_upgraded(cli, settings, monkeypatch):
    store = Store.open(settings)
    set_revision(store, "0000")
    known = ("0000", *schema.revisions())
    monkeypatch.setattr(schema, "revisions", lambda: known)
    assert cli("cases", expect=1).stderr == (
        "Error: the database schema is at revision 0000, this mediacheck needs "
        f"{schema.head()}: back it up, then run 'mediacheck db upgrade'\n"
    )
    assert cli.json("db", "current")["status"] == "needs upgrade"


def test_foreign_tables_are_refused(cli, settings):
    store = Store.open(settings, check_schema=False)
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE other_app (id INTEGER)"))
    message = "Error: the database holds tables but no mediacheck schema: use an empty database\n"
    assert cli("cases", expect=1).stderr == message
    assert cli("db", "upgrade", expect=1).stderr == message
    assert tables(store) == {"other_app"}


@pytest.mark.parametrize("command_name", ["current", "upgrade"])
def test_db_commands_have_summary_and_example(cli, command_name):
    out = cli("db", command_name, "--help").stdout
    assert "Example:" in out
    assert "mediacheck db" in out


# 0002: verdicts of whole cases become verdicts of media items


def _legacy_step(store: Store, case_id: str, user: str, action: str, **details) -> int:
    """One review step as revision 0001's mediacheck wrote it: a case-level row and its event."""
    with store.session() as session:
        if action == "verdict-proposed":
            verdict_id = session.execute(
                text(
                    "INSERT INTO verdicts (case_id, rating, state, rationale, proposed_by, "
                    "proposed_at) VALUES (:c, :r, 'proposed', :why, :u, :at) RETURNING id"
                ),
                {"c": case_id, "r": details["rating"], "why": details["rationale"], "u": user}
                | {"at": chain.now()},
            ).scalar_one()
        else:
            verdict_id = details["verdict_id"]
            state, text_key = {"verdict-approved": ("approved", "comment")}.get(
                action, ("rejected", "reason")
            )
            session.execute(
                text(
                    "UPDATE verdicts SET state = :s, decided_by = :u, decided_at = :at, "
                    "decision_comment = :t WHERE id = :i"
                ),
                {"s": state, "u": user, "at": chain.now(), "t": details.get(text_key)}
                | {"i": verdict_id},
            )
        lock_case(session, case_id).status = details["status"]
        append_event(session, case_id, user, action, {"verdict_id": verdict_id} | details)
    return verdict_id


def _legacy_review(
    store: Store, case_id: str, rating: str, decision: str | None, said: str | None = None
) -> None:
    """A proposal by alice and bob's approval or rejection (``said``: his comment or reason)."""
    proposed = {"rating": rating, "rationale": f"why {rating}", "status": "in-review"}
    verdict_id = _legacy_step(store, case_id, "alice", "verdict-proposed", **proposed)
    if decision is None:
        return
    approved = decision == "verdict-approved"
    details = {
        "verdict_id": verdict_id,
        "rating": rating,
        "status": "closed" if approved else "open",
    }
    if said:
        details["comment" if approved else "reason"] = said
    _legacy_step(store, case_id, "bob", decision, **details)


def _legacy_add(store: Store, case_id: str, added: dict) -> None:
    """Add media the store holds to a case after its verdicts, as revision 0001 did."""
    with store.session() as session:
        session.execute(
            text(
                "INSERT INTO case_media (case_id, media_id, original_name, original_path, "
                "was_symlink, added_by, added_at) VALUES (:c, :m, 'late.jpg', '/in/late.jpg', "
                ":f, 'alice', :at)"
            ),
            {"c": case_id, "m": added["media_id"], "f": False, "at": chain.now()},
        )
        append_event(session, case_id, "alice", "media-added", added)


def _legacy_store(cli, store: Store, tmp_path: Path) -> dict[str, list[str]]:
    """Cases with verdicts written at revision 0001, upgraded; returns case id: media ids."""
    one = cli.json("intake", photo(tmp_path / "one.jpg", QUICK), "--title", "one item")
    pair = [photo(tmp_path / "p1.jpg", QUICK, seed=2), photo(tmp_path / "p2.jpg", QUICK, seed=3)]
    two = cli.json("intake", *pair, "--one-case", "--title", "two items")
    late = cli.json("intake", photo(tmp_path / "l1.jpg", QUICK, seed=4), "--title", "one, then two")
    second = photo(tmp_path / "l2.jpg", QUICK, seed=5)
    holder = cli.json("intake", second, "--title", "holds the second")
    empty = store.create_case(CaseFields(title="no media"), "alice").id
    [added] = [
        e["details"]
        for e in cli.json("history", holder[0]["case_id"])
        if e["action"] == "media-added"
    ]
    migrate(store, "0001", down=True)

    case_a, case_b, case_c = one[0]["case_id"], two[0]["case_id"], late[0]["case_id"]
    _legacy_review(store, case_a, "DecontextualizedContent", "verdict-approved")
    _legacy_review(store, case_b, "StagedContent", "verdict-rejected", "Not actors")
    _legacy_review(store, case_b, "TransformedContent", "verdict-approved", "Checked")
    _legacy_review(store, case_b, "OriginalMediaContent", None)
    _legacy_review(store, case_c, "EditedOrCroppedContent", "verdict-approved")
    _legacy_add(store, case_c, added)
    _legacy_review(store, empty, "SatireOrParodyContent", "verdict-approved")

    assert cli("db", "upgrade").stdout == f"upgraded from 0001 to revision {schema.head()}\n"
    return {
        case_a: [one[0]["media_id"]],
        case_b: [m["media_id"] for m in two],
        case_c: [late[0]["media_id"], added["media_id"]],
        empty: [],
    }


def test_0002_gives_each_item_the_verdicts_of_its_case_and_the_history_still_verifies(
    cli, store, tmp_path
):
    cases = _legacy_store(cli, store, tmp_path)
    (case_a, [a]), (case_b, [b1, b2]), (case_c, [c1, c2]), (empty, []) = cases.items()
    assert cli("verify").stdout.endswith(": all intact\n")

    def rows(case_id: str) -> list[tuple]:
        return [(v.media_id, v.rating, v.state) for v in store.verdicts(case_id)]

    assert rows(case_a) == [(a, "DecontextualizedContent", "approved")]
    b_said = [
        ("StagedContent", "rejected"),
        ("TransformedContent", "approved"),
        ("OriginalMediaContent", "proposed"),
    ]
    # The rows keep their ids on the first item; the second item's copies come after them.
    assert rows(case_b) == [(b1, *r) for r in b_said] + [(b2, *r) for r in b_said]
    assert rows(case_c) == [(c1, "EditedOrCroppedContent", "approved")]  # c2 came later
    assert rows(empty) == [(None, "SatireOrParodyContent", "approved")]
    copies = store.verdicts(case_b)
    assert [v.decision_comment for v in copies] == [
        "Not actors",
        "Checked",
        None,
    ] * 2

    finals = store.final_verdicts(list(cases))
    assert {key: v.rating for key, v in finals.items()} == {
        (case_a, a): "DecontextualizedContent",
        (case_b, b1): "TransformedContent",
        (case_b, b2): "TransformedContent",
        (case_c, c1): "EditedOrCroppedContent",
    }
    shown = {case_id: cli.json("show", case_id) for case_id in cases}
    assert [shown[c]["final_verdict"] for c in cases] == [
        "DecontextualizedContent",
        "TransformedContent",
        "Unverified",
        "Unverified",
    ]
    assert shown[case_c]["final_verdicts"] == {c1: "EditedOrCroppedContent", c2: "Unverified"}
    assert [m["verdict"]["state"] for m in shown[case_b]["media"]] == ["proposed", "proposed"]

    # The migrated pending proposals are decided one item at a time, as any other.
    assert cli("verdict", "approve", case_b, user="bob", expect=2).stderr.splitlines()[-1] == (
        f"Error: {case_b} has proposals awaiting review for 2 media items: "
        f"choose one with --media: {b1}, {b2}"
    )
    cli("verdict", "approve", case_b, "--media", b1, user="bob")
    cli("verdict", "reject", case_b, "--reason", "Not in 2019", user="carol")
    assert cli.json("show", case_b)["final_verdicts"] == {
        b1: "OriginalMediaContent",
        b2: "TransformedContent",
    }
    assert cli("verify").stdout.endswith(": all intact\n")

    # Edits of migrated rows are still caught.
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE verdicts SET rating = 'SatireOrParodyContent' WHERE media_id = :m"),
            {"m": b2},
        )
    messages = [p["message"] for p in cli.json("verify", expect=1)["problems"]]
    assert len(messages) == 3 and all("rating differs from the history" in m for m in messages)


def test_0002_downgrade_folds_the_copies_back_and_upgrade_makes_them_again(cli, store, tmp_path):
    cases = _legacy_store(cli, store, tmp_path)
    upgraded = [(v.id, v.case_id, v.media_id, v.rating, v.state) for v in store.verdicts()]
    migrate(store, "0001", down=True)
    with store.engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM verdicts ORDER BY id")).scalars().all()
    assert ids == [v[0] for v in upgraded[: 1 + 3 + 1 + 1]]  # one row a case-level verdict
    assert "media_id" not in {c["name"] for c in inspect(store.engine).get_columns("verdicts")}
    migrate(store, "head")
    again = [(v.case_id, v.media_id, v.rating, v.state) for v in store.verdicts()]
    assert again == [v[1:] for v in upgraded] and len(cases) == 4
    assert cli("verify").stdout.endswith(": all intact\n")


def test_a_bundle_of_revision_0001_imports_with_a_verdict_per_item(cli, store, tmp_path):
    cases = _legacy_store(cli, store, tmp_path)
    case_b, (b1, b2) = list(cases.items())[1]
    cli("export", case_b, "-o", tmp_path / "today.zip")

    def as_0001_wrote_it(name: str, data: bytes):
        if name == "data/records.json":
            records = json.loads(data)
            records["verdicts"] = [
                {k: v for k, v in row.items() if k != "media_id"}
                for row in records["verdicts"]
                if row["media_id"] == b1
            ]
            data = json.dumps(records).encode()
        return [(name, data)]

    old = rebag(tmp_path / "today.zip", tmp_path / "old.zip", as_0001_wrote_it)
    target = Cli(tmp_path / "target", user="carol")
    target("import", old)

    def items(doc: dict) -> list[tuple]:
        return sorted(
            (v["media_id"], v["id"] > 0, v["rating"], v["state"]) for v in doc["verdicts"]
        )

    shown, source = target.json("show", case_b), cli.json("show", case_b)
    assert items(shown) == items(source) and len(shown["verdicts"]) == 6
    assert shown["final_verdicts"] == {b1: "TransformedContent", b2: "TransformedContent"}
    assert target("verify").stdout.endswith(": all intact\n")
