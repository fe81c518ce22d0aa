"""Four eyes on proven identities: db grant and MEDIACHECK_IDENTITY=database on real PostgreSQL.

Each test makes login roles of its own on the server (trust authentication on
127.0.0.1), connects as them, and drops them afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from mediacheck import config
from mediacheck.accounts import service
from mediacheck.store.database import Store
from tests.backends import admin_engine
from tests.conftest import Cli
from tests.media import photo
from tests.passwords import cheap_password_hashing  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PASSWORD = "correct horse"
APPEND_ONLY = ["SELECT", "INSERT"]
PG = pytest.mark.postgres


@pytest.fixture
def make_role(db_url: str) -> Iterator:
    """``make_role("alice")``: a new login role (alice_<random>) and its database URL."""
    made: list[str] = []

    def make(prefix: str) -> tuple[str, str]:
        name = f"{prefix}_{secrets.token_hex(4)}"
        with admin_engine().connect() as conn:
            conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
        made.append(name)
        return name, make_url(db_url).set(username=name).render_as_string(hide_password=False)

    yield make
    for name in made:
        with admin_engine().connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{name}"'))
            conn.execute(text(f'DROP ROLE "{name}"'))


def as_role(store_dir: Path, url: str, **env: str) -> Cli:
    cli = Cli(store_dir, db_url=url)
    cli.env.update(env)
    return cli


def raw_sql(url: str, sql: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


# Database roles are PostgreSQL's: these tests run on it alone.
on_postgres = pytest.mark.parametrize("backend", [pytest.param("postgres", marks=PG)])
on_sqlite = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def desk(cli, tmp_path: Path) -> dict[str, str]:
    """A case of one picture, taken in by the tables' owner."""
    [taken] = cli.json("intake", photo(tmp_path / "roof.jpg"), "--title", "Roof")
    return {"case_id": taken["case_id"], "media_id": taken["media_id"]}


