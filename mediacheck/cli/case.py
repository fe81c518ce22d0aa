"""case set, history and verify: changing a case and proving nothing was altered."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from mediacheck.cli.options import (
    CASE_STATUSES,
    DATETIME,
    LOCATION,
    URL,
    json_option,
    open_store,
    store_options,
)
from mediacheck.cli.output import console, error_line, note_line, print_json, text
from mediacheck.history.chain import canonical_json

if TYPE_CHECKING:
    from mediacheck.integrity.verify import Report


@click.group()
def case():
    """Change a case's fields, status, tags and assignee.

    \b
    Example:
        mediacheck case set MC-2026-0002 --status in-review --assign bob
    """


@case.command(name="set")
@click.argument("case_id", metavar="CASE")
@click.option("--title", help="New title.")
@click.option("--claim", help="What the post claims the media shows.")
@click.option("--source-url", type=URL, help="Where the media was posted.")
@click.option("--platform", help="Where it was posted: telegram, x, tiktok, ...")
@click.option("--posted-at", type=DATETIME, help="When it was posted (ISO 8601).")
@click.option("--status", type=click.Choice(CASE_STATUSES), help="New status.")
@click.option(
    "--reason",
    help="Why the status changes (recorded): needed to close a case whose media are not all "
    "decided, or to reopen one whose media are.",
)
@click.option("--tag", "tags", multiple=True, help="Add a tag (repeatable).")
@click.option("--untag", "untags", multiple=True, help="Remove a tag (repeatable).")
@click.option("--claimed-location", type=LOCATION, help="Where the post says it happened.")
@click.option("--assign", "assignee", metavar="USER", help="Who works on the case.")
@json_option
@store_options
def set_fields(case_id, as_json, settings, tags, untags, **fields):
    """Change a case; every change is recorded in its history.

    Status follows review: closing a case needs an approved verdict on every
    media item, or --reason; reopening (open, in-review) a case whose items all
    have one needs --reason. The reason is recorded in the status-changed event.

    \b
    Example:
        mediacheck case set MC-2026-0002 --title "Fragments, Kharkiv" --tag missile \\
            --claimed-location 49.99,36.23 --assign bob
        mediacheck case set MC-2026-0002 --status closed --reason "Post deleted, nothing to rate"
    """
    from mediacheck.publish.document import event_document
    from mediacheck.review import service as review
    from mediacheck.store.cases import CaseChanges

    if fields["reason"] is not None and fields["status"] is None:
        raise click.UsageError("--reason goes with --status")
    changes = CaseChanges(add_tags=tuple(tags), remove_tags=tuple(untags), **fields)
    events = review.change_case(open_store(settings), case_id, changes, settings.user)
    docs = [event_document(e) for e in events]
    if as_json:
        print_json(docs)
        return
    if not docs:
        console.print(f"{text(case_id)}: nothing changed")
    for doc in docs:
        console.print(f"{text(case_id)}: {doc['action']} {text(canonical_json(doc['details']))}")


@click.command(name="history")
@click.argument("case_id", metavar="CASE")
@json_option
@store_options
def history_command(case_id, as_json, settings):
    """Show a case's timeline: every event, who did it, when, chained by hashes.

    \b
    Example:
        mediacheck history MC-2026-0002
        mediacheck history MC-2026-0002 --json
    """
    from mediacheck.publish.document import event_document

    store = open_store(settings)
    store.get_case(case_id)
    docs = [event_document(e) for e in store.events(case_id)]
    if as_json:
        print_json(docs)
        return
    for doc in docs:
        details = doc["details"]
        shown = details if isinstance(details, str) else canonical_json(details)
        console.print(
            f"{doc['seq']:>4}  {text(doc['at'][:19])}  {doc['hash'][:12]}  {text(doc['user'])}  "
            f"[bold]{text(doc['action'])}[/bold]  {text(shown)}"
        )


@click.command(name="verify")
@click.argument("case_id", metavar="CASE", required=False)
@json_option
@store_options
def verify_command(case_id, as_json, settings):
    """Re-hash every stored original and re-walk every history chain.

    Exit code 1 names each altered or missing original and each broken, edited
    or deleted event; 0 with a summary when everything is intact. Time-stamp
    tokens must cover their subject's current digest and verify against
    MEDIACHECK_TSA_CA (without it they are counted as not verified).

    \b
    Example:
        mediacheck verify
        mediacheck verify MC-2026-0002 --json
    """
    from mediacheck.integrity.verify import verify

    report = verify(open_store(settings), case_id)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "cases": report.cases,
                "events": report.events,
                "originals": report.originals,
                "problems": [asdict(p) for p in report.problems],
                "orphans": [asdict(o) for o in report.orphans],
                "timestamps": report.timestamps,
                "timestamps_unchecked": report.timestamps_unchecked,
            }
        )
    else:
        for problem in report.problems:
            error_line(problem.message)
        if report.orphans:
            note_line(_orphans_note(report))
        if report.timestamps_unchecked:
            note_line(
                f"{report.timestamps_unchecked} time-stamp tokens cover their subjects but were "
                "not verified: set MEDIACHECK_TSA_CA to the authority's CA certificate"
            )
        console.print(_summary(report))
    if not report.ok:
        raise SystemExit(1)


def _orphans_note(report: Report) -> str:
    count = len(report.orphans)
    return (
        f"{count} stored original{'s' if count != 1 else ''} held by no media "
        f"(left by an interrupted intake; taking the file in again adopts it): "
        + ", ".join(o.path for o in report.orphans[:3])
        + (", ..." if count > 3 else "")
    )


def _summary(report: Report) -> str:
    checked = f"checked {report.cases} cases, {report.events} events, {report.originals} originals"
    if report.timestamps:
        checked += f", {report.timestamps} time-stamps"
    if report.ok:
        return f"{checked}: all intact"
    return f"{checked}: {len(report.problems)} problems"


COMMANDS = [case, history_command, verify_command]
