"""Synthetic media that tests make on the fly."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

# A photo for tests of what happens around a picture (review, verdicts, migrations), not of
# what is found in it: its short side is below copy-move's smallest (findings/copy_move.py
# MIN_SIDE), so its intake skips the keypoint search that takes seconds a picture.
QUICK = (200, 150)


def photo(path: Path, size: tuple[int, int] = (640, 480), seed: int = 0, **save) -> Path:
    """A picture with enough structure for perceptual hashes to mean something."""
    img = Image.new("RGB", size, (40 + seed * 7 % 200, 90, 160))
    draw = ImageDraw.Draw(img)
    w, h = size
    for i in range(12):
        x = (i * 97 + seed * 31) % w
        y = (i * 53 + seed * 17) % h
        draw.rectangle(
            [x, y, x + w // 6, y + h // 5], fill=((i * 40 + seed * 13) % 256, 200 - i * 10, i * 20)
        )
    draw.ellipse([w // 3, h // 3, w // 3 + w // 4, h // 3 + h // 4], fill=(250, 250, 240))
    img.save(path, **save)
    return path


def png_bomb(path: Path, width: int = 40000, height: int = 40000) -> Path:
    """A PNG whose header declares far more pixels than any desk should decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path
