"""Hostile variants of real media files, reproducible from a seed and an index.

Used by ``tests/test_fuzz.py`` (a few hundred mutants per CI run) and by
``scripts/fuzz_intake.py`` (long campaigns). Mutant ``index`` of seed ``seed``
is always the same bytes for the same corpus, so a failure is reported as
"seed S, mutant N" and rebuilt with :func:`make_mutant`.

Generic mutators damage bytes blindly (bit flips, truncation, duplicated or
deleted chunks, one format's header on another's body); structural ones find
the length, count and size fields of JPEG segments, EXIF directories, ICC
profiles, XMP packets, PNG chunks and ISO-BMFF boxes and write absurd values
there, fixing PNG checksums so that decoders read on instead of stopping at
the first bad CRC.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

HEAD = 64 * 1024  # bit flips land where headers and metadata live
# Lengths and counts that trip parsers: zero, one, just too large, sign bits, all ones.
ABSURD_32 = (0, 1, 2, 7, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF8, 0xFFFFFFFF)
ABSURD_16 = (0, 1, 2, 3, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF)
# (width, height) a picture may declare: degenerate, one pixel thick, or enormous.
ABSURD_SIZES = ((1, 2000), (2000, 1), (1, 1), (2, 2), (0, 0), (0, 480), (65535, 65535), (65535, 1))
ISOBMFF_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"meta", b"iprp"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Mutator = Callable[[bytes, random.Random, Sequence[bytes]], tuple[bytes, str]]


@dataclass(frozen=True)
class Mutant:
    index: int
    source: str  # path of the original, relative to the corpus root
    mutator: str
    detail: str  # what exactly was changed, enough to recognise it in a hex dump
    data: bytes

    @property
    def description(self) -> str:
        return f"mutant {self.index}: {self.mutator} of {self.source} ({self.detail})"


def corpus_files(root: Path) -> list[Path]:
    """Every non-empty corpus file, in a stable order (the seed depends on it)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.stat().st_size > 0)


def make_mutant(root: Path, files: Sequence[Path], seed: int, index: int) -> Mutant:
    """Mutant ``index`` of the campaign ``seed``; the same arguments give the same bytes."""
    rng = random.Random(f"{seed}:{index}")
    source = rng.choice(files)
    name = rng.choice(sorted(MUTATORS))
    data = source.read_bytes()
    donors = [rng.choice(files).read_bytes()[:4096] for _ in range(2)]
    mutated, detail = MUTATORS[name](data, rng, donors)
    return Mutant(index, source.relative_to(root).as_posix(), name, detail, mutated)


def mutants(root: Path, seed: int, count: int, start: int = 0) -> Iterator[Mutant]:
    files = corpus_files(root)
    for index in range(start, start + count):
        yield make_mutant(root, files, seed, index)


# --- blind damage ---------------------------------------------------------------------------


