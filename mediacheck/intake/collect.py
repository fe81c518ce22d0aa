"""Which files an intake takes in: those named, and every file below a named folder."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Origin:
    """A queued file as the desk that queued it saw it (a worker reads a copy elsewhere)."""

    name: str
    path: str
    mtime: str
    added_at: str


@dataclass(frozen=True)
class InputFile:
    path: Path
    was_symlink: bool = False
    problem: str | None = None  # why it cannot be read at all
    origin: Origin | None = None


def collect_files(paths: Iterable[Path], store: Path | None = None) -> list[InputFile]:
    """Every file named or found below a named folder, in a stable order.

    A folder walked never yields the files of the case store ``store`` inside it: a desk
    that keeps its store beside its incoming media must not take in its own database.
    """
    outside = store.resolve() if store is not None else None
    found: list[InputFile] = []
    for path in paths:
        found.extend(_collect(Path(path), outside))
    return found


def _collect(path: Path, store: Path | None) -> Iterator[InputFile]:
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            if store is not None and Path(root).resolve() == store:
                dirs.clear()
                continue
            dirs.sort()
            for name in sorted(files):
                yield _input_file(Path(root) / name)
        return
    yield _input_file(path)


def _input_file(path: Path) -> InputFile:
    is_link = path.is_symlink()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        cause = "broken symbolic link" if is_link else "no such file or directory"
        return InputFile(path, is_link, cause)
    except OSError as exc:
        return InputFile(path, is_link, f"cannot be read: {exc.strerror or exc}")
    if not stat.S_ISREG(mode):
        return InputFile(path, is_link, "not a regular file")
    if not os.access(path, os.R_OK):
        return InputFile(path, is_link, "cannot be read: permission denied")
    return InputFile(path, is_link)


def storable_name(name: str) -> str:
    """A file name as a database can keep it: bytes that are not UTF-8 become \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")
