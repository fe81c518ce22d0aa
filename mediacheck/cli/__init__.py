"""The ``mediacheck`` command: parses options, calls the core, prints.

Every domain error becomes one line on stderr and exit code 1; bad options
and arguments are usage errors with exit code 2. Command modules import the core
inside each command, so ``--help`` and a bad option cost what click costs
(docs/architecture.md, "Start-up").
"""

from __future__ import annotations

import click

from mediacheck import __version__
from mediacheck.errors import MediacheckError


class MediacheckGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MediacheckError as exc:
            from mediacheck.cli.output import inert

            raise click.ClickException(inert(str(exc))) from exc


@click.group(cls=MediacheckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mediacheck")
def main():
    """Case tracker for verification desks: preserve, describe and review unverified media.

    \b
    Example:
        mediacheck intake strike.jpg --title "IVIC building hit" --posted-at 2026-01-03T06:10:00Z
        mediacheck cases
        mediacheck show MC-2026-0001
    """


def _register() -> None:
    from mediacheck.cli import (
        analyze,
        case,
        db,
        intake,
        match,
        queue,
        report,
        review,
        serve,
        user,
        video,
        worker,
    )

    for module in (
        intake,
        review,
        case,
        db,
        video,
        report,
        analyze,
        match,
        queue,
        worker,
        user,
        serve,
    ):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
