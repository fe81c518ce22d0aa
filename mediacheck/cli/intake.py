"""intake, cases and show: getting files in and seeing what is there."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mediacheck.cli.match import verdict_text, where
from mediacheck.cli.options import (
    CASE_STATUSES,
    DATETIME,
    LOCATION,
    URL,
    json_option,
    open_store,
    store_options,
)
from mediacheck.cli.output import (
    console,
    error_line,
    note_line,
    print_json,
    progress,
    text,
    warning_line,
)
from mediacheck.cli.review import VERDICT_FILTER
from mediacheck.errors import MediacheckError
from mediacheck.intake.bounds import Bounds
from mediacheck.media.video.timecode import span, timestamp

if TYPE_CHECKING:
    from mediacheck.intake.pipeline import IntakeResult

# Less than this leaves a decoder too little room for an ordinary 12 MP picture and its checks.
MIN_MEMORY_MB = 1024


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--case", "case_id", metavar="ID", help="Add to this existing case.")
@click.option("--one-case", is_flag=True, help="Put all files into one new case.")
@click.option(
    "--new-case",
    is_flag=True,
    help="Put files the store already holds into a new case too (by default they are "
    "reported with the cases that hold them and added to none).",
)
@click.option("--title", help="Case title (default: the file name).")
@click.option("--claim", help="What the post claims the media shows.")
@click.option("--source-url", type=URL, help="Where the media was posted.")
@click.option("--platform", help="Where it was posted: telegram, x, tiktok, ...")
@click.option("--posted-at", type=DATETIME, help="When it was posted (ISO 8601).")
@click.option("--tag", "tags", multiple=True, help="A tag for the case (repeatable).")
@click.option("--claimed-location", type=LOCATION, help="Where the post says it happened.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="the number of cores",
    help="Worker processes that analyse files side by side (even 1 is a worker).",
)
@click.option(
    "--file-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=Bounds.seconds,
    show_default=True,
    metavar="SECONDS",
    help="Stop analysing a file after this long; it is kept with its hashes.",
)
@click.option(
    "--file-memory-mb",
    type=click.IntRange(min=MIN_MEMORY_MB),
    default=Bounds.memory_mb,
    show_default=True,
    metavar="MB",
    help="Stop analysing a file whose analysis needs more memory than this (beyond what "
    "the worker starts with); it is kept with its hashes.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="Leave the slow pixel forensics (ELA, double JPEG, copy-move) to 'mediacheck analyze'.",
)
@click.option(
    "--queue",
    "queued",
    is_flag=True,
    help="Store the files and queue their intake for 'mediacheck worker' (needs PostgreSQL).",
)
@json_option
@store_options
def intake(
    paths,
    case_id,
    one_case,
    new_case,
    title,
    claim,
    source_url,
    platform,
    posted_at,
    tags,
    claimed_location,
    jobs,
    file_timeout,
    file_memory_mb,
    quick,
    queued,
    as_json,
    settings,
):
    """Take in media files or folders: preserve, hash and describe each one.

    By default every file becomes a case of its own; --one-case puts them all
    into one new case, --case into an existing one. A file whose bytes the store
    already holds is reported as already-stored with the cases that hold it and
    their verdicts, and added to no new case (--new-case adds it all the same).
    Files and matches the archive already holds are named on each result line.
    System files (.DS_Store, Thumbs.db, desktop.ini, ._* and .git folders) are
    skipped. Exit code 1 when any file failed; every other file is still taken
    in. Each file is analysed in a worker process, stopped after --file-timeout
    seconds or --file-memory-mb of memory; a file stopped that way is kept with
    its hashes.

    \b
    Example:
        mediacheck intake strike.jpg --title "IVIC building hit" \\
            --source-url https://t.me/somechannel/1234 --platform telegram \\
            --posted-at 2026-01-03T06:10:00Z
        mediacheck intake fragments/ --case MC-2026-0002
        mediacheck intake incoming/ --jobs 4 --quick
        mediacheck intake big-drop/ --queue
    """
    case_fields = (title, claim, source_url, platform, posted_at, tags, claimed_location)
    if case_id and (one_case or new_case or any(case_fields)):
        raise click.UsageError(
            "--case adds to an existing case: change its fields with "
            "'mediacheck case set', not with intake options"
        )
    from mediacheck.intake import pipeline as core
    from mediacheck.store.cases import CaseFields

    lat, lon = claimed_location or (None, None)
    fields = CaseFields(
        title=title,
        claim=claim,
        source_url=source_url,
        platform=platform,
        posted_at=posted_at,
        tags=tuple(tags),
        claimed_lat=lat,
        claimed_lon=lon,
    )
    request = core.IntakeRequest(
        user=settings.user,
        case_id=case_id,
        one_case=one_case,
        fields=fields,
        quick=quick,
        new_case=new_case,
    )
    if queued:
        from mediacheck.cli.queue import queue_intake

        return queue_intake(settings, paths, request, as_json)
    bounds = Bounds(seconds=file_timeout, memory_mb=file_memory_mb)
    store = open_store(settings, create=True)
    collected = core.collect(paths, store.root)
    if collected.skipped:
        note_line(collected.skipped_summary())
    files = collected.files
    results: list[IntakeResult] = []
    with progress(len(files), "Taking in") as ticks:

        def report(result: IntakeResult) -> None:
            results.append(result)
            ticks.step(None if as_json else lambda: _print_result(result))

        try:
            core.intake(store, paths, request, report, files=files, jobs=jobs, bounds=bounds)
        except MediacheckError:
            # A store failure stops the batch: what was recorded before it is still reported.
            if as_json and results:
                print_json([asdict(r) for r in results])
            raise
    if as_json:
        print_json([asdict(r) for r in results])
    if any(r.status == "error" for r in results):
        raise SystemExit(1)


def _print_result(result: IntakeResult) -> None:
    """One line on stdout per file kept; one on stderr for a file failed or partly read."""
    if result.status == "error":
        error_line(result.error or result.path)
        if not result.media_id:
            return
    elif result.problems:
        more = len(result.problems) - 1
        where = result.case_id or next(iter(result.cases), "")
        rest = f" (and {more} more: mediacheck show {where})" if more else ""
        warning_line(f"{result.path}: partly read: {result.problems[0]}{rest}")
    case = result.case_id or "-"
    console.print(
        f"{result.status:<15} {text(case)}  {text(result.media_id)}  "
        f"{text(result.mime)}  {text(result.path)}{_seen_summary(result)}"
    )


# Cases named on one result line; ``show`` and --json list them all.
SEEN_ON_A_LINE = 3
# Match methods that mean the same file or the very same pixels (match.index).
IDENTICAL = ("sha256", "pixels")


def _seen_summary(result: IntakeResult) -> str:
    """``  identical to MC-2026-0002 (DecontextualizedContent, approved)``, or nothing."""
    named: dict[str, str] = {}
    for seen in result.seen_before:
        if result.case_id is None:
            how = "held by"  # bytes the store holds, added to no case
        elif seen.get("stored_start_s") is not None:
            how = f"excerpt of {span(seen['stored_start_s'], seen['stored_end_s'])} of"
        else:
            how = "identical to" if seen["method"] in IDENTICAL else "copy of"
        flipped = ", mirrored" if seen["method"].endswith("-mirror") else ""
        named.setdefault(seen["case_id"] or "", f"{how} {_seen_case(seen)}{flipped}")
    if not named:
        return ""
    shown = list(named.values())[:SEEN_ON_A_LINE]
    more = len(named) - len(shown)
    return "  " + ", ".join(shown) + (f" and {more} more" if more else "")


def _seen_case(seen: dict) -> str:
    return f"{text(seen['case_id'] or 'no case')} ({text(verdict_text(seen['verdict']))})"


@click.command()
@click.option("--status", type=click.Choice(CASE_STATUSES), help="Only this status.")
@click.option("--tag", help="Only cases with this tag.")
@click.option("--assignee", "--assign", metavar="USER", help="Only cases assigned to USER.")
@click.option(
    "--verdict",
    type=VERDICT_FILTER,
    help="Only cases with a media item of this final rating (Unverified: an item without "
    "an approved verdict).",
)
@json_option
@store_options
def cases(status, tag, assignee, verdict, as_json, settings):
    """List cases: id, title, status, media count and verdict.

    \b
    Example:
        mediacheck cases --status open
        mediacheck cases --verdict unverified --assignee bob
        mediacheck cases --json
    """
    from mediacheck.publish import document as casefile

    filters = casefile.CaseFilter(status=status, tag=tag, assignee=assignee, verdict=verdict)
    rows = casefile.case_rows(open_store(settings), filters)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("case", "title", "status", "media", "verdict", header_style="bold")
    for row in rows:
        table.add_row(
            text(row["case_id"]),
            text(row["title"]),
            text(row["status"]),
            str(row["media_count"]),
            text(_case_verdict(row, row["verdict"], row["verdict_state"])),
        )
    console.print(table)


@click.command()
@click.argument("case_id", metavar="CASE")
@json_option
@store_options
def show(case_id, as_json, settings):
    """Show everything known about a case, checked first as `verify CASE` does.

    A case that fails its check gets a red banner naming each problem, and its
    verdict is shown as unverifiable (exit code 0: the case was shown; `--json`
    has `integrity`).

    \b
    Example:
        mediacheck show MC-2026-0002
        mediacheck show MC-2026-0002 --json
    """
    from mediacheck.publish.document import case_document

    doc = case_document(open_store(settings), case_id)
    if as_json:
        print_json(doc)
        return
    _print_case(doc)


def _print_case(doc: dict) -> None:
    _print_integrity(doc["integrity"], doc["case_id"])
    console.print(f"[bold]{text(doc['case_id'])}[/bold]  {text(doc['title'])}")
    for label, key in (
        ("claim", "claim"),
        ("source", "source_url"),
        ("platform", "platform"),
        ("posted at", "posted_at"),
        ("status", "status"),
        ("created", "created_at"),
        ("by", "created_by"),
    ):
        if doc.get(key):
            console.print(f"  {label:<10} {text(doc[key])}")
    if doc["tags"]:
        console.print(f"  {'tags':<10} {text(', '.join(doc['tags']))}")
    newest = doc["verdict"]
    if doc["integrity"]["ok"]:
        console.print(
            f"  {'verdict':<10} {text(_case_verdict(doc, newest['rating'], newest['state']))}"
        )
    else:
        _print_unverifiable(newest)
    for note in doc["notes"]:
        _print_note(note)
    for media in doc["media"]:
        _print_media(media, trusted=doc["integrity"]["ok"])


def _print_integrity(integrity: dict, case_id: str) -> None:
    """A red banner above a case that fails its integrity check, naming each problem."""
    if integrity["ok"]:
        return
    count = len(integrity["problems"])
    console.print(
        f"[bold white on red] INTEGRITY CHECK FAILED: {count} problem{'s' if count != 1 else ''}"
        " - this case is not as recorded; its verdict cannot be trusted [/bold white on red]"
    )
    for problem in integrity["problems"]:
        console.print(f"[red]  {text(problem['message'])}[/red]")
    console.print(f"[red]  run: mediacheck verify {text(case_id)}[/red]")


def _print_unverifiable(verdict: dict) -> None:
    stored = _verdict_label(verdict["rating"], verdict["state"])
    console.print(f"  {'verdict':<10} [bold red]unverifiable[/bold red] (recorded: {text(stored)})")


def _verdict_label(rating: str, state: str | None) -> str:
    return f"{rating} ({state})" if state else rating


def _case_verdict(doc: dict, newest: str, state: str | None) -> str:
    """The case's final verdict; while items are undecided, how far review is.

    ``newest`` and ``state`` are of the case's newest verdict, shown for a case of one item.
    """
    final, items = doc["final_verdict"], doc["final_verdicts"]
    if final != "Unverified":
        return f"{final} (approved)"
    if len(items) > 1:
        decided = sum(rating != "Unverified" for rating in items.values())
        return f"Unverified ({decided} of {len(items)} items approved)"
    return _verdict_label(newest, state)


def _print_verdict(verdict: dict, final: str) -> None:
    """A media item's newest verdict, and its final rating when that is another."""
    _row("verdict", _verdict_label(verdict["rating"], verdict["state"]))
    if verdict["state"] is None:
        return
    _row("", f"proposed by {verdict['proposed_by']}")
    _row("", verdict["rationale"])
    decided = verdict["approved_by"] or verdict["rejected_by"]
    if decided:
        why = verdict["comment"] or verdict["reason"]
        _row("", f"{verdict['state']} by {decided}")
        if why:
            _row("", why)
    if final != verdict["rating"] or verdict["state"] != "approved":
        _row("final", final)


