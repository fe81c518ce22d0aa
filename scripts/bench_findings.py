"""Detections and false alarms of every finding, on the corpus and on generated sets.

    python scripts/bench_findings.py [--photos 12] [--markdown] [--json]

Every sample goes through ``mediacheck.findings.compute_findings``, the function
intake and ``analyze`` call, with a context built as intake builds it. Each sample
carries its truth: for some rows of the table, whether the finding should be there.
A row counts detections on the samples that should have it and false alarms on
those that should not; a sample says nothing about the rows its truth leaves out.

The truth on the corpus comes from the reference tools (ExifTool's JSON and the
manifest built from it, c2pa-python's reading, ffprobe's tags) and, for the
software that is not firmware, from a person's reading of ExifTool's software
names (``tests/corpus_software.py``). The generated sets are made from the
corpus's real photos by what the finding is about: re-saved JPEGs, PNGs that
were or were not JPEGs, claims of posting time and place, renamed files,
swapped thumbnails, re-encoded videos. A set is a function in ``GENERATED``
from the photos and a folder to its samples; the copy-move set comes from the
copy-move benchmark's generator when it is there.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mediacheck.findings import CHECKS, Finding, compute_findings  # noqa: E402
from tests.corpus import C2PA, FILES, TRUTH, exiftool_truth, manifest  # noqa: E402
from tests.corpus_software import firmware_only, other_software  # noqa: E402
from tests.findings_helpers import (  # noqa: E402
    ASCII,
    exif_segment,
    jpeg_bytes,
    make_context,
    screenshot,
)

Truth = dict[str, bool]  # row of the table -> whether the sample should have it
PHOTO_MIN_SIDE = 500  # the corpus's real photos; smaller files are stubs and icons
GENERATED_SIDE = 1024
# The copy-move benchmark's generator: (photos, folder) -> [(path, is_forgery)].
COPY_MOVE_GENERATOR = ("scripts.copy_move_sets", "generate_forgeries")
HAS_COPY_MOVE = any(name == "copy-move" for name, _ in CHECKS)


def _code(code: str) -> Callable[[list[Finding]], bool]:
    return lambda found: any(f.code == code for f in found)


def _reason(code: str, *reasons: str) -> Callable[[list[Finding]], bool]:
    return lambda found: any(f.code == code and f.evidence.get("reason") in reasons for f in found)


# The rows of the table: what each one looks for among a sample's findings.
ROWS: dict[str, Callable[[list[Finding]], bool]] = {
    "metadata-stripped": _code("metadata-stripped"),
    "editing-software": _code("editing-software"),
    "editing-software (names software)": _code("editing-software"),
    "editing-software (names firmware only)": _code("editing-software"),
    "dimension-mismatch": _code("dimension-mismatch"),
    "capture-time-inconsistent (posting)": _reason(
        "capture-time-inconsistent", "after-posting", "long-before-posting"
    ),
    "thumbnail-present or -mismatch": lambda found: (
        _code("thumbnail-present")(found) or _code("thumbnail-mismatch")(found)
    ),
    "thumbnail-mismatch": _code("thumbnail-mismatch"),
    "jpeg-quality": _code("jpeg-quality"),
    "double-jpeg": _code("double-jpeg"),
    "ela": _code("ela"),
    "ela-not-shown": _code("ela-not-shown"),
    "gps-present": _code("gps-present"),
    "gps-far-from-claim": _code("gps-far-from-claim"),
    "extension-mismatch": _code("extension-mismatch"),
    "c2pa": _code("c2pa"),
    "c2pa-invalid": _code("c2pa-invalid"),
    "video-reencoded": _code("video-reencoded"),
    "copy-move": _code("copy-move"),
}


@dataclass
class Sample:
    set: str
    path: Path
    truth: Truth
    original_name: str | None = None
    posted_at: datetime | None = None
    claimed_location: tuple[float, float] | None = None


@dataclass
class Tally:
    detected: int = 0
    should: int = 0
    false_alarms: int = 0
    should_not: int = 0
    misses: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)


# The corpus and its truth


def corpus_samples() -> list[Sample]:
    samples = []
    for row in manifest():
        if row["kind"] in ("image", "video"):
            samples.append(Sample("corpus", FILES / row["file"], _corpus_truth(row)))
    for row in manifest(C2PA):
        state = row["validation_state"]
        truth = {"c2pa": state != "NO_MANIFEST", "c2pa-invalid": state == "Invalid"}
        samples.append(Sample("corpus C2PA", C2PA / "files" / row["file"], truth))
    return samples


def _corpus_truth(row: dict) -> Truth:
    rel, flags = row["file"], set(row["flags"].split(";"))
    exiftool = exiftool_truth(rel)
    truth: Truth = {"gps-present": _has_gps(row)}
    if row["kind"] == "video":
        truth["video-reencoded"] = _ffmpeg_written(rel)
        return truth
    edited = bool(other_software(rel)) or bool({"photoshop_irb", "xmp_edit_history"} & flags)
    truth.update(
        {
            "metadata-stripped": not any(_camera_tag(key) for key in exiftool),
            "editing-software": edited,
            "dimension-mismatch": "exif_dims_mismatch" in flags,
            "thumbnail-present or -mismatch": "thumbnail" in flags,
            "jpeg-quality": row["mime"] == "image/jpeg",
            "extension-mismatch": _misnamed(rel, exiftool),
        }
    )
    if other_software(rel):
        truth["editing-software (names software)"] = True
    elif firmware_only(rel):
        truth["editing-software (names firmware only)"] = False
    if row["mime"] == "image/jpeg":
        truth["ela"] = True
        truth["ela-not-shown"] = False
    if HAS_COPY_MOVE:
        truth["copy-move"] = False  # untouched real photos, as far as anyone knows
    return truth


# Tags only a camera writes (ExifTool's names); the groups are EXIF's.
CAMERA_TAGS = {
    "Make", "Model", "DateTimeOriginal", "ExposureTime", "FNumber", "ISO",
    "FocalLength", "LensModel", "GPSLatitude",
}  # fmt: skip
EXIF_GROUPS = ("IFD0", "ExifIFD", "GPS", "MakerNotes")
# Extensions that honestly name the same type.
SAME_EXTENSIONS = ({"jpg", "jpeg", "jpe"}, {"tif", "tiff"}, {"heic", "heif", "hif"}, {"mov", "qt"})


def _camera_tag(key: str) -> bool:
    group, _, tag = key.rpartition(":")
    return tag in CAMERA_TAGS and group.startswith(EXIF_GROUPS)


def _misnamed(rel: str, exiftool: dict) -> bool:
    expected = str(exiftool.get("File:FileTypeExtension") or "").lower()
    extension = rel.rsplit(".", 1)[-1].lower()
    honest = next((group for group in SAME_EXTENSIONS if expected in group), {expected})
    return bool(expected) and extension not in honest


def _has_gps(row: dict) -> bool:
    lat, lon = row["GPSLatitude"], row["GPSLongitude"]
    return bool(lat and lon) and (float(lat), float(lon)) != (0.0, 0.0)


def _ffmpeg_written(rel: str) -> bool:
    probe = json.loads((TRUTH / f"{rel}.ffprobe.json").read_text())
    encoder = str(probe["format"].get("tags", {}).get("encoder") or "")
    return encoder.startswith("Lavf")


# Generated sets, from the corpus's real photos


def corpus_photos(limit: int) -> list[Path]:
    photos = []
    for row in manifest():
        if row["mime"] != "image/jpeg" or not row["ImageWidth"] or not row["ImageHeight"]:
            continue
        if min(int(row["ImageWidth"]), int(row["ImageHeight"])) >= PHOTO_MIN_SIDE:
            photos.append(FILES / row["file"])
    # Copies of one picture ("IMG_1-tiny.jpg" beside "IMG_1.jpg") are kept once, the
    # largest, so that a swapped thumbnail is of another picture.
    distinct = [
        p
        for p in photos
        if not any(q != p and p.stem.startswith(q.stem) for q in photos) and _decodes(p)
    ]
    return distinct[:limit]


def _decodes(path: Path) -> bool:
    """Cut-off files (the corpus has some) make poor sources."""
    try:
        _rgb(path)
    except OSError:
        return False
    return True


def _rgb(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.load()
        return img.convert("RGB")


def _downscaled(path: Path) -> Image.Image:
    """A camera photo made smaller, so that its own JPEG history is gone."""
    img = _rgb(path)
    scale = GENERATED_SIDE / max(img.size) if max(img.size) > GENERATED_SIDE else 0.77
    size = (round(img.width * scale), round(img.height * scale))
    return img.resize(size, Image.Resampling.LANCZOS)


def _centre_crop(path: Path) -> Image.Image:
    """The centre at full resolution, aligned to the 8x8 grid: the photo's JPEG history kept."""
    img = _rgb(path)
    side = min(GENERATED_SIDE, img.width, img.height)
    left, top = (img.width - side) // 2 // 8 * 8, (img.height - side) // 2 // 8 * 8
    return img.crop((left, top, left + side, top + side))


