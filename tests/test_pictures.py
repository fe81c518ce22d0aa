"""Opening pictures: camera raws, memory bounds, truncated data, tiny and degenerate sizes."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mediacheck.errors import UnsupportedMedia
from mediacheck.match.fingerprints import fingerprint, probe
from mediacheck.media import pictures
from mediacheck.media.hashes import compute_hashes
from mediacheck.media.pictures import DECODE_BUDGET, WORKING_SIZE, open_picture
from mediacheck.media.raw import raw_format
from mediacheck.media.sniff import sniff, sniff_bytes
from tests import bombs
from tests.corpus import CORPUS, needs_corpus
from tests.media import photo
from tests.raws import cr3_with_preview, nef_with_preview, preview_jpeg

RAWS = CORPUS / "raw" / "files"
REPO = Path(__file__).resolve().parents[1]

# --- camera raws -------------------------------------------------------------------------


def tiff_head(entries: list[tuple[int, int, int, bytes]], extra: bytes = b"") -> bytes:
    """A little-endian TIFF header and IFD0 of (tag, type, count, 4-byte value field)."""
    body = struct.pack("<H", len(entries))
    body += b"".join(
        struct.pack("<HHI", tag, kind, count) + value for tag, kind, count, value in entries
    )
    return b"II*\x00" + struct.pack("<I", 8) + body + b"\x00" * 4 + extra


def make_entry(make: bytes, at: int) -> tuple[int, int, int, bytes]:
    return (0x010F, 2, len(make), struct.pack("<I", at))


def with_make(make: bytes, *more: tuple[int, int, int, bytes]) -> bytes:
    """A TIFF head whose Make string follows its directory."""
    count = 1 + len(more)
    at = 8 + 2 + 12 * count + 4
    return tiff_head([make_entry(make, at), *more], make)


SUB_IFDS = (0x014A, 4, 1, struct.pack("<I", 0))


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "image/x-canon-cr3"),
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\x00" * 16, "image/x-canon-cr2"),
        (with_make(b"NIKON CORPORATION\x00", SUB_IFDS), "image/x-nikon-nef"),
        (with_make(b"SONY\x00", SUB_IFDS), "image/x-sony-arw"),
        (
            with_make(b"PENTAX Corporation\x00", (0x0103, 3, 1, b"\xff\xff\x00\x00")),
            "image/x-pentax-pef",
        ),
        (tiff_head([(0xC612, 1, 4, b"\x01\x04\x00\x00")]), "image/x-adobe-dng"),
        (b"IIRO\x08\x00\x00\x00" + b"\x00" * 8, "image/x-olympus-orf"),
        (b"IIU\x00\x18\x00\x00\x00" + b"\x00" * 8, "image/x-panasonic-rw2"),
        (b"FUJIFILMCCD-RAW 0201FF383501" + b"\x00" * 64, "image/x-fujifilm-raf"),
    ],
)
def test_camera_raws_are_pictures_with_their_own_mime(head, mime):
    assert sniff_bytes(head).mime == mime
    assert sniff_bytes(head).kind == "image"


def test_a_camera_that_writes_plain_tiff_files_is_not_a_raw():
    """Old compacts put their Make in IFD0 too, but no sensor data sub-directories."""
    assert sniff_bytes(with_make(b"NIKON\x00")).mime == "image/tiff"
    assert raw_format(tiff_head([])) is None


@given(st.binary(max_size=200))
def test_raw_detection_never_raises(data):
    for prefix in (b"II*\x00", b"MM\x00*", b"II*\x00\x10\x00\x00\x00CR\x02\x00", b""):
        raw_format(prefix + data)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    signature=st.sampled_from(
        [
            b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom",
            b"II*\x00\x10\x00\x00\x00CR\x02\x00",
            b"IIU\x00",
            b"FUJIFILMCCD-RAW ",
            b"\x89PNG\r\n\x1a\n",
            b"\xff\xd8\xff",
        ]
    ),
    body=st.binary(max_size=400),
)
def test_random_bodies_behind_picture_signatures_are_refused_in_one_line(tmp_path, signature, body):
    path = tmp_path / "x"
    path.write_bytes(signature + body)
    try:
        open_picture(path)
    except UnsupportedMedia as exc:
        assert "\n" not in str(exc)


@needs_corpus
def test_corpus_raws_are_images_and_cr3_is_no_video():
    mimes = {path.name: sniff(path) for path in RAWS.iterdir()}
    assert {name: (s.kind, s.mime) for name, s in mimes.items()} == {
        "CanonRaw.cr2": ("image", "image/x-canon-cr2"),
        "CanonRaw.cr3": ("image", "image/x-canon-cr3"),
        "Nikon.nef": ("image", "image/x-nikon-nef"),
    }


@needs_corpus
def test_raws_whose_preview_was_cut_say_so_in_one_line():
    """ExifTool's test raws keep their metadata but replace the previews with a few bytes."""
    with pytest.raises(UnsupportedMedia) as nef:
        open_picture(RAWS / "Nikon.nef")
    assert nef.value.cause == "camera raw file embeds no preview picture"
    with pytest.raises(UnsupportedMedia) as cr2:
        open_picture(RAWS / "CanonRaw.cr2")
    assert (
        cr2.value.cause
        == "camera raw file cannot be read (Unsupported file format or not RAW file)"
    )


