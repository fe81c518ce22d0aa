"""intake, cases and show: getting files in and seeing what is there."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
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
from mediacheck.cli.output import console, error_line, print_json, progress, text
from mediacheck.cli.review import VERDICT_FILTER
from mediacheck.errors import MediacheckError
from mediacheck.intake.bounds import Bounds
from mediacheck.media.video.timecode import timestamp

if TYPE_CHECKING:
    from mediacheck.intake.pipeline import IntakeResult

# Less than this leaves a decoder too little room for an ordinary 12 MP picture and its checks.
MIN_MEMORY_MB = 1024


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--case", "case_id", metavar="ID", help="Add to this existing case.")
@click.option("--one-case", is_flag=True, help="Put all files into one new case.")
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
@json_option
@store_options
def intake(
    paths,
    case_id,
    one_case,
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
    as_json,
    settings,
):
    """Take in media files or folders: preserve, hash and describe each one.

    By default every file becomes a case of its own; --one-case puts them all
    into one new case, --case into an existing one. Exit code 1 when any file
    failed; every other file is still taken in. Each file is analysed in a
    worker process, stopped after --file-timeout seconds or --file-memory-mb
    of memory; a file stopped that way is kept with its hashes.

    \b
    Example:
        mediacheck intake strike.jpg --title "IVIC building hit" \\
            --source-url https://t.me/somechannel/1234 --platform telegram \\
            --posted-at 2026-01-03T06:10:00Z
        mediacheck intake fragments/ --case MC-2026-0002
        mediacheck intake incoming/ --jobs 4 --quick
    """
    case_fields = (title, claim, source_url, platform, posted_at, tags, claimed_location)
    if case_id and (one_case or any(case_fields)):
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
        user=settings.user, case_id=case_id, one_case=one_case, fields=fields, quick=quick
    )
    bounds = Bounds(seconds=file_timeout, memory_mb=file_memory_mb)
    store = open_store(settings)
    files = core.collect_files(paths, store.root)
    results: list[IntakeResult] = []
    with progress(len(files), "Taking in") as advance:

        def report(result: IntakeResult) -> None:
            advance()
            results.append(result)
            if not as_json:
                _print_result(result)

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
    if result.status == "error":
        error_line(result.error or result.path)
        if not result.media_id:
            return
    console.print(
        f"{result.status:<15} {text(result.case_id)}  {text(result.media_id)}  "
        f"{text(result.mime)}  {text(result.path)}"
    )


@click.command()
@click.option("--status", type=click.Choice(CASE_STATUSES), help="Only this status.")
@click.option("--tag", help="Only cases with this tag.")
@click.option("--assignee", "--assign", metavar="USER", help="Only cases assigned to USER.")
@click.option(
    "--verdict",
    type=VERDICT_FILTER,
    help="Only cases whose approved verdict is this rating (Unverified: none approved).",
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
            text(_verdict_label(row["verdict"], row["verdict_state"])),
        )
    console.print(table)


@click.command()
@click.argument("case_id", metavar="CASE")
@json_option
@store_options
def show(case_id, as_json, settings):
    """Show everything known about a case.

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
    _print_verdict(doc["verdict"], doc["final_verdict"])
    for note in doc["notes"]:
        _print_note(note)
    for media in doc["media"]:
        _print_media(media)


def _verdict_label(rating: str, state: str | None) -> str:
    return f"{rating} ({state})" if state else rating


def _print_verdict(verdict: dict, final: str) -> None:
    console.print(f"  {'verdict':<10} {text(_verdict_label(verdict['rating'], verdict['state']))}")
    if verdict["state"] is None:
        return
    console.print(f"  {'':<10} proposed by {text(verdict['proposed_by'])}")
    console.print(f"  {'':<10} {text(verdict['rationale'])}")
    decided = verdict["approved_by"] or verdict["rejected_by"]
    if decided:
        why = verdict["comment"] or verdict["reason"]
        console.print(f"  {'':<10} {verdict['state']} by {text(decided)}")
        if why:
            console.print(f"  {'':<10} {text(why)}")
    if final != verdict["rating"] or verdict["state"] != "approved":
        console.print(f"  {'final':<10} {text(final)}")


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


def _print_media(media: dict) -> None:
    console.print()
    console.print(
        f"[bold]media {text(media['media_id'])}[/bold]  {text(media['original_name'])}  "
        f"{text(media['kind'])} {text(media['mime'])}  {media['size']:,} bytes"
    )
    _row("sha256", media["sha256"])
    _row("added", f"{media['added_at']} by {media['added_by']}")
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
    frame = "" if seen["frame_time_s"] is None else f" at {timestamp(seen['frame_time_s'])}"
    how = f"{seen['method']}, distance {seen['distance']:g}"
    return seen["case_id"], f"media {seen['media_id']}{frame} ({how})"


def _section(title: str, rows: list[tuple[str, object]]) -> None:
    if not rows:
        return
    console.print(f"  [bold]{title}[/bold]")
    for label, value in rows:
        _row(label, value, indent=4)


def _row(label: str, value: object, indent: int = 2) -> None:
    console.print(f"{'':<{indent}}{text(label):<16} {text(value)}")


COMMANDS = [intake, cases, show]