def _decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def resaved_jpegs(photos: list[Path], out: Path) -> list[Sample]:
    """Downscaled photos saved once (no double JPEG) and twice, the second time finer."""
    samples = []
    for index, photo in enumerate(photos):
        img = _downscaled(photo)
        for quality in (70, 80, 90, 95):
            path = out / f"once-{index}-q{quality}.jpg"
            path.write_bytes(jpeg_bytes(img, quality))
            samples.append(Sample("re-saved JPEGs", path, {"double-jpeg": False}))
        for first, last in ((60, 85), (70, 90), (75, 95), (80, 95)):
            path = out / f"twice-{index}-q{first}-q{last}.jpg"
            path.write_bytes(jpeg_bytes(_decoded(jpeg_bytes(img, first)), last))
            samples.append(Sample("re-saved JPEGs", path, {"double-jpeg": True}))
    return samples


def pngs(photos: list[Path], out: Path) -> list[Sample]:
    """PNGs of JPEG pixels (ELA shown) and PNGs that never were JPEGs (ELA not shown)."""
    was_jpeg = {"ela": True}
    never = {"ela": False, "ela-not-shown": True}
    samples = []
    for index, photo in enumerate(photos):
        crop = _centre_crop(photo)
        path = out / f"camera-{index}.png"
        crop.save(path)
        samples.append(Sample("PNG of a camera JPEG", path, was_jpeg))
        for quality in (70, 80, 90, 95):
            path = out / f"from-jpeg-{index}-q{quality}.png"
            _decoded(jpeg_bytes(_downscaled(photo), quality)).save(path)
            kind = "PNG from JPEG q95" if quality == 95 else "PNG from JPEG q70-90"
            samples.append(Sample(kind, path, was_jpeg))
        path = out / f"resized-{index}.png"
        _downscaled(photo).save(path)
        samples.append(Sample("PNG without JPEG", path, never))
    for index in range(4):
        path = out / f"screenshot-{index}.png"
        screenshot().rotate(90 * index, expand=True).save(path)
        samples.append(Sample("PNG without JPEG", path, never))
    return samples