def bit_flips(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> tuple[bytes, str]:
    out = bytearray(data)
    span = min(len(out), HEAD)
    flips = [(rng.randrange(span), rng.randrange(8)) for _ in range(rng.choice((1, 2, 4, 16, 64)))]
    for pos, bit in flips:
        out[pos] ^= 1 << bit
    return bytes(out), f"{len(flips)} bits flipped, first at byte {flips[0][0]}"


def truncation(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> tuple[bytes, str]:
    # Mostly inside the headers, sometimes deep in the pixel data.
    cut = rng.randrange(1, min(len(data), HEAD)) if rng.random() < 0.6 else rng.randrange(len(data))
    return data[: max(cut, 1)], f"cut to {max(cut, 1)} of {len(data)} bytes"


def duplicated_chunk(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> tuple[bytes, str]:
    start, length = _span(data, rng)
    at = rng.randrange(len(data) + 1)
    chunk = data[start : start + length]
    return data[:at] + chunk + data[at:], f"{length} bytes from {start} copied to {at}"


def deleted_chunk(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> tuple[bytes, str]:
    start, length = _span(data, rng)
    rest = data[:start] + data[start + length :]
    return rest or data[:1], f"{length} bytes deleted at {start}"


def foreign_header(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> tuple[bytes, str]:
    """Another file's first bytes over this file's body: a PNG head on a JPEG, and so on."""
    donor = donors[0]
    size = min(len(donor), rng.choice((8, 12, 16, 32, 64, 512, 4096)))
    return donor[:size] + data[size:], f"first {size} bytes replaced by another file's"


def _span(data: bytes, rng: random.Random) -> tuple[int, int]:
    start = rng.randrange(min(len(data), HEAD))
    length = rng.choice((1, 4, 16, 100, 1000, 10000))
    return start, max(1, min(length, len(data) - start))


# --- absurd values in structures -------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A number inside a file: where, how wide, which byte order and what it is."""

    offset: int
    size: int  # 2 or 4 bytes
    endian: str  # ">" or "<"
    what: str


def absurd_lengths(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> tuple[bytes, str]:
    """An absurd value in a length or count field of a segment, chunk, box or directory."""
    fields = list(_length_fields(data))
    if not fields:
        return bit_flips(data, rng, donors)
    target = rng.choice(fields)
    value = rng.choice(ABSURD_16 if target.size == 2 else ABSURD_32)
    if rng.random() < 0.3:  # just off by a little: the subtle case
        limit = (1 << (8 * target.size)) - 1
        order = "big" if target.endian == ">" else "little"
        current = int.from_bytes(data[target.offset : target.offset + target.size], order)
        value = min(limit, max(0, current + rng.choice((-2, -1, 1, 2, 100))))
    out = _write(data, target, value)
    return _fix_png_crcs(out), f"{target.what} at byte {target.offset} set to {value}"


def absurd_dimensions(
    data: bytes, rng: random.Random, donors: Sequence[bytes]
) -> tuple[bytes, str]:
    """A PNG IHDR or JPEG frame header (or failing those, EXIF) declaring a degenerate size."""
    width, height = rng.choice(ABSURD_SIZES)
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        out = data[:16] + struct.pack(">II", width, height) + data[24:]
        return _fix_png_crcs(out), f"PNG IHDR says {width}x{height}"
    frames = [pos for marker, pos, _ in _jpeg_segments(data) if marker in JPEG_FRAMES]
    if frames:
        pos = frames[0]
        out = data[: pos + 5] + struct.pack(">HH", height, width) + data[pos + 9 :]
        return out, f"JPEG frame header says {width}x{height}"
    return absurd_lengths(data, rng, donors)


def hostile_xmp(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> tuple[bytes, str]:
    """An XMP packet with absurd counts (huge bags, deep nesting, entities) in a JPEG or PNG."""
    name, packet = rng.choice(sorted(HOSTILE_XMP.items()))
    if data.startswith(b"\xff\xd8"):
        payload = (XMP_NS + packet)[:65533]
        segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
        return data[:2] + segment + data[2:], f"JPEG APP1 XMP with {name}"
    if data.startswith(PNG_SIGNATURE):
        body = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet
        return data[:33] + _png_chunk(b"iTXt", body) + data[33:], f"PNG iTXt XMP with {name}"
    return absurd_lengths(data, rng, donors)


XMP_NS = b"http://ns.adobe.com/xap/1.0/\x00"
_RDF_OPEN = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description>'
)
_RDF_CLOSE = b"</rdf:Description></rdf:RDF></x:xmpmeta>"
HOSTILE_XMP = {
    "a 5000-item bag": _RDF_OPEN
    + b"<dc:subject><rdf:Bag>"
    + b"<rdf:li>x</rdf:li>" * 5000
    + b"</rdf:Bag></dc:subject>"
    + _RDF_CLOSE,
    "2000 levels of nesting": _RDF_OPEN
    + b'<dc:a rdf:parseType="Resource">' * 2000
    + b"</dc:a>" * 2000
    + _RDF_CLOSE,
    "an entity bomb": b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    + _RDF_OPEN
    + b"<dc:title>&b;&b;&b;</dc:title>"
    + _RDF_CLOSE,
    "4000 attributes": _RDF_OPEN[:-1]
    + b" ".join(b'dc:a%d="v"' % i for i in range(4000))
    + b">"
    + _RDF_CLOSE,
    "an unclosed packet": _RDF_OPEN + b"<dc:title><rdf:Alt><rdf:li>",
}


def _length_fields(data: bytes) -> Iterator[Field]:
    if data.startswith(b"\xff\xd8"):
        yield from _jpeg_fields(data)
    elif data.startswith(PNG_SIGNATURE):
        yield from _png_fields(data)
    elif data[:4] in (b"II*\x00", b"MM\x00*"):
        yield from _tiff_fields(data, 0)
    elif data[:4] == b"RIFF":
        yield from _riff_fields(data)
    elif data[4:8] == b"ftyp":
        yield from _box_fields(data, 0, len(data), 0)


JPEG_FRAMES = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, position of its length field, segment length) up to the image data."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD9, 0xDA) or marker == 0xFF:
            return
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos + 2, length
        pos += 2 + length


def _jpeg_fields(data: bytes) -> Iterator[Field]:
    for marker, pos, length in _jpeg_segments(data):
        yield Field(pos, 2, ">", f"JPEG segment 0x{marker:02X} length")
        body = data[pos + 2 : pos + length]
        if marker == 0xE1 and body.startswith(b"Exif\x00"):
            yield from _tiff_fields(data, pos + 8)
        elif marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"):
            yield from _icc_fields(data, pos + 16)
        elif marker == 0xE1 and body.startswith(b"http://ns.adobe.com/xmp/extension/\x00"):
            head = pos + 2 + 35 + 32
            yield Field(head, 4, ">", "XMP extension full length")
            yield Field(head + 4, 4, ">", "XMP extension offset")


def _tiff_fields(data: bytes, base: int) -> Iterator[Field]:
    """Directory entry counts, value counts and offsets of a TIFF structure at ``base``."""
    head = data[base : base + 8]
    if len(head) < 8 or head[:2] not in (b"II", b"MM"):
        return
    endian = "<" if head[:2] == b"II" else ">"
    yield Field(base + 4, 4, endian, "TIFF first directory offset")
    queue, seen = [struct.unpack(endian + "I", head[4:])[0]], set()
    while queue and len(seen) < 8:
        ifd = queue.pop()
        start = base + ifd
        if ifd in seen or start + 2 > len(data):
            continue
        seen.add(ifd)
        count = struct.unpack(endian + "H", data[start : start + 2])[0]
        yield Field(start, 2, endian, "EXIF directory entry count")
        for entry in range(start + 2, min(start + 2 + 12 * count, len(data) - 11), 12):
            tag = struct.unpack(endian + "H", data[entry : entry + 2])[0]
            yield Field(entry + 4, 4, endian, f"EXIF tag 0x{tag:04X} value count")
            yield Field(entry + 8, 4, endian, f"EXIF tag 0x{tag:04X} value offset")
            if tag in (0x8769, 0x8825, 0xA005):
                queue.append(struct.unpack(endian + "I", data[entry + 8 : entry + 12])[0])


def _icc_fields(data: bytes, start: int) -> Iterator[Field]:
    if data[start + 36 : start + 40] != b"acsp":
        return
    yield Field(start, 4, ">", "ICC profile size")
    yield Field(start + 128, 4, ">", "ICC tag count")
    count = min(int.from_bytes(data[start + 128 : start + 132], "big"), 64)
    for pos in range(start + 132, start + 132 + 12 * count, 12):
        yield Field(pos + 4, 4, ">", "ICC tag offset")
        yield Field(pos + 8, 4, ">", "ICC tag size")


def _png_fields(data: bytes) -> Iterator[Field]:
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        yield Field(pos, 4, ">", f"PNG {kind.decode('latin-1')!r} chunk length")
        if kind == b"eXIf":
            yield from _tiff_fields(data, pos + 8)
        if kind == b"IEND":
            return
        pos += 12 + length


def _riff_fields(data: bytes) -> Iterator[Field]:
    yield Field(4, 4, "<", "RIFF size")
    pos = 12
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        yield Field(pos + 4, 4, "<", f"RIFF {data[pos : pos + 4].decode('latin-1')!r} length")
        if data[pos : pos + 4] == b"EXIF":
            yield from _tiff_fields(data, pos + 8)
        pos += 8 + length + (length & 1)


def _box_fields(data: bytes, start: int, end: int, depth: int) -> Iterator[Field]:
    """Box sizes of an ISO-BMFF file (MP4, MOV, HEIF, AVIF), down into the usual containers."""
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        yield Field(pos, 4, ">", f"box {kind.decode('latin-1')!r} size")
        if size < 8:
            return
        if kind in ISOBMFF_CONTAINERS and depth < 6:
            skip = 12 if kind == b"meta" else 8  # meta is a full box: version and flags first
            yield from _box_fields(data, pos + skip, min(pos + size, end), depth + 1)
        pos += size


def _write(data: bytes, target: Field, value: int) -> bytes:
    fmt = target.endian + ("H" if target.size == 2 else "I")
    packed = struct.pack(fmt, value & ((1 << (8 * target.size)) - 1))
    return data[: target.offset] + packed + data[target.offset + target.size :]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _fix_png_crcs(data: bytes) -> bytes:
    """Recompute every PNG chunk checksum that can be, so readers go past the mutation."""
    if not data.startswith(PNG_SIGNATURE):
        return data
    out = bytearray(data)
    pos = 8
    while pos + 12 <= len(out):
        length = int.from_bytes(out[pos : pos + 4], "big")
        end = pos + 8 + length
        if end + 4 > len(out):
            break
        out[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(out[pos + 4 : end])))
        pos = end + 4
    return bytes(out)


MUTATORS: dict[str, Mutator] = {
    "bit-flips": bit_flips,
    "truncation": truncation,
    "duplicated-chunk": duplicated_chunk,
    "deleted-chunk": deleted_chunk,
    "foreign-header": foreign_header,
    "absurd-lengths": absurd_lengths,
    "absurd-dimensions": absurd_dimensions,
    "hostile-xmp": hostile_xmp,
}
