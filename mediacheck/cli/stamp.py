"""stamp: RFC 3161 time-stamp tokens for a case, asked again after a failure."""

from __future__ import annotations

from dataclasses import asdict

import click

from mediacheck.cli.options import json_option, open_store, store_options
from mediacheck.cli.output import console, error_line, print_json, text


@click.command()
@click.argument("case_id", metavar="CASE")
@json_option
@store_options
def stamp(case_id, as_json, settings):
    """Time-stamp a case's history head and its WARCs with the TSA at MEDIACHECK_TSA_URL.

    Approving a verdict stamps the head by itself, and taking in a link stamps
    its capture's WARC; this asks again when the time-stamping authority was
    down, or stamps the head now. A subject that already has a token from the
    same authority is left as it is. The token's certificate is checked
    against MEDIACHECK_TSA_CA (a PEM file) when set. Exit code 1 when a stamp
    failed.

    \b
    Example:
        MEDIACHECK_TSA_URL=https://tsa.example.org/tsr mediacheck stamp MC-2026-0002
        mediacheck stamp MC-2026-0002 --json
    """
    from mediacheck.timestamps.service import FAILED, stamp_case

    outcomes = stamp_case(open_store(settings), settings, case_id)
    if as_json:
        print_json([asdict(outcome) for outcome in outcomes])
    else:
        for outcome in outcomes:
            if outcome.status == FAILED:
                error_line(f"{outcome.subject}: {outcome.error}")
            else:
                console.print(
                    f"{text(outcome.subject)}: {outcome.status} at {text(outcome.gen_time)} "
                    f"by {text(outcome.tsa_url)}"
                )
    if any(outcome.status == FAILED for outcome in outcomes):
        raise SystemExit(1)


COMMANDS = [stamp]
