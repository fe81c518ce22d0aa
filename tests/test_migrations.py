"""Migrations build, from an empty database, exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import mediacheck.store.models  # noqa: F401 - every table on SQLModel.metadata
from mediacheck.store import revisions as schema
from mediacheck.store.database import Store


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
