"""The content-addressed evidence area: originals byte for byte, named by SHA-256.

An original is written once (temporary file, fsync, hard link into place) and
made read-only; taking in the same bytes again finds it already there.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

CHUNK = 1024 * 1024
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


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
        path.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, source: Path) -> StoredBlob:
        """Copy ``source`` into the store, hashing it in the same single read."""
        return self.place(self.stage(source))

    def stage(self, source: Path) -> StoredBlob:
        """Copy and hash ``source`` into the staging folder; ``existed``: the store holds it."""
        tmp_dir = self.originals / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="incoming-")
        tmp = Path(tmp_name)
        try:
            with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
                digests = _copy_and_hash(src, out)
                out.flush()
                os.fsync(out.fileno())
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
            existed = _link_into_place(staged.path, final)
        finally:
            staged.path.unlink(missing_ok=True)
        return replace(staged, path=final, existed=staged.existed or existed)

    def digests(self, sha256: str) -> Digests:
        """Re-read a stored original and hash it again (for verification)."""
        with open(self.original_path(sha256), "rb") as src:
            return _copy_and_hash(src, None)


def _copy_and_hash(src, out) -> Digests:
    sha256, sha1, md5 = hashlib.sha256(), hashlib.sha1(), hashlib.md5()
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while n := src.readinto(buf):
        chunk = view[:n]
        sha256.update(chunk)
        sha1.update(chunk)
        md5.update(chunk)
        if out is not None:
            out.write(chunk)
        size += n
    return Digests(sha256.hexdigest(), sha1.hexdigest(), md5.hexdigest(), size)


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
