"""Uploaded files as intake and match take files: saved under names of our own.

The name a browser sends is hostile: it is kept (as text, escaped wherever it is
shown) as the media's original name, and never used in a path.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from mediacheck.history import chain as history
from mediacheck.intake.collect import InputFile, Origin, storable_name

CHUNK = 1024 * 1024


class Upload(Protocol):
    filename: str | None
    file: BinaryIO


@dataclass(frozen=True)
class Saved:
    """One upload on disk: where we put it, and the name it came with."""

    item: InputFile
    name: str


def upload_name(filename: str | None, number: int) -> str:
    """The file's own name without any folder a client put in front of it."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return storable_name(name) if name else f"upload-{number + 1}"


@contextmanager
def saved_uploads(uploads: Sequence[Upload]) -> Iterator[list[Saved]]:
    """Each upload in a temporary folder, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="mediacheck-upload-") as folder:
        saved = []
        for number, upload in enumerate(uploads):
            path = Path(folder) / f"upload-{number}"
            with open(path, "wb") as out:
                shutil.copyfileobj(upload.file, out, CHUNK)
            name = upload_name(upload.filename, number)
            origin = Origin(name=name, path=name, mtime=None, added_at=history.now())
            saved.append(Saved(InputFile(path, origin=origin), name))
        yield saved