@on_postgres
@pytest.mark.slow
def test_db_grant_gives_a_desk_role_its_work_and_no_rewriting(
    cli, desk, store_dir, make_role, tmp_path
):
    role, url = make_role("desk")
    granted = cli.json("db", "grant", role)
    assert granted["role"] == role and granted["schema"].startswith("t_")
    tables = granted["tables"]
    for table in ("events", "notes", "verdicts", "verdict_decisions"):
        assert tables[table] == APPEND_ONLY
    assert tables["cases"] == ["SELECT", "INSERT", "UPDATE"]
    assert tables["findings"] == ["SELECT", "INSERT", "DELETE"]
    assert tables["alembic_version"] == ["SELECT"]
    assert tables["media"] == APPEND_ONLY
    assert tables["accounts"] == [
        "SELECT (name, role, disabled, created_at, session_version, failed_logins, locked_until)"
    ]
    assert tables["api_tokens"] == ["SELECT"]
    assert (granted["personal"], granted["accounts"]) == (False, False)

    # The desk's work, through mediacheck, as the granted role.
    alice, bob = as_role(store_dir, url, MEDIACHECK_USER="alice"), as_role(store_dir, url)
    case_id = desk["case_id"]
    [more] = alice.json("intake", photo(tmp_path / "wall.jpg", seed=5), "--case", case_id)
    alice("note", case_id, "First seen on Telegram", "--media", more["media_id"])
    alice("verdict", "propose", case_id, "OriginalMediaContent", "--rationale", "geolocated",
          "--media", desk["media_id"])  # fmt: skip
    bob("verdict", "approve", case_id, "--media", desk["media_id"], user="bob")
    alice("verdict", "propose", case_id, "OriginalMediaContent", "--rationale", "same roof",
          "--media", more["media_id"])  # fmt: skip
    bob("verdict", "reject", case_id, "--media", more["media_id"], "--reason", "unsure",
        user="bob")  # fmt: skip
    alice("case", "set", case_id, "--tag", "roof", "--assign", "bob", "--title", "Roof, Kyiv")
    alice("analyze", case_id)
    shown = alice.json("show", case_id)
    assert [(v["state"], v["approved_by"], v["rejected_by"]) for v in shown["verdicts"]] == [
        ("approved", "bob", None),
        ("rejected", None, "bob"),
    ]
    assert alice("verify", case_id).stdout.endswith(": all intact\n")

    # A SQL client logged in as the role cannot rewrite the record.
    for sql in [
        "UPDATE events SET \"user\" = 'mallory'",
        "DELETE FROM events",
        "UPDATE verdicts SET rating = 'StagedContent'",
        "DELETE FROM verdicts",
        "UPDATE verdict_decisions SET decided_by = 'alice'",
        "DELETE FROM verdict_decisions",
        "UPDATE notes SET text = 'Found in 2019'",
        "DELETE FROM notes",
        "UPDATE alembic_version SET version_num = '0001'",
        # Nor its own role, nor anyone's password or tokens.
        "SELECT password_hash FROM accounts",
        "UPDATE accounts SET role = 'admin'",
        "INSERT INTO accounts (name, role, password_hash, disabled, created_at, "
        "session_version, failed_logins) VALUES ('eve', 'admin', 'x', false, 'now', 1, 0)",
        "INSERT INTO api_tokens (account, label, secret_hash, created_at, revoked) "
        "VALUES ('bob', 'mine', 'x', 'now', false)",
        "UPDATE api_tokens SET revoked = false",
        "DROP TABLE events",
        "TRUNCATE events",
    ]:
        with pytest.raises(ProgrammingError, match="permission denied|must be owner"):
            raw_sql(url, sql)
    # Nor approve their own proposal, whatever the client.
    alice("verdict", "propose", case_id, "StagedContent", "--rationale", "a set",
          "--media", desk["media_id"])  # fmt: skip
    with pytest.raises(ProgrammingError, match="alice proposed verdict 3 and cannot approve it"):
        raw_sql(
            url,
            "INSERT INTO verdict_decisions (verdict_id, state, decided_by, decided_at) "
            "VALUES (3, 'approved', 'alice', '2026-12-01T12:00:00+00:00')",
        )
    bob("verdict", "approve", case_id, "--media", desk["media_id"], user="bob")
    assert alice("verify", case_id).stdout.endswith(": all intact\n")
    # Running it again sets the same rights, whatever was given in between.
    raw_sql(cli.env["MEDIACHECK_DATABASE_URL"], f'GRANT ALL ON events TO "{role}"')
    assert cli.json("db", "grant", role)["tables"] == tables
    managing = cli.json("db", "grant", role, "--accounts")
    assert managing["accounts"] is True
    assert (
        managing["tables"]["accounts"]
        == managing["tables"]["api_tokens"]
        == [
            "SELECT",
            "INSERT",
            "UPDATE",
        ]
    )
    assert managing["tables"]["events"] == APPEND_ONLY
    with pytest.raises(ProgrammingError, match="permission denied"):
        raw_sql(url, "DELETE FROM events")


@on_postgres
def test_db_grant_refuses_a_missing_role_a_superuser_and_the_owner(cli, desk):
    missing = cli("db", "grant", "nobody_here", expect=1).stderr
    assert missing.startswith("Error: no PostgreSQL role 'nobody_here': create it first")
    superuser = cli("db", "grant", "postgres", expect=1).stderr
    assert superuser == (
        "Error: 'postgres' is a superuser: PostgreSQL checks no rights of a superuser\n"
    )


@on_sqlite
def test_db_grant_and_database_identity_are_refused_on_sqlite(cli, store):
    assert cli("db", "grant", "alice", expect=1).stderr == (
        "Error: db grant needs a PostgreSQL database: SQLite has no database roles (on one "
        "machine the store folder's file permissions decide who may change it)\n"
    )
    cli.env["MEDIACHECK_IDENTITY"] = "database"
    refused = cli("cases", expect=2).stderr
    assert "MEDIACHECK_IDENTITY=database needs a PostgreSQL database" in refused
    cli.env["MEDIACHECK_IDENTITY"] = "ldap"
    assert "MEDIACHECK_IDENTITY='ldap' is not an identity mode: one of declared, database" in (
        cli("cases", expect=2).stderr
    )


