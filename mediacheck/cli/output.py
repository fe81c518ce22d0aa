"""Printing: JSON for scripts, rich tables and summaries for people."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.markup import escape

if TYPE_CHECKING:
    from rich.console import Console


class _Console:
    """A rich Console made on first use: ``--help`` and JSON output never build one."""

    def __init__(self, **options: Any):
        self._options = options
        self._console: Console | None = None

    def rich(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich(), name)


console: Any = _Console(highlight=False, soft_wrap=True, emoji=False)
err_console: Any = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

# Characters a terminal acts on instead of showing, all of them from files or their names:
# C0 controls (ESC opens CSI and OSC sequences: colours, titles, hyperlinks, clearing the
# screen; a newline forges an output line), DEL, C1 controls (U+009B is a one-character
# CSI), bidirectional marks, overrides and isolates that reorder what follows, line and
# paragraph separators, and lone surrogates (undecodable bytes of a file name, which
# cannot even be written as UTF-8).
BIDI_AND_SEPARATORS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_AND_SEPARATORS}\ud800-\udfff]")
# JSON escapes C0 controls itself; the others are valid raw in JSON strings but not inert.
JSON_UNSAFE = re.compile(f"[\x7f-\x9f{BIDI_AND_SEPARATORS}\ud800-\udfff]")
SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
SURROGATE_BYTES = range(0xDC80, 0xDD00)  # how Python keeps an undecodable byte of a name


def print_json(data: Any) -> None:
    """Stable JSON on stdout: two-space indent, non-ASCII kept except what a terminal obeys."""
    dumped = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped) + "\n")


def inert(value: str) -> str:
    """``value`` with every character a terminal would act on written as an escape."""
    return UNSAFE.sub(_escape, value)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in SHORT_ESCAPES:
        return SHORT_ESCAPES[char]
    if code in SURROGATE_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: Any) -> str:
    """A value safe to print through rich: no [markup] and nothing a terminal obeys."""
    return escape(inert("" if value is None else str(value)))


def error_line(message: str) -> None:
    err_console.print(f"[red]error:[/red] {text(message)}")


def warning_line(message: str) -> None:
    """Something wrong that did not stop the command: a file partly read, a failed check."""
    err_console.print(f"[yellow]warning:[/yellow] {text(message)}")


def note_line(message: str) -> None:
    """Something to know that is no failure (stderr, like errors: never among results)."""
    err_console.print(f"[yellow]note:[/yellow] {text(message)}")


class Ticks:
    """What ``progress`` yields: ``step`` once per item, with the lines it prints."""

    def __init__(self, bar: Any = None, task: Any = None):
        self._bar, self._task = bar, task

    def step(self, show: Callable[[], None] | None = None) -> None:
        """One item done; ``show`` prints its result lines, never onto the bar.

        When results and the bar share a terminal, the bar is taken off the screen
        while they print and drawn again below them.
        """
        if self._bar is None:
            if show is not None:
                show()
            return
        if show is not None and console.is_terminal:
            self._bar.stop()  # transient: erases the bar, leaving the cursor at its start
            try:
                show()
                console.file.flush()
            finally:
                self._bar.start()
        elif show is not None:
            show()
        self._bar.advance(self._task)


@contextmanager
def progress(total: int, label: str) -> Iterator[Ticks]:
    """A progress bar on a terminal; silent when stderr is piped or redirected."""
    if not err_console.is_terminal or total < 2:
        yield Ticks()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console.rich(), transient=True) as bar:
        yield Ticks(bar, bar.add_task(label, total=total))