def _print_note(note: dict) -> None:
    fixes = f" (corrects note {note['corrects']})" if note["corrects"] else ""
    console.print(
        f"  note {note['id']:<5} {text(note['at'][:16])} {text(note['author'])}{fixes}: "
        f"{text(note['text'])}"
    )
    earliest = note["earliest_date"] and f"earliest {note['earliest_date']}"
    found = [f for f in (note["engine"], note["url"], earliest) if f]
    if found:
        console.print(f"  {'':<10} {text('  '.join(found))}")


SEVERITY_STYLE = {"warning": "bold red", "notice": "yellow", "info": "dim"}


def _print_media(media: dict, trusted: bool) -> None:
    console.print()
    console.print(
        f"[bold]media {text(media['media_id'])}[/bold]  {text(media['original_name'])}  "
        f"{text(media['kind'])} {text(media['mime'])}  {media['size']:,} bytes"
    )
    _row("sha256", media["sha256"])
    _row("added", f"{media['added_at']} by {media['added_by']}")
    if trusted:
        _print_verdict(media["verdict"], media["final_verdict"])
    else:
        _print_unverifiable(media["verdict"])
    if media["width"]:
        _row("pixels", f"{media['width']} x {media['height']}")
    facts = {k: v for k, v in media["summary"].items() if v is not None}
    facts.pop("width", None), facts.pop("height", None)
    _section("what the file says", [(key, value) for key, value in facts.items()])
    _section("fingerprints", list(media["hashes"].items()))
    frames = [(timestamp(f["time_s"]), f["path"]) for f in media["keyframes"]]
    if media["contact_sheet"]:
        frames.append(("contact sheet", media["contact_sheet"]))
    _section("keyframes", frames)
    _section("seen before", [_seen_row(seen) for seen in media["seen_before"]])
    _section("problems", [("", problem) for problem in media["errors"]])
    if media["findings"]:
        console.print("  [bold]findings[/bold]")
    for finding in media["findings"]:
        style = SEVERITY_STYLE.get(finding["severity"], "")
        console.print(
            f"    [{style}]{finding['severity']:<8}[/{style}] {text(finding['code'])}: "
            f"{text(finding['message'])}"
        )


def _seen_row(seen: dict) -> tuple[str, str]:
    how = f"{seen['method']}, distance {seen['distance']:g}"
    title = f"{seen['case_title']}  " if seen["case_title"] else ""
    found = f"{title}{verdict_text(seen['verdict'])}  media {seen['media_id']}{where(seen)} ({how})"
    return seen["case_id"] or "no case", found


def _section(title: str, rows: list[tuple[str, object]]) -> None:
    if not rows:
        return
    console.print(f"  [bold]{title}[/bold]")
    for label, value in rows:
        _row(label, value, indent=4)


def _row(label: str, value: object, indent: int = 2) -> None:
    console.print(f"{'':<{indent}}{text(label):<16} {text(value)}")


COMMANDS = [intake, cases, show]
