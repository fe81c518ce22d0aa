"""The content-addressed evidence area: originals byte for byte, named by SHA-256.

An original is written once (temporary file, fsync, hard link into place) and
made read-only; taking in the same bytes again finds it already there. The
originals are the files ``originals/<2 hex>/<2 hex>/<64 hex>`` whose name
starts with their folders' names; ``originals/tmp/`` holds writes in progress.

A file that cannot be read is the input's fault and stays an ``OSError`` for
the caller to report against that file; a store that cannot be written (a full
disk, a quota, a read-only mount) is a ``StoreError`` naming the store.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from mediacheck.digests import hash_stream
from mediacheck.errors import StoreError

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
TEMP_FOLDER = "tmp"
TEMP_PREFIX = "incoming-"
_HEX2 = re.compile(r"[0-9a-f]{2}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    sha1: str
    md5: str
    size: int
    path: Path
    existed: bool  # the store already held these bytes


@dataclass(frozen=True)
class Digests:
    sha256: str
    sha1: str
    md5: str
    size: int


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.originals = self.root / "originals"
        self.derived = self.root / "derived"

    def original_path(self, sha256: str) -> Path:
        return self.originals / sha256[:2] / sha256[2:4] / sha256

    def relative(self, path: Path) -> str:
        """A path inside the store as stored in the database: relative, with forward slashes."""
        return Path(path).relative_to(self.root).as_posix()

    def derived_dir(self, sha256: str) -> Path:
        """Where pictures made from one original live (keyframes, ELA, thumbnails)."""
        path = self.derived / sha256[:2] / sha256
        with self._writing():
            path.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, source: Path) -> StoredBlob:
        """Copy ``source`` into the store, hashing it in the same single read."""
        return self.place(self.stage(source))

    def stage(self, source: Path) -> StoredBlob:
        """Copy and hash ``source`` into the staging folder; ``existed``: the store holds it."""
        with open(source, "rb") as src:
            with self._writing():
                tmp_dir = self.originals / TEMP_FOLDER
                tmp_dir.mkdir(parents=True, exist_ok=True)
                fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix=TEMP_PREFIX)
            tmp = Path(tmp_name)
            try:
                digests = self._copy_into(src, fd)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        existed = self.original_path(digests.sha256).exists()
        return StoredBlob(**vars(digests), path=tmp, existed=existed)

    def place(self, staged: StoredBlob) -> StoredBlob:
        """Move a staged copy under its hash (unless the store holds the bytes already)."""
        final = self.original_path(staged.sha256)
        if staged.path == final:
            return staged  # placed already
        try:
            with self._writing():
                existed = _link_into_place(staged.path, final)
        finally:
            staged.path.unlink(missing_ok=True)
        return replace(staged, path=final, existed=staged.existed or existed)

    def digests(self, sha256: str) -> Digests:
        """Re-read a stored original and hash it again (for verification)."""
        with open(self.original_path(sha256), "rb") as src:
            return _copy_and_hash(src, None)

    def stored_originals(self) -> Iterator[str]:
        """The SHA-256 of every original in the store, in no particular order.

        Files elsewhere (a write in progress, something left by hand) are not
        originals: only a name that is its own hash, under its prefix folders.
        """
        for first in _entries(self.originals, _HEX2):
            for second in _entries(Path(first.path), _HEX2):
                prefix = first.name + second.name
                for leaf in _entries(Path(second.path), _SHA256):
                    if leaf.name.startswith(prefix) and leaf.is_file(follow_symlinks=False):
                        yield leaf.name

    def count_originals(self) -> int:
        return sum(1 for _ in self.stored_originals())

    def _copy_into(self, src, fd: int) -> Digests:
        """Copy and hash ``src`` into the open temporary file ``fd``, then close it."""
        try:
            digests = _copy_and_hash(src, lambda chunk: self._write(fd, chunk))
            with self._writing():
                os.fsync(fd)
        finally:
            os.close(fd)
        return digests

    def _write(self, fd: int, chunk: bytes) -> None:
        with self._writing():
            while chunk:
                chunk = chunk[os.write(fd, chunk) :]

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """An error while writing into the store is the store's, never the input's."""
        try:
            yield
        except OSError as exc:
            cause = exc.strerror or str(exc)
            raise StoreError(f"cannot write to the case store {self.root}: {cause}") from exc


def _copy_and_hash(src, write: Callable[[bytes], object] | None) -> Digests:
    found = hash_stream(src, ("sha256", "sha1", "md5"), write)
    sha256, sha1, md5 = (found.hexdigests[name] for name in ("sha256", "sha1", "md5"))
    return Digests(sha256, sha1, md5, found.size)


def _entries(folder: Path, name: re.Pattern[str]) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` whose whole name matches ``name``; none if it is gone."""
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if name.fullmatch(entry.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _link_into_place(tmp: Path, final: Path) -> bool:
    """Hard-link the finished copy under its hash; False if we put it there."""
    final.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, READ_ONLY)
    try:
        os.link(tmp, final)
    except FileExistsError:
        return True
    _fsync_dir(final.parent)
    return False


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