@on_postgres
def test_database_identity_proves_who_proposes_and_who_approves(
    cli, desk, settings, store_dir, make_role
):
    names, urls = {}, {}
    for who in ("alice", "bob", "carol", "dave"):
        names[who], urls[who] = make_role(who)
        assert cli.json("db", "grant", names[who], "--personal")["personal"] is True
    store = Store.open(settings)
    service.add_user(store, names["alice"], "verifier", PASSWORD)
    service.add_user(store, names["bob"], "verifier", PASSWORD)
    service.add_user(store, names["carol"], "reporter", PASSWORD)  # dave: no account
    store.engine.dispose()
    by = {
        who: as_role(store_dir, urls[who], MEDIACHECK_IDENTITY="database", MEDIACHECK_USER="")
        for who in names
    }
    case_id, media_id = desk["case_id"], desk["media_id"]

    by["alice"]("verdict", "propose", case_id, "OriginalMediaContent", "--rationale", "geolocated")
    own = by["alice"]("verdict", "approve", case_id, expect=1).stderr
    assert own == (
        f"Error: {case_id} media {media_id}: {names['alice']} proposed this verdict and cannot "
        "approve it; another reviewer must approve it (four eyes)\n"
    )
    borrowed = by["alice"]("verdict", "approve", case_id, user=names["bob"], expect=2).stderr
    assert f"--user/MEDIACHECK_USER names '{names['bob']}', but the database session is " in (
        borrowed
    )
    reporter = by["carol"]("verdict", "approve", case_id, expect=1).stderr
    assert reporter == (
        f"Error: {names['carol']} (reporter) may not approve verdicts: that takes the role "
        "verifier or above\n"
    )
    stranger = by["dave"]("show", case_id, expect=1).stderr
    assert f"the database user '{names['dave']}' has no mediacheck account" in stranger
    # Naming oneself is fine.
    by["bob"]("verdict", "approve", case_id, "--comment", "checked", user=names["bob"])
    shown = by["carol"].json("show", case_id)
    [verdict] = shown["verdicts"]
    assert (verdict["proposed_by"], verdict["approved_by"]) == (names["alice"], names["bob"])
    assert shown["status"] == "closed"
    history = [(e["user"], e["action"]) for e in by["carol"].json("history", case_id)]
    assert history[-2:] == [
        (names["alice"], "verdict-proposed"),
        (names["bob"], "verdict-approved"),
    ]


@on_postgres
def test_a_personal_role_cannot_record_another_name(cli, desk, store_dir, make_role):
    alice, url = make_role("alice")
    cli("db", "grant", alice, "--personal")
    case_id = desk["case_id"]
    # Without MEDIACHECK_IDENTITY, --user is typed: the database still refuses the name.
    typed = as_role(store_dir, url, MEDIACHECK_USER="bob")
    forged = typed("note", case_id, "Seen in 2019", expect=1).stderr
    assert forged.startswith("Error: cannot use database postgresql+psycopg://")
    assert f"the personal role {alice} may record only its own name in notes.author" in forged
    for sql in [
        "INSERT INTO notes (case_id, text, author, at) VALUES "
        f"('{case_id}', 'x', 'bob', '2026-12-01T12:00:00+00:00')",
        "INSERT INTO verdict_decisions (verdict_id, state, decided_by, decided_at) VALUES "
        "(1, 'approved', 'bob', '2026-12-01T12:00:00+00:00')",
    ]:
        with pytest.raises(ProgrammingError, match="may record only its own name"):
            raw_sql(url, sql)
    as_role(store_dir, url, MEDIACHECK_USER=alice)("note", case_id, "Seen in 2019")
    assert [n["author"] for n in cli.json("show", case_id)["notes"]] == [alice]
    # Granted again without --personal (a shared role, the web server's): names are free.
    assert cli.json("db", "grant", alice)["personal"] is False
    typed("note", case_id, "Also on X")
    # The tables' owner (here a superuser) is never held to its own name.
    cli("note", case_id, "Imported from the Kyiv desk", user="carol")


