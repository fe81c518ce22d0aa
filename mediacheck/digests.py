"""Cryptographic digests of a stream of bytes: what names a file in the store and in bundles.

One loop for every reader: the original copied into the store, a bundle's
payload written or unpacked, a file searched for by its SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK = 1024 * 1024


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class StreamDigests:
    hexdigests: dict[str, str]  # algorithm name -> lowercase hex
    size: int


def hash_stream(
    src: Readable,
    algorithms: Sequence[str] = ("sha256",),
    write: Callable[[bytes], object] | None = None,
) -> StreamDigests:
    """Read ``src`` to its end in chunks, hashing each and handing it to ``write``.

    ``write`` sees every chunk after it is hashed; it may raise to stop the copy.
    """
    digests = [hashlib.new(name) for name in algorithms]
    size = 0
    while chunk := src.read(CHUNK):
        for digest in digests:
            digest.update(chunk)
        if write is not None:
            write(chunk)
        size += len(chunk)
    return StreamDigests({d.name: d.hexdigest() for d in digests}, size)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as lowercase hex (OSError if it cannot be read)."""
    with open(path, "rb") as handle:
        return hash_stream(handle).hexdigests["sha256"]
