"""db upgrade and db current: the version of the database schema."""

from __future__ import annotations

import click

from mediacheck.cli.options import json_option, open_store, store_options
from mediacheck.cli.output import console, print_json, text


@click.group()
def db():
    """Show or upgrade the database schema (numbered Alembic migrations).

    \b
    Example:
        mediacheck db current
        mediacheck db upgrade
    """


@db.command()
@json_option
@store_options
def current(as_json, settings):
    """Show the database's schema revision and the newest this mediacheck knows.

    \b
    Example:
        mediacheck db current --json
    """
    found = open_store(settings, check_schema=False).schema_state()
    row = {"database": found.current, "head": found.head, "status": found.status}
    if as_json:
        print_json(row)
        return
    console.print(f"{text(found.current or 'none')} (head {text(found.head)}): {found.status}")


@db.command()
@store_options
def upgrade(settings):
    """Migrate the database to the newest schema revision (an empty one is built).

    Back up the database first; every desk sharing it then needs this version
    of mediacheck.

    \b
    Example:
        MEDIACHECK_DATABASE_URL=postgresql+psycopg://desk@db/mediacheck mediacheck db upgrade
    """
    before, after = open_store(settings, check_schema=False).upgrade_schema()
    if before == after:
        console.print(f"already at revision {text(after)}")
    else:
        console.print(f"upgraded from {text(before or 'an empty database')} to revision {after}")


@db.command(name="grant")
@click.argument("role")
@click.option(
    "--personal",
    is_flag=True,
    help="ROLE is one person's login: the database refuses any history event, note, "
    "verdict or decision it records under another name.",
)
@click.option(
    "--accounts",
    "manage_accounts",
    is_flag=True,
    help="ROLE may add and change accounts and API tokens: the web server's role, an "
    "admin's own. Without it ROLE reads accounts without their password hashes.",
)
@json_option
@store_options
def grant_command(role, personal, manage_accounts, as_json, settings):
    """Give a PostgreSQL role a desk's rights, with no UPDATE or DELETE on the record.

    The role may read everything (accounts without password hashes) and add rows
    everywhere but to accounts and tokens, change only cases, and never change or
    delete the history, notes, verdicts or their decisions. Run it as the tables'
    owner, after `db upgrade` and after the first queue command (procrastinate's
    tables); again after each. With MEDIACHECK_IDENTITY=database each desk member
    logs in as a personal role.

    \b
    Example:
        psql -c "CREATE ROLE alice LOGIN PASSWORD '...'"
        mediacheck db grant alice --personal
        mediacheck db grant webdesk --accounts
    """
    from dataclasses import asdict

    granted = open_store(settings).grant(role, personal, manage_accounts)
    if as_json:
        print_json(asdict(granted))
        return
    kind = "personal role" if granted.personal else "role"
    console.print(f"granted {kind} {text(granted.role)} on schema {text(granted.schema)}:")
    for table, rights in granted.tables.items():
        console.print(f"  {text(table)}: {', '.join(rights)}")


COMMANDS = [db]