def claims(photos: list[Path], out: Path) -> list[Sample]:
    """Corpus photos with a claimed posting time and place, from ExifTool's capture time and GPS."""
    samples = []
    for row in manifest():
        if row["kind"] != "image":
            continue
        path = FILES / row["file"]
        captured = _exif_time(row["DateTimeOriginal"])
        if captured is not None:
            for days, recycled in ((60, True), (1, False), (-3, True)):
                posted = captured + timedelta(days=days)
                truth = {"capture-time-inconsistent (posting)": recycled}
                samples.append(Sample("claims", path, truth, posted_at=posted))
        if _has_gps(row):
            lat, lon = float(row["GPSLatitude"]), float(row["GPSLongitude"])
            for km, far in ((200.0, True), (5.0, False)):
                claim = (_north(lat, km), lon)
                truth = {"gps-far-from-claim": far}
                samples.append(Sample("claims", path, truth, claimed_location=claim))
    return samples


def _exif_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip()[:19], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _north(lat: float, km: float) -> float:
    moved = lat + km / 111.2
    return moved if moved <= 90 else lat - km / 111.2


def renamed(photos: list[Path], out: Path) -> list[Sample]:
    """Photos given the name of another type, and their honest names."""
    samples = []
    for photo in photos:
        for name, wrong in (("photo.png", True), ("photo.heic", True), ("photo.jpeg", False)):
            truth = {"extension-mismatch": wrong}
            samples.append(Sample("renamed", photo, truth, original_name=name))
    return samples


def stripped(photos: list[Path], out: Path) -> list[Sample]:
    """Photos re-saved by a program that keeps no metadata, as messaging apps do."""
    samples = []
    for index, photo in enumerate(photos):
        path = out / f"stripped-{index}.jpg"
        path.write_bytes(jpeg_bytes(_downscaled(photo), 80))
        samples.append(Sample("stripped", path, {"metadata-stripped": True}))
    return samples


def thumbnails(photos: list[Path], out: Path) -> list[Sample]:
    """Photos whose EXIF thumbnail is of themselves, or of the next photo (an editor's leftover)."""
    samples = []
    for index, photo in enumerate(photos):
        other = photos[(index + 1) % len(photos)]
        if other == photo:
            continue
        main = _downscaled(photo)
        for source, swapped in ((photo, False), (other, True)):
            small = _downscaled(source)
            small.thumbnail((160, 160))
            segment = exif_segment(
                {0x010F: (ASCII, "Canon"), 0x0110: (ASCII, "Canon EOS 80D")},
                thumbnail=jpeg_bytes(small, 85),
            )
            path = out / f"thumb-{index}-{'other' if swapped else 'same'}.jpg"
            main.save(path, quality=90, exif=segment)
            truth = {"thumbnail-mismatch": swapped, "thumbnail-present or -mismatch": True}
            samples.append(Sample("thumbnails", path, truth))
    return samples


