"""Which files an intake takes in: those named, and every file below a named folder."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Origin:
    """A file as the desk that queued or uploaded it saw it (intake reads a copy elsewhere)."""

    name: str
    path: str
    mtime: str | None  # None: not known (a browser's upload, a download without Last-Modified)
    added_at: str


@dataclass(frozen=True)
class InputFile:
    path: Path
    was_symlink: bool = False
    problem: str | None = None  # why it cannot be read at all
    origin: Origin | None = None


@dataclass(frozen=True)
class Collected:
    """The files to take in, and the system files left out (what each was, in order)."""

    files: list[InputFile]
    skipped: list[str]  # one label per file or folder skipped: ".DS_Store", ".git", ...

    def skipped_summary(self) -> str:
        """``skipped 3 system files (.DS_Store, Thumbs.db)``."""
        count = len(self.skipped)
        kinds = ", ".join(dict.fromkeys(self.skipped))
        return f"skipped {count} system file{'' if count == 1 else 's'} ({kinds})"


# What operating systems and tools leave beside media: never evidence. Names are
# compared in lower case (Windows writes Thumbs.db and thumbs.db alike).
SYSTEM_FILES = {".ds_store": ".DS_Store", "thumbs.db": "Thumbs.db", "desktop.ini": "desktop.ini"}
SYSTEM_FOLDERS = {".git": ".git"}
APPLEDOUBLE_PREFIX = "._"  # macOS resource forks copied to other file systems


def system_label(name: str, is_dir: bool) -> str | None:
    """What kind of system file or folder ``name`` is, or None for anything else."""
    if is_dir:
        return SYSTEM_FOLDERS.get(name.lower())
    if name.startswith(APPLEDOUBLE_PREFIX):
        return "._*"
    return SYSTEM_FILES.get(name.lower())


def collect(paths: Iterable[Path], store: Path | None = None) -> Collected:
    """Every file named or found below a named folder, in a stable order, but system files.

    A folder walked never yields the files of the case store ``store`` inside it: a desk
    that keeps its store beside its incoming media must not take in its own database.
    """
    outside = store.resolve() if store is not None else None
    found: list[InputFile] = []
    skipped: list[str] = []
    for path in paths:
        found.extend(_collect(Path(path), outside, skipped))
    return Collected(found, skipped)


def collect_files(paths: Iterable[Path], store: Path | None = None) -> list[InputFile]:
    """The files ``collect`` takes in."""
    return collect(paths, store).files


def _collect(path: Path, store: Path | None, skipped: list[str]) -> Iterator[InputFile]:
    inside = next((p for p in path.parts if system_label(p, True)), None)
    label = system_label(inside, True) if inside else system_label(path.name, path.is_dir())
    if label is not None:
        skipped.append(label)
        return
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            if store is not None and Path(root).resolve() == store:
                dirs.clear()
                continue
            kept = sorted(d for d in dirs if not _skipped(d, True, skipped))
            dirs[:] = kept
            for name in sorted(files):
                if not _skipped(name, False, skipped):
                    yield _input_file(Path(root) / name)
        return
    yield _input_file(path)


def _skipped(name: str, is_dir: bool, skipped: list[str]) -> bool:
    label = system_label(name, is_dir)
    if label is not None:
        skipped.append(label)
    return label is not None


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