@needs_corpus
@pytest.mark.parametrize("make", [nef_with_preview, cr3_with_preview])
def test_a_raw_is_hashed_by_its_embedded_preview(tmp_path, make):
    jpeg = preview_jpeg((1500, 1000), tmp_path)
    path = make(tmp_path, jpeg)
    picture = open_picture(path)
    alone = open_picture(tmp_path / "preview.jpg")
    assert picture.image.size == alone.image.size == (WORKING_SIZE, 683)
    assert compute_hashes(picture.image) == compute_hashes(alone.image)
    assert (picture.format, picture.width, picture.height) == {
        "with-preview.nef": ("NEF", 3039, 2014),  # LibRaw's visible area of the sensor
        "with-preview.cr3": ("CR3", 6024, 4020),
    }[path.name]
    assert not picture.truncated


@needs_corpus
@pytest.mark.parametrize("own_orientation", [None, 6])
def test_a_raw_preview_turns_with_the_raw_once(tmp_path, monkeypatch, own_orientation):
    """Turned by the raw's orientation, unless the preview's own EXIF already turns it."""
    preview = Image.open(io.BytesIO(preview_jpeg((600, 400), tmp_path)))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if own_orientation:
        exif[0x0112] = own_orientation
    preview.save(buffer, "JPEG", exif=exif)
    path = nef_with_preview(tmp_path, buffer.getvalue())
    found = pictures.raw.open_preview(path)
    found.orientation = 6
    monkeypatch.setattr(pictures.raw, "open_preview", lambda _: found)
    assert open_picture(path).image.size == (400, 600)


# --- memory: pixel bombs -----------------------------------------------------------------


def peak_mb(code: str, *args: str) -> tuple[str, float]:
    """What a fresh interpreter printed running ``code``, and its peak resident memory."""
    script = code + (
        "\nprint(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=REPO, check=True
    )
    *said, peak = run.stdout.splitlines()
    return "\n".join(said), int(peak) / 1024


OPEN = (
    "import sys; from pathlib import Path; from mediacheck.media.pictures import open_picture\n"
    "from mediacheck.errors import UnsupportedMedia\n"
    "try:\n    p = open_picture(Path(sys.argv[1])); print(p.image.size, p.truncated)\n"
    "except UnsupportedMedia as e:\n    print(e.cause)"
)


def test_a_huge_rgb_png_is_refused_before_any_pixel_is_decoded(tmp_path):
    path = bombs.png(tmp_path / "bomb.png")
    said, peak = peak_mb(OPEN, str(path))
    assert said == (
        "too large to decode within the memory bound: 14000x14000 RGB needs about 747 MB, "
        f"over {DECODE_BUDGET // 2**20} MB"
    )
    assert peak < 250  # the interpreter and its libraries: no 750 MB buffer was made


def test_a_huge_jpeg_is_decoded_at_an_eighth_and_reported_truncated(tmp_path):
    path = bombs.jpeg(tmp_path / "bomb.jpg")
    said, peak = peak_mb(OPEN, str(path))
    assert said == "(1024, 1024) True"
    assert peak < 250  # 1750x1750 decoded, not the declared 14000x14000


def test_a_png_of_a_few_bytes_declaring_196_mp_is_truncated_and_decodes_its_one_row(tmp_path):
    path = bombs.png(tmp_path / "short.png", rows=1)
    assert path.stat().st_size < 500
    said, peak = peak_mb(OPEN, str(path))
    assert said == "(1024, 1) True"
    assert peak < 250


def test_the_budget_counts_what_each_decoder_holds(tmp_path):
    with Image.open(bombs.tiff(tmp_path / "one-strip.tif", rows_per_strip=bombs.SIDE)) as img:
        assert pictures.decode_bytes(img, img.size) == 2 * bombs.SIDE**2  # strip and picture
    with Image.open(bombs.tiff(tmp_path / "strips.tif")) as img:
        assert pictures.decode_bytes(img, img.size) == bombs.SIDE**2 + bombs.SIDE * 64
    with Image.open(bombs.jpeg(tmp_path / "progressive.jpg", progressive=True)) as img:
        # 4:2:0 keeps 1.5 coefficients of two bytes per pixel, whatever the draft.
        img.draft("RGB", (512, 512))
        assert (
            pictures.decode_bytes(img, (bombs.SIDE, bombs.SIDE)) == 1750**2 * 4 + 3 * bombs.SIDE**2
        )
    with Image.open(bombs.heic(tmp_path / "declared.heic")) as img:
        assert pictures.decode_bytes(img, img.size) == 10 * bombs.SIDE**2


