"""Metadata extraction speed over the corpus, and peak memory on huge files.

    python scripts/bench_metadata.py [--huge-gb 2] [--rounds 5]

Times ``extract_metadata`` over every picture of ../shared/corpus, then, each
in a fresh child process, extracts the metadata of huge sparse files (a JPEG
with gigabytes of scan data, the same after 15 MiB of extended XMP listing
Photoshop document ancestors, a PNG with a 2 GiB IDAT chunk, a TIFF whose XMP
tag claims 4 GiB) and reports the child's peak memory.
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from mediacheck.media.metadata import extract_metadata

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "files"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".avif", ".webp"}


def corpus_speed(rounds: int) -> tuple[int, float]:
    paths = [p for p in sorted(CORPUS.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
    start = time.perf_counter()
    for _ in range(rounds):
        for path in paths:
            extract_metadata(path, None)
    return len(paths) * rounds, time.perf_counter() - start


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _bloated_xmp(jpeg: bytes) -> bytes:
    """Extended XMP segments carrying some 270,000 DocumentAncestors ids, as Photoshop leaves."""
    ancestor = b"<rdf:li>xmp.did:0123456789abcdef0123456789abcdef</rdf:li>"
    packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"><photoshop:DocumentAncestors>'
        b"<rdf:Bag>" + ancestor * (15 * 2**20 // len(ancestor)) + b"</rdf:Bag>"
        b"</photoshop:DocumentAncestors></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    head = b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 32 + struct.pack(">I", len(packet))
    segments = []
    for offset in range(0, len(packet), 65000):
        payload = head + struct.pack(">I", offset) + packet[offset : offset + 65000]
        segments.append(b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload)
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def make_huge(folder: Path, size: int) -> dict[str, Path]:
    """Sparse files: the headers are real, the gigabytes after them cost no disk."""
    jpeg = (CORPUS / "elodie" / "plain.jpg").read_bytes()
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0))
    idat = struct.pack(">I", 2**31 - 1) + b"IDAT"
    xmp_tag = struct.pack("<HHII", 700, 1, 2**32 - 1, 64)
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + xmp_tag + bytes(4)
    heads = {
        "jpeg": jpeg,
        "jpeg-xmp": _bloated_xmp(jpeg),
        "png": b"\x89PNG\r\n\x1a\n" + ihdr + idat,
        "tiff": tiff,
    }
    paths = {}
    for name, head in heads.items():
        path = folder / f"huge.{name}"
        with path.open("wb") as fh:
            fh.write(head)
            fh.truncate(size)
        paths[name] = path
    return paths


def child(path: str) -> None:
    result = extract_metadata(Path(path), None)
    print(f"{peak_mib():.0f} MiB peak, errors: {result.errors}")


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM, which unlike ru_maxrss restarts at exec)."""
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--huge-gb", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    count, seconds = corpus_speed(args.rounds)
    print(f"corpus: {count} extractions in {seconds:.2f} s ({1000 * seconds / count:.1f} ms each)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in make_huge(Path(tmp), int(args.huge_gb * 2**30)).items():
            start = time.perf_counter()
            run = [sys.executable, __file__, "--child", str(path)]
            report = subprocess.run(run, capture_output=True, text=True, check=True).stdout
            print(
                f"{args.huge_gb:g} GiB {name}: {time.perf_counter() - start:.2f} s, {report}",
                end="",
            )


if __name__ == "__main__":
    main()