@on_postgres
def test_database_identity_user_commands_need_an_admin_but_the_first(
    cli, desk, store_dir, make_role
):
    admin_name, admin_url = make_role("admin")
    other_name, other_url = make_role("other")
    cli("db", "grant", admin_name, "--personal", "--accounts")
    cli("db", "grant", other_name, "--personal")
    mode = {"MEDIACHECK_IDENTITY": "database", "MEDIACHECK_USER": ""}
    admin, other = as_role(store_dir, admin_url, **mode), as_role(store_dir, other_url, **mode)

    def add(by: Cli, name: str, role: str, expect: int = 0):
        result = by.runner.invoke(
            by_main(), ["user", "add", name, "--role", role, "--password-stdin"],
            env=by.env, input=PASSWORD + "\n", catch_exceptions=False,
        )  # fmt: skip
        assert result.exit_code == expect, result.output
        return result

    # No account yet: only adding an admin is open, to anyone who reaches the database.
    assert "has no mediacheck account" in add(other, other_name, "verifier", expect=1).stderr
    add(admin, admin_name, "admin")
    assert "has no mediacheck account" in add(other, other_name, "admin", expect=1).stderr
    add(admin, other_name, "reporter")
    refused = other("user", "list", expect=1).stderr
    assert f"{other_name} (reporter) may not manage accounts: that takes the role admin" in refused
    assert [a["name"] for a in admin.json("user", "list")] == sorted([admin_name, other_name])


def by_main():
    from mediacheck.cli import main

    return main


def test_every_command_has_a_role_rule():
    import click

    from mediacheck.cli import main
    from mediacheck.cli.permissions import RULES

    def names(group: click.Group, prefix: str = "") -> Iterator[str]:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from names(command, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}"

    assert sorted(set(names(main)) - set(RULES)) == []


def test_identity_mode_setting(monkeypatch):
    monkeypatch.setenv("MEDIACHECK_IDENTITY", "Database")
    assert config.resolve(store=Path("x")).identity == "database"
    monkeypatch.delenv("MEDIACHECK_IDENTITY")
    assert config.resolve(store=Path("x")).identity == "declared"


def test_a_decision_is_a_row_of_its_own_and_the_verdict_row_stays(cli, store, tmp_path):
    [taken] = cli.json("intake", photo(tmp_path / "roof.jpg"), "--title", "Roof")
    case_id = taken["case_id"]
    cli("verdict", "propose", case_id, "OriginalMediaContent", "--rationale", "geolocated")
    cli("verdict", "approve", case_id, "--comment", "checked", user="bob")
    with store.session() as session:
        row = session.execute(text("SELECT state, decided_by FROM verdicts")).one()
        decision = session.execute(
            text("SELECT verdict_id, state, decided_by, comment FROM verdict_decisions")
        ).one()
    assert tuple(row) == ("proposed", None)
    assert tuple(decision) == (1, "approved", "bob", "checked")
    [verdict] = cli.json("show", case_id)["verdicts"]
    assert (verdict["state"], verdict["approved_by"], verdict["comment"]) == (
        "approved",
        "bob",
        "checked",
    )
    assert cli("verify", case_id).stdout.endswith(": all intact\n")

    # A decision deleted (or added) behind mediacheck's back shows in verify.
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM verdict_decisions"))
    problems = cli.json("verify", case_id, expect=1)["problems"]
    assert [p["message"] for p in problems] == [
        f"{case_id} verdict 1: state, decided_by, decision_comment differs from the history "
        "(edited)"
    ]


def test_migration_0006_downgrade_folds_decisions_back_into_verdicts(cli, store, tmp_path):
    from tests.test_migrations import migrate

    [taken] = cli.json("intake", photo(tmp_path / "roof.jpg"), "--title", "Roof")
    case_id = taken["case_id"]
    cli("verdict", "propose", case_id, "OriginalMediaContent", "--rationale", "geolocated")
    cli("verdict", "reject", case_id, "--reason", "too early", user="bob")
    before = cli.json("show", case_id)
    migrate(store, "0003", down=True)
    with store.session() as session:
        row = session.execute(
            text("SELECT state, decided_by, decision_comment FROM verdicts")
        ).one()
    assert tuple(row) == ("rejected", "bob", "too early")
    migrate(store, "0006")
    assert cli.json("show", case_id)["verdicts"] == before["verdicts"]
    assert cli("verify", case_id).stdout.endswith(": all intact\n")
