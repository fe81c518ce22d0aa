"""keyframes: a case's video pictures, out of the store and ready for reverse search."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from mediacheck.cli.options import json_option, open_store, store_options
from mediacheck.cli.output import console, error_line, print_json, text
from mediacheck.media.video.timecode import timestamp


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to copy them to [default: ./CASE-keyframes].",
)
@json_option
@store_options
def keyframes(case_id, out_dir, as_json, settings):
    """Export the keyframes and contact sheets of a case's videos for reverse-image search.

    Files are named CASE_MEDIA_SECONDS.jpg; exit code 1 if a stored picture is missing.

    \b
    Example:
        mediacheck keyframes MC-2026-0002 -o upload/
    """
    from mediacheck.review.keyframe_export import export_keyframes

    result = export_keyframes(open_store(settings), case_id, out_dir)
    if as_json:
        print_json(asdict(result))
    else:
        for picture in result.pictures:
            when = "contact sheet" if picture.time_s is None else timestamp(picture.time_s)
            console.print(f"{text(picture.media_id)}  {when:>13}  {text(picture.file)}")
        console.print(f"{len(result.pictures)} pictures copied to {text(result.out_dir)}")
    for problem in result.problems:
        error_line(problem)
    if result.problems:
        raise SystemExit(1)


COMMANDS = [keyframes]