@pytest.mark.parametrize(
    "name", ["png-grey-196mp.png", "gif-196mp.gif", "tiff-grey-strips-196mp.tif"]
)
def test_one_byte_pixels_just_under_the_cap_decode_within_the_budget(tmp_path, name):
    path = bombs.BOMBS[name](tmp_path / name)
    said, peak = peak_mb(OPEN, str(path))
    assert said == f"(1024, 1024) {name.startswith('gif')}"
    assert peak < 450


@pytest.mark.parametrize(
    "name", ["jpeg-progressive-196mp.jpg", "bmp-header-196mp.bmp", "heic-ispe-196mp.heic"]
)
def test_others_just_under_the_cap_are_refused_with_the_memory_they_would_take(tmp_path, name):
    path = bombs.BOMBS[name](tmp_path / name)
    with pytest.raises(UnsupportedMedia) as refused:
        open_picture(path)
    assert refused.value.cause.startswith(
        "too large to decode within the memory bound: 14000x14000"
    )


def test_a_png_whose_data_stops_early_is_truncated(tmp_path):
    path = bombs.png(tmp_path / "cut.png", rows=100, side=400)
    picture = open_picture(path)
    assert (picture.width, picture.height, picture.truncated) == (400, 400, True)
    assert picture.image.size == (400, 100)  # the rows it has, not 300 blank ones
    assert not open_picture(bombs.png(tmp_path / "whole.png", side=400)).truncated


def test_an_interlaced_png_whose_data_stops_early_is_truncated(tmp_path):
    whole = tmp_path / "interlaced.png"
    photo(tmp_path / "p.png", (300, 200)).rename(whole)
    Image.open(whole).save(whole, interlace=1)
    data = whole.read_bytes()
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    body = data[idat + 4 : idat + 4 + length]
    rows = zlib.decompress(body)[: len(zlib.decompress(body)) // 3]
    cut = tmp_path / "cut.png"
    cut.write_bytes(
        data[: idat - 4]
        + bombs.png_chunk(b"IDAT", zlib.compress(rows))
        + bombs.png_chunk(b"IEND", b"")
    )
    assert open_picture(cut).truncated
    assert not open_picture(whole).truncated


def test_a_jpeg_cut_in_its_scan_is_truncated(tmp_path):
    whole = photo(tmp_path / "whole.jpg", (800, 600), quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    assert open_picture(cut).truncated
    assert not open_picture(whole).truncated


# --- tiny and degenerate pictures --------------------------------------------------------

TINY = [(1, 1), (1, 2000), (2000, 1), (2, 2), (2, 3000), (3, 2000), (62, 900), (63, 900)]


@pytest.mark.parametrize("size", TINY)
def test_every_hash_and_fingerprint_is_defined_for_tiny_pictures(size):
    img = Image.linear_gradient("L").convert("RGB").resize(size)
    hashes = compute_hashes(img).hashes
    assert set(hashes) == {"phash", "dhash", "ahash", "whash", "colorhash", "pdq"}
    printed = fingerprint(img)
    assert len(printed.coarse) == 16
    assert len(printed.keypoints) == 0  # too thin for ORB's 31 px patches
    assert probe(img).mirror_fine is not None


def test_a_line_of_pixels_is_a_picture(tmp_path):
    Image.linear_gradient("L").resize((1, 2000)).save(tmp_path / "line.png")
    picture = open_picture(tmp_path / "line.png")
    assert (picture.width, picture.height, picture.image.size) == (1, 2000, (1, 1024))
    fingerprint(picture.image)


def test_a_jpeg_whose_frame_claims_two_pixels_of_height(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    frame = data.find(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", 2, 2000)
    (tmp_path / "thin.jpg").write_bytes(bytes(data))
    picture = open_picture(tmp_path / "thin.jpg")
    assert (picture.height, picture.width) == (2, 2000)
    fingerprint(picture.image)
    compute_hashes(picture.image)


@pytest.mark.parametrize("kind", ["png", "gif"])
def test_a_zero_sized_picture_is_refused_in_one_line(tmp_path, kind):
    path = tmp_path / f"zero.{kind}"
    if kind == "png":
        header = bombs.png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 5, 8, 2, 0, 0, 0))
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + header + bombs.png_chunk(b"IEND", b""))
    else:
        bombs.gif(path, side=0)
    with pytest.raises(UnsupportedMedia) as refused:
        open_picture(path)
    assert str(refused.value) == f"{path}: not a picture Pillow can decode"


def test_a_zero_sized_preview_is_refused_in_one_line():
    empty = Image.new("RGB", (0, 3))
    with pytest.raises(UnsupportedMedia) as refused:
        pictures._open(Path("x.nef"), lambda: empty, allow_truncated=False)
    assert str(refused.value) == "x.nef: picture declares a size of 0x3 pixels"
