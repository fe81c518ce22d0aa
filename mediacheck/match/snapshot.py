"""The index snapshot's file: named arrays, uncompressed, each memory-mapped on load.

A snapshot is read by every process that searches the archive (intake, ``match``,
``serve``) and a million pictures make about a gigabyte: mapped rather than read, it
loads in the time of a few page-table entries, and the processes of one machine share
its pages through the page cache. The layout is a magic line, the length of a JSON
header, the header (each array's dtype, shape and offset), then the arrays, each at a
page boundary. Arrays are written piece by piece (``write``), so writing one never
holds it in memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"mediacheck index snapshot 1\n"
ALIGN = 4096
_LENGTH = 8  # bytes of the header's length, little-endian


@dataclass(frozen=True)
class Planned:
    """One array to write: its dtype and shape, and its C-order pieces in order."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    pieces: Iterable[np.ndarray]


def write(handle: BinaryIO, arrays: list[Planned]) -> None:
    """Write ``arrays`` to the open file ``handle``, one piece at a time."""
    header, offsets = _layout(arrays)
    handle.write(MAGIC + len(header).to_bytes(_LENGTH, "little") + header)
    for array, offset in zip(arrays, offsets, strict=True):
        handle.write(b"\0" * (offset - handle.tell()))
        written = 0
        for piece in array.pieces:
            piece = np.ascontiguousarray(piece, dtype=array.dtype)
            handle.write(piece.data.cast("B"))
            written += piece.size
        if written != int(np.prod(array.shape)):
            raise ValueError(f"snapshot array {array.name}: {written} values for {array.shape}")
    handle.flush()
    os.fsync(handle.fileno())


def _layout(arrays: list[Planned]) -> tuple[bytes, list[int]]:
    """The header and each array's offset (the header's size is known before the offsets)."""
    fields: dict[str, dict[str, Any]] = {
        a.name: {"dtype": np.dtype(a.dtype).str, "shape": list(a.shape)} for a in arrays
    }
    for field in fields.values():
        field["offset"] = 10**15  # the widest an offset can be, so the header cannot grow
    start = _aligned(len(MAGIC) + _LENGTH + len(json.dumps(fields).encode()))
    offsets = []
    for array in arrays:
        offsets.append(start)
        fields[array.name]["offset"] = start
        start = _aligned(start + int(np.prod(array.shape)) * np.dtype(array.dtype).itemsize)
    header = json.dumps(fields).encode()
    return header, offsets


def _aligned(position: int) -> int:
    return -(-position // ALIGN) * ALIGN


def read(path: Path) -> dict[str, np.ndarray]:
    """Every array of the snapshot at ``path``, memory-mapped read-only.

    A file that is no snapshot, or one cut short, is a ``ValueError``.
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if handle.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path}: not an index snapshot")
        length = int.from_bytes(handle.read(_LENGTH), "little")
        fields = json.loads(handle.read(length))
    arrays = {}
    for name, field in fields.items():
        dtype, shape = np.dtype(field["dtype"]), tuple(field["shape"])
        end = field["offset"] + int(np.prod(shape)) * dtype.itemsize
        if end > size:
            raise ValueError(f"{path}: cut short in {name}")
        if np.prod(shape) == 0:
            arrays[name] = np.zeros(shape, dtype)  # mmap cannot map nothing
        else:
            # A plain view of the map: slicing a memmap costs ~10 us for its subclass (a
            # search slices the row arrays a thousand times at a million pictures).
            mapped = np.memmap(path, dtype, "r", field["offset"], shape)
            arrays[name] = mapped.view(np.ndarray)
    return arrays


def mapped(array: np.ndarray | None) -> bool:
    """Whether ``array`` is (a view of) an array mapped from a snapshot file."""
    while isinstance(array, np.ndarray):
        if isinstance(array, np.memmap):
            return True
        array = array.base
    return False
