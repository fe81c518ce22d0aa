"""Printing: JSON for scripts, rich tables and summaries for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Stable JSON on stdout: two-space indent, non-ASCII kept, no colours."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def text(value: Any) -> str:
    """A value safe to print through rich (file metadata may contain [markup])."""
    return escape("" if value is None else str(value))


def error_line(message: str) -> None:
    err_console.print(f"[red]error:[/red] {text(message)}")


def note_line(message: str) -> None:
    """Something to know that is no failure (stderr, like errors: never among results)."""
    err_console.print(f"[yellow]note:[/yellow] {text(message)}")


@contextmanager
def progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; silent when stderr is piped or redirected."""
    if not err_console.is_terminal or total < 2:
        yield lambda: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
