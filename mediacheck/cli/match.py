"""match: has the archive seen these files before? Searches only, stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from mediacheck.cli.options import json_option, open_store, store_options
from mediacheck.cli.output import console, error_line, print_json, text
from mediacheck.media.video.timecode import span, timestamp

if TYPE_CHECKING:
    from mediacheck.match.search import FileMatches


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
@store_options
def match(files, as_json, settings):
    """Find stored media that FILES are copies of (cropped, captioned, re-encoded...).

    Photos and videos alike are compared with every stored photo and video keyframe.
    Nothing is stored. Exit code 1 when a file could not be searched.

    \b
    Example:
        mediacheck match suspicious.jpg clip.mp4
        mediacheck match suspicious.jpg --json
    """
    from mediacheck.match.search import match_files

    results = list(match_files(open_store(settings), files))
    if as_json:
        print_json([_document(r) for r in results])
    else:
        for result in results:
            _print_result(result)
    if any(r.error for r in results):
        click.get_current_context().exit(1)


def _document(result: FileMatches) -> dict:
    doc = {"path": result.path, "matches": [m.document() for m in result.matches]}
    if result.error:
        doc["error"] = result.error
    return doc


def _print_result(result: FileMatches) -> None:
    if result.error:
        error_line(result.error)
        return
    if not result.matches:
        console.print(f"{text(result.path)}: not seen before")
        return
    console.print(f"[bold]{text(result.path)}[/bold]: seen before")
    for m in result.matches:
        console.print(
            f"  {text(m.case_id or 'no case')}  {text(m.case_title)}  "
            f"({text(verdict_text(m.verdict))})  {m.kind} {m.media_id}{where(m.document())}  "
            f"{m.method} distance {m.distance:g} score {m.score:.2f}"
        )


def where(found: dict) -> str:
    """`` 0:05-0:21 (here 0:00-0:16)`` of a video found in a video, `` at 0:00:04.000`` of
    one keyframe, nothing for a photo (a match's or a ``seen_before`` entry's fields)."""
    if found.get("stored_start_s") is not None:
        stored = span(found["stored_start_s"], found["stored_end_s"])
        return f" {stored} (here {span(found['query_start_s'], found['query_end_s'])})"
    if found["frame_time_s"] is not None:
        return f" at {timestamp(found['frame_time_s'])}"
    return ""


# The rating of media without an approved verdict, restated so that --help does not
# import the review rules (tests/test_startup.py compares them).
UNVERIFIED = "Unverified"


def verdict_text(verdict: str) -> str:
    """A seen-before item's final verdict as people read it: approved, or Unverified."""
    return verdict if verdict == UNVERIFIED else f"{verdict}, approved"


COMMANDS = [match]
