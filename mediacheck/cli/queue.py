"""``intake --queue`` and ``queue status``: the intake queue as the desk sees it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mediacheck.cli.options import json_option, open_store, store_options
from mediacheck.cli.output import console, error_line, print_json, text
from mediacheck.config import Settings

if TYPE_CHECKING:
    from mediacheck.intake.pipeline import IntakeRequest
    from mediacheck.queue.jobs import Queued


def queue_intake(
    settings: Settings, paths: tuple[Path, ...], request: IntakeRequest, as_json: bool
) -> None:
    """Store each file and queue it; exit code 1 when any file could not be queued."""
    from mediacheck.queue import jobs

    jobs.conninfo(settings.db_url)  # the queue needs PostgreSQL: say so before making a store
    store = open_store(settings, create=True)  # an intake, even queued, may make the store

    def report(result: Queued) -> None:
        if as_json:
            return
        if result.status == "error":
            error_line(result.error or result.path)
        else:
            console.print(
                f"queued  job {result.job_id}  {text(result.sha256)}  {text(result.path)}"
            )

    results = jobs.queue_files(store, settings, paths, request, report)
    if as_json:
        print_json([asdict(r) for r in results])
    if any(r.status == "error" for r in results):
        raise SystemExit(1)


@click.group()
def queue():
    """The intake queue that 'mediacheck worker' takes from (PostgreSQL).

    \b
    Example:
        mediacheck queue status
    """


@queue.command()
@json_option
@store_options
def status(as_json, settings):
    """Pending, running and failed intake jobs, with each failed job's error.

    \b
    Example:
        mediacheck queue status --json
    """
    from mediacheck.queue.status import queue_status

    found = queue_status(settings)
    if as_json:
        print_json(asdict(found))
        return
    console.print(
        f"{found.pending} pending, {found.running} running, {found.failed} failed, "
        f"{found.succeeded} done"
    )
    for job in found.jobs:
        line = f"{job.status:<8} job {job.id}  {text(job.path)}"
        console.print(line + (f"  {text(job.error)}" if job.error else ""))


COMMANDS = [queue]
