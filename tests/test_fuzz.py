"""Mutated real files through the real intake: every file answered, nothing else disturbed.

Each batch is a folder of mutants (``tests/mutate.py``, fixed seed) and two
unmutated corpus files, taken in by ``mediacheck intake FOLDER --json`` in a
child process. ``scripts/fuzz_intake.py`` runs the same checks on long
campaigns; the failures it found are the regression tests below.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image

from mediacheck.media.library_warnings import library_messages
from mediacheck.media.metadata.exif_guard import MAX_ENTRIES, count_patches
from tests.batches import CLEAN_ORIGINALS, REPO, run_intake
from tests.corpus import FILES, needs_corpus
from tests.media import photo
from tests.mutate import mutants

SEED = 11
BATCHES = 8
BATCH = 25
ORIGINALS = 2
BATCH_TIMEOUT_S = 600  # generous: a hung decoder shows as a timeout, not as a slow test


@needs_corpus
@pytest.mark.slow
@pytest.mark.parametrize("batch", range(BATCHES))
def test_mutants_are_all_answered(batch, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    described = []
    for mutant in mutants(FILES, SEED, BATCH, start=batch * BATCH):
        name = f"m{mutant.index:04d}{Path(mutant.source).suffix}"
        (folder / name).write_bytes(mutant.data)
        described.append(f"{name}: {mutant.description}")
    originals = set()
    picks = random.Random(f"{SEED}:originals:{batch}").sample(CLEAN_ORIGINALS, ORIGINALS)
    for n, original in enumerate(picks):
        name = f"original-{n}-{Path(original).name}"
        originals.add(name)
        shutil.copyfile(FILES / original, folder / name)

    outcome = run_intake(folder, tmp_path / "store", originals, BATCH_TIMEOUT_S)

    assert not outcome.problems, "\n".join(
        [*(p.message for p in outcome.problems), "batch:", *described]
    )


# --- regressions found by the campaigns ------------------------------------------------------


def test_the_next_directory_after_a_clamped_count_is_clamped_too():
    """atheris: a directory count cut to MAX_ENTRIES made exifread read its "next directory"
    pointer from inside the original entries, at a directory no count was checked in, and
    spend seconds on 65,535 junk entries there."""
    first = 2 * MAX_ENTRIES  # entries in the first directory, all inside the data
    hidden = 8 + 2 + 12 * first + 4  # the directory exifread would wander into
    data = bytearray(b"II*\x00" + struct.pack("<I", 8))
    data += struct.pack("<H", first) + bytes(12 * first) + bytes(4)
    data += struct.pack("<H", 0xFFFF) + bytes(12 * 0xFFFF)
    pointer_at = 8 + 2 + 12 * MAX_ENTRIES
    data[pointer_at : pointer_at + 4] = struct.pack("<I", hidden)

    patches = count_patches(io.BytesIO(bytes(data)), len(data))

    assert patches[8] == struct.pack("<H", MAX_ENTRIES)
    assert patches[hidden] == struct.pack("<H", MAX_ENTRIES)


# Found by the intake campaign: cv2 resizing a picture one pixel thick in the fingerprints,
# and PyAV streams without codec parameters in the video probe.


def _png_declaring(path: Path, width: int, height: int) -> Path:
    """An 8x12 PNG whose IHDR (checksum fixed) declares another size."""
    data = bytearray(photo(io.BytesIO(), (8, 12), format="PNG").getvalue())  # type: ignore[arg-type]
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("size", "declared"),
    [
        ((2000, 1), False),
        ((1, 2000), False),
        ((2000, 1), True),
        ((1, 2000), True),
        ((65535, 1), True),
    ],
)
def test_a_picture_one_pixel_thick_is_stored_and_answered(cli, tmp_path, size, declared):
    path = tmp_path / "thin.png"
    if declared:
        _png_declaring(path, *size)
    else:
        Image.new("RGB", size, (90, 40, 200)).save(path)
    result = cli.json("intake", path, expect=1 if declared else 0)[0]
    assert result["media_id"]
    if declared:  # the IHDR claims more rows or columns than the data holds
        assert result["error"] == f"{path}: picture is truncated: hashed the part that decodes"
    else:
        assert result["status"] == "added"


@needs_corpus
@pytest.mark.parametrize(
    ("source", "box", "offset", "size"),
    [
        ("mde/with-gps.mov", "hdlr", 434172, 57),
        ("mde/with-gps.mov", "smhd", 434156, 18),
        ("elodie/video.mov", "dinf", 2431221, 2),
    ],
)
def test_a_mov_with_a_box_size_cut_short_is_stored_and_answered(
    cli, tmp_path, source, box, offset, size
):
    data = bytearray((FILES / source).read_bytes())
    assert data[offset + 4 : offset + 8] == box.encode()
    data[offset : offset + 4] = struct.pack(">I", size)
    path = tmp_path / "cut.mov"
    path.write_bytes(bytes(data))
    [result] = cli.json("intake", path)
    # What the damaged track leaves unknown is recorded; the rest of the file is described.
    answer = (result["status"], result["kind"], result["mime"])
    assert answer == ("added", "video", "video/quicktime")


def _corrupt_exif_jpeg(path: Path) -> Path:
    """A JPEG whose first EXIF directory claims 200 entries and holds 2."""
    exif = Image.Exif()
    exif[271], exif[305] = "Make", "Soft"
    with Image.open(photo(io.BytesIO(), (64, 48), format="PNG")) as img:  # type: ignore[arg-type]
        img.save(path, "JPEG", exif=exif)
    data = bytearray(path.read_bytes())
    tiff = data.find(b"Exif\x00\x00") + 6
    endian = "<" if data[tiff : tiff + 2] == b"II" else ">"
    first = struct.unpack(endian + "I", data[tiff + 4 : tiff + 8])[0]
    data[tiff + first : tiff + first + 2] = struct.pack(endian + "H", 200)
    path.write_bytes(bytes(data))
    return path


def _damaged_lzw_tiff(path: Path) -> Path:
    """An LZW TIFF (decoded by libtiff, which writes its complaints to stderr from C)."""
    Image.effect_noise((64, 64), 60).convert("RGB").save(path, compression="tiff_lzw")
    data = bytearray(path.read_bytes())
    for pos in range(200, 2000, 7):
        data[pos] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def _truncated_tiff(path: Path) -> Path:
    Image.effect_noise((64, 64), 60).convert("RGB").save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (_corrupt_exif_jpeg, "PIL UserWarning: Corrupt EXIF data. Expecting to read 12 bytes"),
        (_damaged_lzw_tiff, "picture cannot be decoded: decoder error -2"),
        (_truncated_tiff, "picture is truncated"),
    ],
)
def test_library_warnings_go_to_the_media_errors_not_to_stderr(make, error, tmp_path):
    path = make(tmp_path / f"file{'.jpg' if make is _corrupt_exif_jpeg else '.tif'}")
    env = {**os.environ, "MEDIACHECK_HOME": str(tmp_path / "store"), "MEDIACHECK_USER": "fuzz"}
    env.pop("MEDIACHECK_DATABASE_URL", None)

    def mediacheck(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "mediacheck", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)

    took = mediacheck("intake", str(path))
    # Nothing on stderr but the one line of a file that could not be analysed, or only partly.
    line = f"error: {path}: " if took.returncode == 1 else f"warning: {path}: partly read: "
    assert took.returncode in (0, 1)
    assert took.stderr.startswith(line) and took.stderr.count("\n") == 1, took.stderr
    case_id = took.stdout.split()[1]
    media = json.loads(mediacheck("show", case_id, "--json").stdout)["media"][0]
    assert any(e.startswith(error) for e in media["errors"]), media["errors"]


def test_library_messages_keep_the_first_warnings_and_leave_deprecations_alone():
    errors: list[str] = []
    with (
        pytest.warns(DeprecationWarning, match="old call"),
        pytest.warns(ResourceWarning, match="unclosed connection"),
    ):
        with library_messages(errors):
            warnings.warn("Corrupt EXIF data.  Expecting 12 bytes", UserWarning, stacklevel=1)
            warnings.warn("old call", DeprecationWarning, stacklevel=1)
            warnings.warn("unclosed connection", ResourceWarning, stacklevel=1)
            for n in range(10):
                warnings.warn(f"strip {n} is short", RuntimeWarning, stacklevel=1)
    assert errors == [
        "test_fuzz UserWarning: Corrupt EXIF data. Expecting 12 bytes",
        "test_fuzz RuntimeWarning: strip 0 is short",
        "test_fuzz RuntimeWarning: strip 1 is short",
        "test_fuzz RuntimeWarning: strip 2 is short",
        "test_fuzz RuntimeWarning: strip 3 is short",
        "6 more library warnings left out",
    ]