def reencoded_videos(photos: list[Path], out: Path) -> list[Sample]:
    """The corpus's camera videos, their first second re-encoded with FFmpeg (through PyAV)."""
    samples = []
    for row in manifest():
        if row["kind"] != "video":
            continue
        path = out / f"reencoded-{Path(row['file']).stem}.mp4"
        _reencode(FILES / row["file"], path)
        samples.append(Sample("re-encoded videos", path, {"video-reencoded": True}))
    return samples


def _reencode(source: Path, target: Path, seconds: float = 1.0) -> None:
    with av.open(str(source)) as inp, av.open(str(target), "w") as output:
        stream = inp.streams.video[0]
        encoded = output.add_stream("mpeg4", rate=30)
        encoded.width, encoded.height = stream.codec_context.width, stream.codec_context.height
        encoded.pix_fmt = "yuv420p"
        for frame in inp.decode(stream):
            if frame.time is not None and frame.time > seconds:
                break
            output.mux(encoded.encode(frame.reformat(format="yuv420p")))
        output.mux(encoded.encode())


def copy_move(photos: list[Path], out: Path) -> list[Sample]:
    """Copy-move forgeries and their untouched photos, from the copy-move benchmark if present."""
    module_name, function = COPY_MOVE_GENERATOR
    try:
        generate = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError):
        print(f"copy-move set: no {module_name}.{function} in this tree", file=sys.stderr)
        return []
    pairs: Iterable[tuple[Path, bool]] = generate(photos, out)
    return [Sample("copy-move forgeries", path, {"copy-move": forged}) for path, forged in pairs]


GENERATED: list[tuple[str, Callable[[list[Path], Path], list[Sample]]]] = [
    ("re-saved JPEGs", resaved_jpegs),
    ("PNGs", pngs),
    ("claims", claims),
    ("renamed", renamed),
    ("stripped", stripped),
    ("thumbnails", thumbnails),
    ("re-encoded videos", reencoded_videos),
    ("copy-move", copy_move),
]


# Running and counting


def judge(samples: list[Sample], work: Path) -> dict[tuple[str, str], Tally]:
    """Run every check on every sample and count, per row and set, detections and alarms."""
    tallies: dict[tuple[str, str], Tally] = {}
    for index, sample in enumerate(samples):
        derived = work / "derived" / str(index)
        ctx = make_context(
            sample.path,
            derived,
            original_name=sample.original_name,
            posted_at=sample.posted_at,
            claimed_location=sample.claimed_location,
        )
        found = compute_findings(ctx)
        shutil.rmtree(derived, ignore_errors=True)
        for row, expected in sample.truth.items():
            tally = tallies.setdefault((row, sample.set), Tally())
            present = ROWS[row](found)
            name = sample.original_name or sample.path.name
            if expected:
                tally.should += 1
                tally.detected += present
                if not present:
                    tally.misses.append(name)
            else:
                tally.should_not += 1
                tally.false_alarms += present
                if present:
                    tally.alarms.append(name)
    return tallies


def table(tallies: dict[tuple[str, str], Tally], markdown: bool) -> str:
    order = list(ROWS)
    rows = sorted(tallies.items(), key=lambda item: (order.index(item[0][0]), item[0][1]))
    lines = []
    if markdown:
        lines.append("| finding | set | detected / should have it | false alarms / should not |")
        lines.append("|---|---|---|---|")
    for (row, set_name), tally in rows:
        detected = _rate(tally.detected, tally.should)
        alarms = _rate(tally.false_alarms, tally.should_not)
        if markdown:
            lines.append(f"| `{row}` | {set_name} | {detected} | {alarms} |")
        else:
            lines.append(f"{row:38} {set_name:22} {detected:>16} {alarms:>16}")
    return "\n".join(lines)


def _rate(count: int, total: int) -> str:
    return f"{count}/{total} ({100 * count / total:.0f}%)" if total else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12, help="real photos for the generated sets")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", action="store_true", help="print the counts and the misses")
    args = parser.parse_args()
    if not FILES.is_dir():
        parser.error(f"no corpus at {FILES}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photos = corpus_photos(args.photos)
        samples = corpus_samples()
        for name, generate in GENERATED:
            folder = work / name.replace(" ", "-")
            folder.mkdir()
            samples += generate(photos, folder)
        print(f"{len(samples)} samples, {len(photos)} real photos", file=sys.stderr)
        tallies = judge(samples, work)
    if args.json:
        print(json.dumps({f"{row} | {s}": vars(t) for (row, s), t in tallies.items()}, indent=1))
        return
    print(table(tallies, args.markdown))
    if not HAS_COPY_MOVE:
        print("copy-move: no such check in this build, not measured")


if __name__ == "__main__":
    main()
