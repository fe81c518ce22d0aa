"""report, export and import: a case as a report, a bundle or a line of the archive."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click

from mediacheck.cli.options import URL, json_option, open_store, store_options
from mediacheck.cli.output import console, print_json, text, warning_line
from mediacheck.publish.formats import ARCHIVE_FORMATS
from mediacheck.publish.formats import REPORT_FORMATS as RENDERED_FORMATS

REPORT_FORMATS = (*RENDERED_FORMATS, "mediareview")
MEGABYTE = 1024 * 1024


def _in_existing_folder(ctx, param, value: Path | None) -> Path | None:
    if value is not None and not value.parent.is_dir():
        raise click.BadParameter(f"the folder {value.parent} does not exist", ctx, param)
    return value


@click.command()
@click.argument("case_id", metavar="CASE")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="html",
    show_default=True,
    help="What to render.",
)
@click.option("--claim-review", is_flag=True, help="With mediareview: add the linked ClaimReview.")
@click.option("--review-url", type=URL, help="With mediareview: where the review is published.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_in_existing_folder,
    help="Write to FILE.",
)
@store_options
def report(case_id, fmt, claim_review, review_url, output, settings):
    """Render a case as HTML, Markdown, JSON or schema.org MediaReview JSON-LD.

    HTML is one self-contained page (pictures embedded, no scripts, printable);
    md is for pasting into newsroom tools; json is `show --json` plus the
    history; mediareview needs an approved verdict. The case is checked first,
    as `verify CASE` does: a case that fails shows a red banner and its verdict
    as unverifiable, with a warning on stderr (exit code 0: the report was
    rendered), and is never published as MediaReview (exit code 1).

    \b
    Example:
        mediacheck report MC-2026-0002 -o MC-2026-0002.html
        mediacheck report MC-2026-0002 --format mediareview --claim-review
    """
    if (claim_review or review_url) and fmt != "mediareview":
        raise click.UsageError("--claim-review and --review-url go with --format mediareview")
    from mediacheck.publish import mediareview, reports

    store = open_store(settings)
    doc = reports.report_document(store, case_id)
    if fmt == "mediareview":
        _refuse_unverifiable(doc["case_id"], doc["integrity"]["problems"], "published")
        review = mediareview.media_review(doc, claim_review, review_url)
        rendered = mediareview.to_json(review)
    else:
        rendered = reports.render(store, doc, fmt)
        _warn_unverifiable(doc["case_id"], doc["integrity"]["problems"], "the report says so")
    if output is None:
        sys.stdout.write(rendered)
        return
    output.write_text(rendered, encoding="utf-8")
    console.print(f"{text(case_id)}: {fmt} report written to {text(output)}")


def _warn_unverifiable(case_id: str, problems: list[dict], consequence: str) -> None:
    if problems:
        count = len(problems)
        warning_line(
            f"{case_id} fails its integrity check ({count} problem{'s' if count != 1 else ''}): "
            f"{consequence} (run `mediacheck verify {case_id}`)"
        )


def _refuse_unverifiable(case_id: str, problems: list[dict], what: str) -> None:
    """An IntegrityError naming the first problem (``verify --json``'s), unless none."""
    if not problems:
        return
    from mediacheck.errors import IntegrityError

    first, more = problems[0], len(problems) - 1
    others = f"and {more} more problem{'s' if more != 1 else ''}; " if more else ""
    raise IntegrityError(
        f"{case_id} not {what}: it fails its integrity check: {first['message']} "
        f"({others}run `mediacheck verify {case_id}`)"
    )


@click.command()
@click.argument("case_id", metavar="[CASE]", required=False)
@click.option("--all", "everything", is_flag=True, help="Export every case (with --format).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(ARCHIVE_FORMATS),
    help="With --all: jsonl (one case a line) or csv (one media item a row).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_in_existing_folder,
    required=True,
    help="The file to write.",
)
@json_option
@store_options
def export(case_id, everything, fmt, output, as_json, settings):
    """Export a case as a verifiable BagIt zip, or the whole archive as JSONL or CSV.

    Every case is checked first, as `verify` does. A case that fails is never
    exported as a bundle (exit code 1); in the archive it is written with its
    problems (`integrity` in JSONL, `integrity_ok` and `integrity_problems` in
    CSV) and named on stderr (exit code 0: the archive was written).

    \b
    Example:
        mediacheck export MC-2026-0002 -o MC-2026-0002.zip
        mediacheck export --all --format csv -o archive.csv
    """
    if everything == bool(case_id):
        raise click.UsageError("give either CASE or --all")
    if fmt and not everything:
        raise click.UsageError("--format goes with --all; a case is exported as a zip bundle")
    from mediacheck.integrity.verify import integrity_document, verify
    from mediacheck.publish import bundle
    from mediacheck.publish import export as archive

    store = open_store(settings)
    if everything:
        written = archive.write_archive(store, output, fmt or "jsonl")
        for problem_case, problems in written.unverifiable.items():
            _warn_unverifiable(problem_case, problems, "written with its problems")
        result = {
            "path": str(output),
            "format": fmt or "jsonl",
            "count": written.count,
            "integrity": {"ok": not written.problems, "problems": written.problems},
        }
        unit = "lines" if result["format"] == "jsonl" else "rows"
        summary = f"{written.count} {unit} written to"
    else:
        checked = integrity_document(verify(store, case_id))
        _refuse_unverifiable(case_id, checked["problems"], "exported")
        exported = bundle.export_case(store, case_id, output)
        result = asdict(exported) | {"path": str(exported.path), "integrity": checked}
        summary = f"{case_id}: {exported.files} files ({exported.payload_bytes} bytes) written to"
    if as_json:
        print_json(result)
    else:
        console.print(f"{text(summary)} {text(output)}")


@click.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--max-size",
    type=click.IntRange(min=1),
    help="Refuse bundles that unpack to more megabytes than this.  "
    "[default: twice the payload the bundle declares, plus 16 MB]",
)
@json_option
@store_options
def import_command(path, max_size, as_json, settings):
    """Import a case bundle after verifying every checksum, its history chain and its rows.

    Nothing is added unless the whole bundle checks out: its rows must agree
    with its history and with its originals, which are described again. A case
    id the store already holds is refused, and stored originals are never replaced.

    \b
    Example:
        mediacheck import MC-2026-0002.zip
    """
    from mediacheck.publish import bundle

    limits = bundle.Limits(max_bytes=max_size * MEGABYTE if max_size else None)
    result = bundle.import_bundle(open_store(settings, create=True), path, settings.user, limits)
    if as_json:
        print_json(asdict(result))
        return
    console.print(
        f"{text(result.case_id)}: imported {result.events} events, "
        f"{len(result.media_added)} new originals, "
        f"{len(result.media_already_stored)} already stored"
    )


COMMANDS = [report, export, import_command]
