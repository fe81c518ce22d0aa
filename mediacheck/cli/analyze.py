"""analyze: recompute the forensic findings of a case's media."""

from __future__ import annotations

import click

from mediacheck.cli.options import json_option, open_store, store_options
from mediacheck.cli.output import console, print_json, text


@click.command()
@click.argument("case_id", metavar="CASE")
@json_option
@store_options
def analyze(case_id, as_json, settings):
    """Recompute the forensic findings of every media in a case and replace the stored ones.

    Run it after an upgrade of mediacheck, or after changing the case's posting
    time or claimed location. The history records an ``analyze`` event.

    \b
    Example:
        mediacheck analyze MC-2026-0001
        mediacheck analyze MC-2026-0001 --json
    """
    from mediacheck.findings.service import analyze_case
    from mediacheck.publish.document import finding_document

    result = analyze_case(open_store(settings), case_id, settings.user)
    if as_json:
        print_json(
            {
                "case_id": result.case_id,
                "media": [
                    {
                        "media_id": media_id,
                        "findings": [finding_document(f) for f in rows],
                    }
                    for media_id, rows in result.findings.items()
                ],
            }
        )
        return
    for media_id, rows in result.findings.items():
        console.print(f"[bold]{text(media_id)}[/bold]  {len(rows)} findings")
        for row in rows:
            console.print(f"  {row.severity:<8} {text(row.code)}: {text(row.message)}")


COMMANDS = [analyze]
