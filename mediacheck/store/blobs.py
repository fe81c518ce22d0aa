"""The content-addressed evidence area: originals byte for byte, named by SHA-256.

``BlobStore`` is what the rest of mediacheck reads and writes evidence through;
``FolderBlobs`` keeps it in the store folder (the default) and
``mediacheck.store.objects.ObjectBlobs`` in an S3-compatible object store
(``MEDIACHECK_BLOBS=s3://bucket/prefix``). Both name every stored file by the
same key, its path relative to the store folder: ``originals/ab/cd/<sha256>``,
``derived/ab/<sha256>/<picture>`` and ``index/<snapshot>``. New originals are
staged and derived pictures are drawn in the local store folder either way.

In the folder, an original is written once (temporary file, fsync, hard link into place) and
made read-only; taking in the same bytes again finds it already there. The
originals are the files ``originals/<2 hex>/<2 hex>/<64 hex>`` whose name
starts with their folders' names; ``originals/tmp/`` holds writes in progress.

A file that cannot be read is the input's fault and stays an ``OSError`` for
the caller to report against that file; a store that cannot be written (a full
disk, a quota, a read-only mount) is a ``StoreError`` naming the store.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Protocol

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


class BlobStore(Protocol):
    """Where originals, derived pictures and the match index snapshot are kept.

    A missing blob is a ``FileNotFoundError``, an unreadable one another ``OSError``
    (reported against that blob); a store that cannot be reached or written is a
    ``StoreError``.
    """

    root: Path  # the local store folder: staging, and pictures being drawn

    @property
    def location(self) -> str:
        """Where the blobs are, for messages: a folder or an ``s3://`` URL."""
        ...

    def original_key(self, sha256: str) -> str: ...

    def original_location(self, sha256: str) -> str:
        """Where one original is, for messages."""
        ...

    def original_path(self, sha256: str) -> Path:
        """Where the original is (or would be) on this machine's disk."""
        ...

    def relative(self, path: Path) -> str: ...

    def derived_dir(self, sha256: str) -> Path: ...

    def save_derived(self, sha256: str) -> None:
        """Keep the pictures drawn in ``derived_dir(sha256)`` (a no-op in the folder)."""
        ...

    def put_derived(self, key: str, source: Path) -> bool:
        """Add one derived picture the store lacks; False if it holds one already."""
        ...

    def stage(self, source: Path) -> StoredBlob: ...

    def place(self, staged: StoredBlob) -> StoredBlob: ...

    def put(self, source: Path) -> StoredBlob: ...

    def digests(self, sha256: str) -> Digests: ...

    def stored_originals(self) -> Iterator[str]: ...

    def count_originals(self) -> int: ...

    def exists(self, key: str) -> bool: ...

    def open_blob(self, key: str) -> AbstractContextManager[BinaryIO]:
        """The stored bytes of ``key``, streamed."""
        ...

    def local_blob(self, key: str) -> AbstractContextManager[Path]:
        """A file on this machine holding the bytes of ``key`` while the block runs."""
        ...

    def local_original(self, sha256: str) -> AbstractContextManager[Path]: ...

    def cached(self, key: str) -> Path:
        """A lasting local copy of ``key`` (for files handed to other programs)."""
        ...

    def shared_file(self, key: str) -> Path | None:
        """A file on this machine with the current bytes of a shared file; None if absent.

        It stays readable while held open or mapped, whoever replaces the shared file.
        """
        ...

    def write_shared_file(self, key: str, write: Callable[[BinaryIO], object]) -> None:
        """Replace a shared file with what ``write`` writes to the open file it is given,
        in one step: a reader sees the old file or the new one, never a part."""
        ...

    def remove_shared_file(self, key: str) -> None:
        """Remove a shared file that nothing reads any more (gone already is fine)."""
        ...


def is_derived_key(key: object) -> bool:
    """Whether a recorded picture path names a derived picture (never ``..`` or absolute)."""
    if not isinstance(key, str) or "\\" in key:
        return False
    parts = key.split("/")
    return (
        len(parts) >= 4 and parts[0] == "derived" and all(p not in ("", ".", "..") for p in parts)
    )


class FolderBlobs:
    """The blob store in the store folder, as one machine or a shared file system holds it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.originals = self.root / "originals"
        self.derived = self.root / "derived"

    @property
    def location(self) -> str:
        return str(self.root)

    def original_key(self, sha256: str) -> str:
        return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def original_location(self, sha256: str) -> str:
        return str(self.original_path(sha256))

    def original_path(self, sha256: str) -> Path:
        return self.originals / sha256[:2] / sha256[2:4] / sha256

    def relative(self, path: Path) -> str:
        """A path inside the store as stored in the database: relative, with forward slashes."""
        return Path(path).relative_to(self.root).as_posix()

    def save_derived(self, sha256: str) -> None:
        return None  # drawn in place

    def put_derived(self, key: str, source: Path) -> bool:
        target = self.root / key
        if target.exists():
            return False
        with self._writing():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return True

    def exists(self, key: str) -> bool:
        try:
            return self._inside(key).is_file()
        except FileNotFoundError:
            return False

    @contextmanager
    def open_blob(self, key: str) -> Iterator[BinaryIO]:
        with open(self._inside(key), "rb") as handle:
            yield handle

    @contextmanager
    def local_blob(self, key: str) -> Iterator[Path]:
        path = self._inside(key)
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, "no such blob", str(path))
        yield path

    def _inside(self, key: str) -> Path:
        """The file of ``key``; a link planted in the store never leads a reader outside it."""
        path = self.root / key
        if path.is_symlink() or not path.resolve().is_relative_to(self.root.resolve()):
            raise FileNotFoundError(errno.ENOENT, "not a file of the store", str(path))
        return path

    def local_original(self, sha256: str) -> AbstractContextManager[Path]:
        # The original itself, even if gone: each check that reads it then fails on its own.
        return nullcontext(self.original_path(sha256))

    def cached(self, key: str) -> Path:
        return self.root / key

    def shared_file(self, key: str) -> Path | None:
        path = self.root / key
        return path if path.is_file() else None

    def write_shared_file(self, key: str, write: Callable[[BinaryIO], object]) -> None:
        target = self.root / key
        with self._partial(target, write) as partial, self._writing():
            os.replace(partial, target)

    def remove_shared_file(self, key: str) -> None:
        with self._writing():
            (self.root / key).unlink(missing_ok=True)

    @contextmanager
    def _partial(self, target: Path, write: Callable[[BinaryIO], object]) -> Iterator[Path]:
        """A new file beside ``target`` holding what ``write`` wrote (gone after the block
        unless moved)."""
        with self._writing():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        partial = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle, self._writing():
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            yield partial
        finally:
            partial.unlink(missing_ok=True)

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
        return StoredBlob(**vars(digests), path=tmp, existed=self.holds(digests.sha256))

    def holds(self, sha256: str) -> bool:
        """Whether the store holds the original of ``sha256`` already."""
        return self.original_path(sha256).exists()

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
            return copy_and_hash(src, None)

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
            digests = copy_and_hash(src, lambda chunk: self._write(fd, chunk))
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


def copy_and_hash(src, write: Callable[[bytes], object] | None) -> Digests:
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
