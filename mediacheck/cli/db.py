"""db upgrade, db current, db grant and db refingerprint: the database's schema, rights and
the archive's fingerprints."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import click

from mediacheck.cli.options import json_option, open_store, store_options
from mediacheck.cli.output import console, error_line, print_json, progress, text

if TYPE_CHECKING:
    from mediacheck.intake.refingerprint import Refingerprinted


@click.group()
def db():
    """The database: its schema (numbered Alembic migrations), a role's rights, the
    archive's fingerprints.

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


@db.command()
@click.argument("media_ids", metavar="[MEDIA]...", nargs=-1)
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Every photo and video, not only those whose fingerprints an earlier version wrote.",
)
@json_option
@store_options
def refingerprint(media_ids, every, as_json, settings):
    """Make the archive's fingerprints again from the stored originals.

    Run it after an upgrade of mediacheck: fingerprints written by an earlier
    version are searched less well (docs/matching.md, "Limits"). Without MEDIA
    or --all, only the items that have such fingerprints are done. The originals
    are read, never changed; an item whose original is missing or no longer
    matches its SHA-256 keeps its fingerprints and is reported. On PostgreSQL,
    run it as the tables' owner (a desk role may not delete fingerprints). Exit
    code 1 when an item could not be done.

    \b
    Example:
        mediacheck db refingerprint
        mediacheck db refingerprint 0291b9bf797a3f59 --json
    """
    from mediacheck.intake import refingerprint as again

    if media_ids and every:
        raise click.UsageError("give MEDIA or --all, not both")
    store = open_store(settings)
    if media_ids:
        chosen = list(media_ids)
    else:
        chosen = again.picture_media(store) if every else again.outdated_media(store)
    done: list[again.Refingerprinted] = []
    with progress(len(chosen), "Fingerprinting") as ticks:
        for media_id in chosen:
            done.append(again.refingerprint(store, media_id))
            ticks.step(None if as_json else partial(_print_refingerprinted, done[-1]))
    failed = [r for r in done if r.error]
    if as_json:
        print_json([_refingerprinted_document(r) for r in done])
    else:
        console.print(
            f"{len(done) - len(failed)} media fingerprinted again"
            + (f", {len(failed)} failed" if failed else "")
        )
    if failed:
        click.get_current_context().exit(1)


def _print_refingerprinted(result: Refingerprinted) -> None:
    if result.error:
        error_line(result.error)
    else:
        pictures = "1 picture" if result.pictures == 1 else f"{result.pictures} pictures"
        console.print(f"{text(result.media_id)}: fingerprinted again ({pictures})")


def _refingerprinted_document(result: Refingerprinted) -> dict:
    doc = {"media_id": result.media_id, "pictures": result.pictures}
    if result.error:
        doc["error"] = result.error
    return doc


COMMANDS = [db]
