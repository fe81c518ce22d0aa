"""``mediacheck worker``: run queued intakes on this machine."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from mediacheck.cli.intake import _print_result
from mediacheck.cli.options import json_option, store_options


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes, each taking one file at a time.",
)
@click.option("--burst", is_flag=True, help="Stop once no job is pending or running.")
@json_option
@store_options
def worker(concurrency, burst, as_json, settings):
    """Take queued intakes ('intake --queue') from PostgreSQL and run them, one file a job.

    Start one on every machine that should take in files; each needs the same
    --db and --blobs. A job whose worker died is run again by another worker and
    records nothing twice. With --json, one JSON object per file taken in.

    \b
    Example:
        mediacheck worker --concurrency 4
        mediacheck worker --burst
    """
    from mediacheck.queue import jobs
    from mediacheck.queue import worker as core

    jobs.conninfo(settings.db_url)  # PostgreSQL, or one line saying why not
    if concurrency > 1:
        raise SystemExit(core.work_in_processes(settings, concurrency, burst, as_json))

    def report(result) -> None:
        if as_json:
            click.echo(json.dumps(asdict(result)))
        else:
            _print_result(result)

    core.work(settings, burst, report)


COMMANDS = [worker]
