"""Metadata extraction: golden summaries, agreement with ExifTool, bad and hostile input."""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import datetime
from pathlib import Path

import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mediacheck.media.metadata import SUMMARY_KEYS, extract_metadata
from mediacheck.media.metadata.exif_guard import count_patches
from mediacheck.media.metadata.summary import iso_date
from tests.corpus import CORPUS, FILES, exiftool_truth, manifest, needs_corpus

# --- agreement with ExifTool -------------------------------------------------------------

RAW = CORPUS / "raw"

# Every summary field but has_thumbnail, which ExifTool does not report as one value.
COMPARED = tuple(key for key in SUMMARY_KEYS if key != "has_thumbnail")
THRESHOLD = 0.98
# Where ExifTool keeps each field, in the same order of preference as the summary.
TRUTH_TEXT = {
    "make": ("IFD0:Make", "PNG:Make", "XMP-tiff:Make"),
    "model": ("IFD0:Model", "PNG:Model", "XMP-tiff:Model"),
    "lens": ("ExifIFD:LensModel", "XMP-aux:Lens", "XMP-exifEX:LensModel"),
    "software": ("IFD0:Software", "PNG:Software", "XMP-tiff:Software", "XMP-xmp:CreatorTool"),
}
TRUTH_NUMBERS = {
    "orientation": ("IFD0:Orientation",),
    "declared_width": ("ExifIFD:ExifImageWidth",),
    "declared_height": ("ExifIFD:ExifImageHeight",),
    "width": ("File:ImageWidth", "PNG:ImageWidth", "RIFF:ImageWidth", "IFD0:ImageWidth"),
    "height": ("File:ImageHeight", "PNG:ImageHeight", "RIFF:ImageHeight", "IFD0:ImageHeight"),
}
# (date tag, tag holding its UTC offset)
TRUTH_DATES = (
    ("ExifIFD:DateTimeOriginal", "ExifIFD:OffsetTimeOriginal"),
    ("IFD0:DateTimeOriginal", "ExifIFD:OffsetTimeOriginal"),
    ("XMP-exif:DateTimeOriginal", None),
    ("Composite:DateTimeCreated", None),
    ("IPTC:DateCreated", None),
    ("XMP-photoshop:DateCreated", None),
    ("ExifIFD:CreateDate", "ExifIFD:OffsetTimeDigitized"),
    ("XMP-xmp:CreateDate", None),
    ("IFD0:ModifyDate", "ExifIFD:OffsetTime"),
    ("XMP-xmp:ModifyDate", None),
    ("PNG:ModifyDate", None),
)
# (file, field): why ExifTool's reading is not the one we want. See docs/metadata.md.
ACCEPTED = {
    ("mde/withUncompressedYCbCrThumbnail4.jpg", "captured_at"): (
        "DateTimeOriginal is blank-filled; it says 'unknown', not a time"
    ),
}


def corpus_images() -> list[str]:
    """Every corpus picture with an ExifTool reading (the empty invalid.jpg has none)."""
    return [
        row["file"]
        for row in manifest()
        if row["kind"] == "image" and "exiftool_error" not in row["flags"]
    ]


def truth_value(truth: dict, field: str):
    tags = TRUTH_TEXT.get(field) or TRUTH_NUMBERS.get(field)
    if tags:
        return next((truth[t] for t in tags if truth.get(t) not in (None, "")), None)
    if field == "captured_at":
        return _truth_date(truth)
    return _truth_gps(truth, field)


def _truth_date(truth: dict) -> str | None:
    for tag, offset_tag in TRUTH_DATES:
        value = truth.get(tag)
        if isinstance(value, str) and value.strip():
            offset = truth.get(offset_tag) if offset_tag else None
            return value + (offset if isinstance(offset, str) else "")
    return None


def _truth_gps(truth: dict, field: str) -> float | None:
    """Composite (signed) values first, else the GPS or XMP tag signed by its reference."""
    name = {"gps_latitude": "Latitude", "gps_longitude": "Longitude", "gps_altitude": "Altitude"}
    tag = f"GPS{name[field]}"
    if _float(truth.get(f"Composite:{tag}")) is not None:
        return _float(truth[f"Composite:{tag}"])
    for group in ("GPS", "XMP-exif"):
        value = _float(truth.get(f"{group}:{tag}"))
        if value is not None:
            return -value if truth.get(f"{group}:{tag}Ref") in ("S", "W", 1) else value
    return None


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def agrees(field: str, ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if field == "captured_at":
        return _same_time(ours, theirs)
    if field.startswith("gps_"):
        return abs(ours - theirs) <= (0.5 if field == "gps_altitude" else 1e-5)
    if isinstance(theirs, (int, float)):
        # ExifTool -j writes number-like text ("16.0", "12.2") as JSON numbers.
        return _float(ours) == theirs
    return ours.strip(" \x00") == str(theirs).strip(" \x00")


def _same_time(ours: str, theirs: str) -> bool:
    """Equal to the second; offsets equal where both give one."""
    theirs = theirs.strip().replace(":", "-", 2).replace(" ", "T", 1)
    ours_time, ours_offset = _split_time(ours)
    theirs_time, theirs_offset = _split_time(theirs)
    offsets_agree = ours_offset is None or theirs_offset is None or ours_offset == theirs_offset
    return ours_time == theirs_time and offsets_agree


def _split_time(stamp: str) -> tuple[str, str | None]:
    """("YYYY-MM-DDTHH:MM:SS" or the date alone, "+HH:MM" or None)."""
    stamp = stamp.replace("Z", "+00:00")
    date, _, clock = stamp.partition("T")
    offset = None
    for sign in "+-":
        if sign in clock:
            clock, offset = clock.split(sign, 1)
            offset = sign + offset
    clock = clock.split(".")[0]
    if len(clock) == 5:
        clock += ":00"
    return (f"{date}T{clock}" if clock else date), offset


def camera_raws() -> list[str]:
    """The camera raw files of the corpus (CR2, CR3, NEF), each with its ExifTool reading."""
    return sorted(path.name for path in (RAW / "files").iterdir())


def raw_truth(name: str) -> dict:
    return json.loads((RAW / "truth" / f"{name}.exiftool.json").read_text())[0]


def compared_files() -> list[tuple[str, Path, dict]]:
    """(name, path, ExifTool's reading) of every corpus picture and camera raw."""
    pictures = [(rel, FILES / rel, exiftool_truth(rel)) for rel in corpus_images()]
    raws = [(f"raw/{name}", RAW / "files" / name, raw_truth(name)) for name in camera_raws()]
    return pictures + raws


def measure_agreement() -> tuple[dict[str, tuple[int, int]], list[tuple]]:
    """Per field: (agreeing files, compared files); and each disagreement."""
    counts = {field: [0, 0] for field in COMPARED}
    disagreements = []
    for rel, path, truth in compared_files():
        summary = extract_metadata(path, None).summary
        for field in COMPARED:
            ours, theirs = summary[field], truth_value(truth, field)
            counts[field][1] += 1
            if agrees(field, ours, theirs):
                counts[field][0] += 1
            else:
                disagreements.append((rel, field, ours, theirs))
    return {field: (n[0], n[1]) for field, n in counts.items()}, disagreements


@needs_corpus
def test_summary_agrees_with_exiftool():
    counts, disagreements = measure_agreement()
    figures = ", ".join(f"{field} {good}/{total}" for field, (good, total) in counts.items())
    unexpected = [d for d in disagreements if (d[0], d[1]) not in ACCEPTED]
    low = [field for field, (good, total) in counts.items() if good / total < THRESHOLD]
    assert not low, f"below {THRESHOLD:.0%}: {low}; {figures}; disagreements: {disagreements}"
    assert not unexpected, f"{figures}; unexpected disagreements: {unexpected}"


@needs_corpus
def test_camera_raws_agree_with_exiftool():
    """Each raw on its own: the corpus-wide share would hide three files."""
    raws = [(rel, field) for rel, field, *_ in measure_agreement()[1] if rel.startswith("raw/")]
    assert raws == []
    assert len(camera_raws()) == 3


@needs_corpus
def test_canon_cr3_summary():
    """The EXIF of a CR3 is split over four boxes: IFD0, EXIF and GPS are all read."""
    result = extract_metadata(RAW / "files" / "CanonRaw.cr3", "image/x-canon-cr3")
    assert result.summary == {
        "make": "Canon",
        "model": "Canon EOS M50",
        "lens": "EF-M15-45mm f/3.5-6.3 IS STM",
        "software": None,
        "captured_at": "2018-02-21T12:08:56.21+00:00",
        "gps_latitude": None,  # a GPS directory without a fix
        "gps_longitude": None,
        "gps_altitude": None,
        "orientation": 1,
        "declared_width": 6000,
        "declared_height": 4000,
        "width": 6000,
        "height": 4000,
        "has_thumbnail": True,
    }
    assert result.errors == []
    assert result.metadata["container"] == {"format": "CR3", "brand": "crx ", "size": [6000, 4000]}
    assert result.metadata["exif"]["GPS GPSVersionID"] == "[2, 3, 0, 0]"
    assert result.metadata["exif"]["EXIF LensSerialNumber"] == "0000000000"


@needs_corpus
def test_tiff_based_raws_are_named_for_their_maker():
    nef = extract_metadata(RAW / "files" / "Nikon.nef", None)
    cr2 = extract_metadata(RAW / "files" / "CanonRaw.cr2", None)
    assert nef.metadata["container"] == {"format": "NEF", "size": [160, 106]}
    assert cr2.metadata["container"] == {"format": "CR2", "size": [1536, 1024]}
    assert (nef.errors, cr2.errors) == ([], [])
    assert nef.summary["software"] == "Nikon Capture Editor 4.3.1 W"
    assert cr2.summary["captured_at"] == "2005-08-03T18:59:18"


def jpeg_with_exif(make: str, model: str) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = make, model, "2021:03:04 05:06:07"
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 20, 30)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_panasonic_rw2_exif_comes_from_its_embedded_jpeg(tmp_path):
    jpeg = jpeg_with_exif("Panasonic", "DC-G9")
    entry = struct.pack("<HHII", 0x002E, 7, len(jpeg), 8 + 2 + 12 + 4)
    data = b"IIU\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + b"\x00" * 4 + jpeg
    result = extract_metadata(_written(tmp_path, "p.rw2", data), "image/x-panasonic-rw2")
    assert (result.summary["make"], result.summary["model"]) == ("Panasonic", "DC-G9")
    assert result.summary["captured_at"] == "2021-03-04T05:06:07"
    assert result.summary["width"] is None  # the preview's size is not the raw's
    assert result.errors == []


def test_fujifilm_raf_exif_comes_from_its_embedded_jpeg(tmp_path):
    jpeg = jpeg_with_exif("FUJIFILM", "X-T4")
    header = b"FUJIFILMCCD-RAW 0201FF393001".ljust(84, b"\x00")
    data = header + struct.pack(">II", 92, len(jpeg)) + jpeg
    result = extract_metadata(_written(tmp_path, "f.raf", data), None)
    assert (result.summary["make"], result.summary["model"]) == ("FUJIFILM", "X-T4")
    assert result.metadata["container"]["format"] == "RAF"
    assert result.errors == []


def test_a_raf_pointing_past_its_end_says_so(tmp_path):
    header = b"FUJIFILMCCD-RAW 0201FF393001".ljust(84, b"\x00")
    result = extract_metadata(
        _written(tmp_path, "f.raf", header + struct.pack(">II", 9999, 9)), None
    )
    assert result.errors == ["RAF: the embedded preview is not a JPEG"]
    assert result.summary["make"] is None


def test_olympus_orf_is_read_as_the_tiff_it_is(tmp_path):
    make = b"OLYMPUS IMAGING CORP.\x00"
    entry = struct.pack("<HHII", 0x010F, 2, len(make), 8 + 2 + 12 + 4)
    data = b"IIRO" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + b"\x00" * 4 + make
    result = extract_metadata(_written(tmp_path, "o.orf", data), None)
    assert result.summary["make"] == "OLYMPUS IMAGING CORP."
    assert result.metadata["container"]["format"] == "ORF"


def test_agreement_rules():
    assert agrees("captured_at", "2015-12-05T00:59:26.84", "2015:12:05 00:59:26")
    assert agrees("captured_at", "2009-05-19T09:57:21-07:00", "2009:05:19 09:57:21")
    assert not agrees("captured_at", "2009-05-19T09:57:21-07:00", "2009:05:19 09:57:21+02:00")
    assert agrees("captured_at", "2003-09-05T16:30:00+02:00", "2003:09:05 16:30+02:00")
    assert agrees("captured_at", "2000-01-01", "2000:01:01")
    assert not agrees("captured_at", "2000-01-01", "2000:01:01 10:00:00")
    assert agrees("software", "16.0", 16.0)
    assert agrees("gps_altitude", -1.6, -1.62)
    assert not agrees("gps_latitude", 52.26, 52.2602)
    assert not agrees("make", None, "Canon")


# --- golden summaries of corpus files ----------------------------------------------------


def summary_of(rel: str) -> dict:
    return extract_metadata(FILES / rel, None).summary


@needs_corpus
def test_canon_jpeg_edited_in_photoshop():
    result = extract_metadata(FILES / "elodie/plain.jpg", "image/jpeg")
    assert result.summary == {
        "make": "Canon",
        "model": "Canon EOS REBEL T2i",
        "lens": "EF50mm f/1.4 USM",
        "software": "Adobe Photoshop CC 2015 (Macintosh)",
        "captured_at": "2015-12-05T00:59:26.84",
        "gps_latitude": None,
        "gps_longitude": None,
        "gps_altitude": None,
        "orientation": 1,
        "declared_width": 100,
        "declared_height": 150,
        "width": 100,
        "height": 150,
        "has_thumbnail": True,
    }
    assert result.errors == []
    meta = result.metadata
    assert set(meta) == {"exif", "xmp", "photoshop", "iptc", "icc", "container"}
    assert meta["exif"]["Image Make"] == "Canon"
    assert meta["xmp"]["properties"]["xmp:CreatorTool"] == "Adobe Photoshop CS5 Macintosh"
    assert 0x0404 in meta["photoshop"]["resource_ids"]
    assert meta["container"] == {"format": "JPEG", "size": [100, 150], "mode": "RGB", "frames": 1}
    json.dumps(meta)


@needs_corpus
def test_iphone_heic():
    assert summary_of("exifr/heic-iphone.heic") == {
        "make": "Apple",
        "model": "iPhone XS Max",
        "lens": "iPhone XS Max back dual camera 4.25mm f/1.8",
        "software": "12.4",
        "captured_at": "2019-08-21T10:57:23.345",
        "gps_latitude": pytest.approx(7.8314305555),
        "gps_longitude": pytest.approx(98.2966527777),
        "gps_altitude": pytest.approx(12.7661795005),
        "orientation": 1,
        "declared_width": 4032,
        "declared_height": 3024,
        "width": 4032,
        "height": 3024,
        "has_thumbnail": True,  # a "thmb" item beside the picture
    }


@needs_corpus
def test_gps_below_sea_level_is_negative():
    summary = summary_of("mde/BELOW_SEA_LEVEL.JPG")
    assert summary["gps_altitude"] == pytest.approx(-1.626926353)
    assert summary["gps_latitude"] == pytest.approx(52.2602361111)
    assert summary["gps_longitude"] == pytest.approx(4.6323027777)
    assert summary["captured_at"] == "2022-06-29T22:44:11.948+02:00"


@needs_corpus
def test_southern_and_western_hemispheres_are_negative():
    summary = summary_of("elodie/with-location-inv.jpg")
    assert (summary["gps_latitude"], summary["gps_longitude"]) == (
        pytest.approx(-37.366703, abs=1e-6),
        pytest.approx(122.033384, abs=1e-6),
    )
    zero = summary_of("elodie/with-location-zero-coordinate.jpg")
    assert zero["gps_longitude"] == pytest.approx(-0.0041777777)


@needs_corpus
def test_gps_directory_without_coordinates_gives_no_position():
    summary = summary_of("elodie/with-null-coordinates.jpg")
    assert (summary["gps_latitude"], summary["gps_longitude"]) == (None, None)
    assert summary["orientation"] == 6
    assert (summary["declared_width"], summary["width"]) == (4608, 82)


@needs_corpus
def test_png_with_exif_chunk():
    result = extract_metadata(FILES / "exifr/png/png_with_exif_and_gps.png", "image/png")
    assert result.summary["make"] == "Canon"
    assert result.summary["model"] == "Canon PowerShot S40"
    assert result.summary["captured_at"] == "2003-12-14T12:01:44.935476"
    assert result.summary["gps_altitude"] == 252.0
    assert (result.summary["width"], result.summary["declared_width"]) == (1, 2272)
    assert result.metadata["png_text"]["Make"] == "Canon"


@needs_corpus
def test_tiff_from_a_drone():
    result = extract_metadata(FILES / "exifr/001.tif", "image/tiff", pixel_size=(640, 512))
    assert result.summary["make"] == "DJI"
    assert result.summary["model"] == "FLIR"
    assert result.summary["captured_at"] == "2017-11-07T18:56:07.890"
    assert result.summary["gps_altitude"] == -8.0
    assert result.metadata["container"]["mode"] == "I;16"
    assert result.errors == []


@needs_corpus
def test_tiff_with_iptc_icc_and_xmp_tags():
    result = extract_metadata(FILES / "exifr/tif-with-iptc-icc-xmp.tif", "image/tiff")
    meta = result.metadata
    assert meta["icc"] == {
        "size": 940,
        "version": "2.1.0",
        "device_class": "mntr",
        "color_space": "RGB",
        "connection_space": "XYZ",
        "cmm": "KCMS",
        "description": "ProPhoto RGB",
    }
    assert meta["iptc"]["Copyright Notice"] == "JET2HOLIDAYS"
    assert meta["iptc"]["Time Created"] == "064512+0000"
    assert meta["xmp"]["properties"]["photoshop:DateCreated"] == "2013-09-07T06:45:12"
    assert result.summary["has_thumbnail"] is True  # Photoshop's thumbnail resource
    assert result.errors == []


@needs_corpus
def test_second_page_of_a_tiff_is_not_a_thumbnail():
    result = extract_metadata(FILES / "mde/multipage.tif", "image/tiff")
    assert result.summary["has_thumbnail"] is False
    assert result.metadata["container"] == {
        "format": "TIFF",
        "size": [4670, 6170],
        "mode": "1",
        "frames": 5,
    }


@needs_corpus
def test_damaged_xmp_packet_is_still_read():
    result = extract_metadata(FILES / "exifr/broken1.jpg", "image/jpeg")
    assert result.errors == []
    assert result.summary["lens"] == "17.0 - 50.0 mm"  # only in the XMP, after a run of NULs


@needs_corpus
def test_iptc_date_and_time_with_offset():
    result = extract_metadata(FILES / "exifr/iptc-staff-photographer-example.jpg", None)
    assert result.summary["captured_at"] == "2007-04-19T11:03:15-06:00"
    assert result.metadata["iptc"]["Date Created"] == "20070419"


@needs_corpus
def test_webp_and_avif():
    webp = summary_of("exifr/webp/VRChat_3840x2160_2022-09-04_22-48-26.551.webp")
    assert (webp["make"], webp["software"]) == ("logilabo", "darktable 4.2.0")
    assert (webp["width"], webp["height"]) == (3240, 2160)
    avif = summary_of("exifr/avif/Irvine_CA.avif")
    assert (avif["model"], avif["captured_at"]) == ("iPhone 3GS", "2010-05-11T10:51:45.87")
    assert (avif["width"], avif["height"]) == (480, 640)


# --- bad input ---------------------------------------------------------------------------


def _written(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_empty_file(tmp_path):
    result = extract_metadata(_written(tmp_path, "empty.jpg", b""), None)
    assert result.errors == ["empty file"]
    assert result.metadata == {}
    assert set(result.summary) == set(SUMMARY_KEYS)
    assert {key: value for key, value in result.summary.items() if value is not None} == {
        "has_thumbnail": False
    }


def test_text_named_jpg(tmp_path):
    path = _written(tmp_path, "note.jpg", b"just some text, not a picture\n")
    assert extract_metadata(path, "text/plain").errors == [
        "unrecognised image format (content type text/plain)"
    ]


def test_random_bytes(tmp_path):
    path = _written(tmp_path, "noise.bin", bytes(range(256)) * 4)
    assert extract_metadata(path, None).errors == ["unrecognised image format"]


def test_missing_file_gives_an_error_line(tmp_path):
    result = extract_metadata(tmp_path / "gone.jpg", None)
    assert result.errors == ["cannot read the file (No such file or directory)"]


@needs_corpus
def test_jpeg_cut_inside_its_exif_segment(tmp_path):
    data = (FILES / "elodie/plain.jpg").read_bytes()
    result = extract_metadata(_written(tmp_path, "cut.jpg", data[:1500]), "image/jpeg")
    assert result.errors == [
        "JPEG: segment 0xE1 truncated (1494 of 1706 bytes)",
        "container: unreadable (OSError: Truncated File Read)",
    ]
    # The tags before the cut are still read.
    assert (result.summary["make"], result.summary["model"]) == ("Canon", "Canon EOS REBEL T2i")


@needs_corpus
def test_jpeg_cut_in_its_image_data_keeps_all_metadata(tmp_path):
    data = (FILES / "mde/BELOW_SEA_LEVEL.JPG").read_bytes()
    whole = extract_metadata(FILES / "mde/BELOW_SEA_LEVEL.JPG", None)
    cut = extract_metadata(_written(tmp_path, "cut.jpg", data[: len(data) // 2]), None)
    assert cut.summary == whole.summary
    assert cut.errors == []


def test_decompression_bomb_is_reported_not_opened(tmp_path):
    header = b"\x89PNG\r\n\x1a\n" + _png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    )
    path = _written(tmp_path, "bomb.png", header + _png_chunk(b"IEND", b""))
    result = extract_metadata(path, "image/png")
    limit = Image.MAX_IMAGE_PIXELS
    assert result.errors == [f"decompression bomb: 50000x50000 pixels is over the limit of {limit}"]
    assert (result.summary["width"], result.summary["height"]) == (50000, 50000)


def test_truncated_png(tmp_path):
    header = b"\x89PNG\r\n\x1a\n" + _png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 2, 0, 0, 0)
    )
    result = extract_metadata(_written(tmp_path, "cut.png", header), "image/png")
    assert result.errors[0] == "PNG: truncated (no IEND chunk)"
    assert (result.summary["width"], result.summary["height"]) == (4, 3)


def test_zlib_bomb_in_png_text_is_cut(tmp_path):
    text = b"Comment\x00\x00" + zlib.compress(b"A" * (4 * 1024 * 1024))
    body = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + _png_chunk(
        b"zTXt", text
    )
    path = _written(tmp_path, "ztxt.png", b"\x89PNG\r\n\x1a\n" + body + _png_chunk(b"IEND", b""))
    result = extract_metadata(path, None)
    assert len(result.metadata["png_text"]["Comment"]) == 1024 * 1024
    assert "PNG zTXt 'Comment': over 1048576 bytes once decompressed, cut there" in result.errors


def test_hostile_tiff_header_prints_nothing(tmp_path, capfd):
    entries = [(256, 1), (257, 1), (277, 40000)]  # width, height, samples per pixel
    directory = b"".join(struct.pack("<HHII", tag, 3, 1, value) for tag, value in entries)
    data = b"II*\x00" + struct.pack("<IH", 8, len(entries)) + directory + bytes(4)
    result = extract_metadata(_written(tmp_path, "spp.tif", data), "image/tiff")
    assert result.errors == ["container: Pillow cannot open this TIFF"]
    assert result.metadata["exif"]["Image SamplesPerPixel"] == "40000"
    assert capfd.readouterr() == ("", "")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


# --- synthetic files: comment, XMP, IPTC ------------------------------------------------


def _jpeg(tmp_path: Path, *segments: bytes) -> Path:
    """A real 8x8 JPEG with the given segments put right after SOI."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    data = out.getvalue()
    return _written(tmp_path, "made.jpg", data[:2] + b"".join(segments) + data[2:])


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:e="http://ns.adobe.com/exif/1.0/" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" e:DateTimeOriginal="2022-02-24T05:07:00+02:00">'
    b"<dc:subject><rdf:Bag><rdf:li>war</rdf:li><rdf:li>Kyiv</rdf:li></rdf:Bag></dc:subject>"
    b"<e:GPSLatitude>50,27.0N</e:GPSLatitude><e:GPSLongitude>30,31.2E</e:GPSLongitude>"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def test_comment_xmp_and_odd_prefixes(tmp_path):
    path = _jpeg(
        tmp_path,
        _segment(0xFE, b"taken on the road\x00"),
        _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP),
    )
    result = extract_metadata(path, "image/jpeg")
    assert result.errors == []
    assert result.metadata["jpeg_comment"] == "taken on the road"
    assert result.metadata["xmp"]["properties"] == {
        "exif:DateTimeOriginal": "2022-02-24T05:07:00+02:00",
        "dc:subject": ["war", "Kyiv"],
        "exif:GPSLatitude": "50,27.0N",
        "exif:GPSLongitude": "30,31.2E",
    }
    summary = result.summary
    assert summary["captured_at"] == "2022-02-24T05:07:00+02:00"
    assert (summary["gps_latitude"], summary["gps_longitude"]) == (50.45, 30.52)
    assert (summary["width"], summary["height"]) == (8, 8)


def test_iptc_in_photoshop_block(tmp_path):
    iim = b"".join(
        b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(value)) + value
        for dataset, value in [(80, b"J. Doe"), (25, b"flood"), (25, b"Odesa"), (55, b"20230606")]
    )
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim
    path = _jpeg(tmp_path, _segment(0xED, b"Photoshop 3.0\x00" + resource))
    result = extract_metadata(path, None)
    assert result.metadata["iptc"] == {
        "By-line": "J. Doe",
        "Keywords": ["flood", "Odesa"],
        "Date Created": "20230606",
    }
    assert result.metadata["photoshop"] == {"resource_ids": [0x0404]}
    assert result.summary["captured_at"] == "2023-06-06"


def test_long_xmp_lists_are_cut(tmp_path):
    items = b"<rdf:li>xmp.did:1</rdf:li>" * 1001
    packet = XMP.replace(b"<rdf:li>war</rdf:li><rdf:li>Kyiv</rdf:li>", items)
    path = _jpeg(tmp_path, _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet))
    result = extract_metadata(path, None)
    assert result.errors == ["XMP: dc:subject cut to 1000 of 1001 items"]
    assert result.metadata["xmp"]["properties"]["dc:subject"] == ["xmp.did:1"] * 1000


def test_entity_expansion_is_refused(tmp_path):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    )
    path = _jpeg(tmp_path, _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + bomb))
    result = extract_metadata(path, None)
    assert result.errors == [
        "XMP: not well-formed (DTDForbidden(name='x', system_id=None, public_id=None))"
    ]
    assert result.metadata["xmp"]["properties"] == {}


def _exif_bytes() -> bytes:
    """EXIF as Pillow writes it ("Exif\\0\\0" then a big-endian TIFF structure)."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Nikon", "Z 9", 6
    exif[0x8825] = {
        1: "S",
        2: (33.0, 51.0, 54.0),
        3: "E",
        4: (151.0, 12.0, 36.0),
        5: b"\x01",
        6: 10.5,
    }
    maker_note = b"Nikon\x00\x02\x10\x00\x00" + bytes(90)
    exif[0x8769] = {0x9003: "2024:03:01 09:15:00", 0x9011: "+11:00", 0x927C: maker_note}
    return exif.tobytes()


@pytest.mark.parametrize("kind", ["WEBP", "PNG", "JPEG", "TIFF"])
def test_exif_in_every_container_pillow_writes(tmp_path, kind):
    path = tmp_path / f"made.{kind.lower()}"
    Image.new("RGB", (9, 7), "blue").save(path, kind, exif=_exif_bytes())
    result = extract_metadata(path, None)
    assert result.errors == []
    assert result.summary == {
        "make": "Nikon",
        "model": "Z 9",
        "lens": None,
        "software": None,
        "captured_at": "2024-03-01T09:15:00+11:00",
        "gps_latitude": pytest.approx(-33.865),
        "gps_longitude": pytest.approx(151.21),
        "gps_altitude": -10.5,
        "orientation": 6,
        "declared_width": None,
        "declared_height": None,
        "width": 9,
        "height": 7,
        "has_thumbnail": False,
    }


@pytest.mark.parametrize("kind", ["HEIF", "AVIF"])
def test_heif_and_avif_items(tmp_path, kind):
    pillow_heif.register_heif_opener()
    path = tmp_path / f"made.{kind.lower()}"
    Image.new("RGB", (16, 12), "red").save(path, kind, exif=_exif_bytes(), xmp=XMP)
    result = extract_metadata(path, None)
    assert result.errors == []
    summary = result.summary
    assert (summary["make"], summary["captured_at"]) == ("Nikon", "2024-03-01T09:15:00+11:00")
    assert summary["gps_altitude"] == -10.5
    # The encoder pads the coded picture; the clean aperture gives the real size.
    assert (summary["width"], summary["height"]) == (16, 12)
    assert result.metadata["xmp"]["properties"]["dc:subject"] == ["war", "Kyiv"]
    assert result.metadata["container"]["format"] == kind


def test_gif_size_frames_and_xmp(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (7, 5), colour) for colour in ("red", "green", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    data = path.read_bytes()
    xmp = b"\x21\xffXMP DataXMP" + XMP + bytes(range(255, -1, -1)) + b"\x00"
    path.write_bytes(data[:-1] + xmp + data[-1:])  # before the trailer byte
    result = extract_metadata(path, "image/gif")
    assert result.errors == []
    assert result.metadata["container"] == {
        "format": "GIF",
        "size": [7, 5],
        "mode": "P",
        "frames": 3,
    }
    assert result.summary["captured_at"] == "2022-02-24T05:07:00+02:00"


def test_bmp_size(tmp_path):
    path = tmp_path / "plain.bmp"
    Image.new("RGB", (6, 4)).save(path)
    result = extract_metadata(path, "image/bmp")
    assert result.errors == []
    assert result.metadata == {
        "container": {"format": "BMP", "size": [6, 4], "mode": "RGB", "frames": 1}
    }
    assert (result.summary["width"], result.summary["height"]) == (6, 4)


@needs_corpus
def test_pixel_size_from_the_caller_wins_over_the_header():
    summary = extract_metadata(FILES / "elodie/photo.heic", "image/heic", (101, 75)).summary
    assert (summary["width"], summary["height"]) == (101, 75)
    assert (summary["declared_width"], summary["declared_height"]) == (4032, 3024)


# --- hostile input -----------------------------------------------------------------------


def _exif_with(old: bytes, new: bytes) -> bytes:
    exif = _exif_bytes()
    assert exif.count(old) == 1
    return exif.replace(old, new)


def test_maker_note_with_a_huge_count_is_clamped(tmp_path):
    # Without the clamp exifread would read two billion values one at a time.
    exif = _exif_with(struct.pack(">HHI", 0x927C, 1, 100), struct.pack(">HHI", 0x927C, 1, 2**31))
    tiff = exif[6:]
    entry = tiff.find(struct.pack(">HHI", 0x927C, 1, 2**31))
    assert count_patches(io.BytesIO(tiff), len(tiff)) == {entry + 4: struct.pack(">I", 64)}
    result = extract_metadata(_jpeg(tmp_path, _segment(0xE1, exif)), None)
    assert (result.summary["make"], result.summary["orientation"]) == ("Nikon", 6)
    assert result.errors == []


def test_directory_with_more_entries_than_the_data_holds(tmp_path):
    exif = _exif_bytes()
    first_ifd = 6 + struct.unpack(">I", exif[10:14])[0]
    count = struct.unpack(">H", exif[first_ifd : first_ifd + 2])[0]
    swollen = exif[:first_ifd] + struct.pack(">H", 65535) + exif[first_ifd + 2 :]
    tiff = swollen[6:]
    fitting = (len(tiff) - (first_ifd - 6) - 2) // 12
    patches = count_patches(io.BytesIO(tiff), len(tiff))
    assert patches[first_ifd - 6] == struct.pack(">H", fitting)
    assert fitting > count
    result = extract_metadata(_jpeg(tmp_path, _segment(0xE1, swollen)), None)
    # Entries past the real five are junk (one even blanks Make), but those before are read.
    assert (result.summary["model"], result.summary["orientation"]) == ("Z 9", 6)


# --- hostile input -----------------------------------------------------------------------


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=st.binary(max_size=2000))
def test_random_exif_segment_never_raises(tmp_path, payload):
    for prefix in (b"Exif\x00\x00II*\x00", b"Exif\x00\x00MM\x00*"):
        path = _jpeg(tmp_path, _segment(0xE1, prefix + payload))
        result = extract_metadata(path, "image/jpeg")
        json.dumps(result.metadata)
        assert set(result.summary) == set(SUMMARY_KEYS)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(packet=st.text(max_size=500), extra=st.binary(max_size=100))
def test_random_xmp_never_raises(tmp_path, packet, extra):
    data = b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode("utf-8", "surrogatepass") + extra
    path = _jpeg(tmp_path, _segment(0xE1, data[:65000]))
    json.dumps(extract_metadata(path, None).metadata)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(
        ["jpeg", "png", "webp", "heif", "tiff", "gif", "bmp", "cr3", "rw2", "raf", "orf"]
    ),
    body=st.binary(max_size=600),
)
def test_random_bodies_behind_real_signatures_never_raise(tmp_path, kind, body):
    signature = {
        "jpeg": b"\xff\xd8\xff",
        "png": b"\x89PNG\r\n\x1a\n",
        "webp": b"RIFF\x00\x00\x00\x00WEBP",
        "heif": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        "tiff": b"II*\x00",
        "gif": b"GIF89a",
        "bmp": b"BM" + bytes(12) + b"\x28\x00\x00\x00",
        "cr3": b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom",
        "rw2": b"IIU\x00",
        "raf": b"FUJIFILMCCD-RAW ",
        "orf": b"IIRO",
    }[kind]
    result = extract_metadata(_written(tmp_path, "x", signature + body), None)
    json.dumps(result.metadata)
    assert all(isinstance(line, str) and "\n" not in line for line in result.errors)


def test_captured_at_parses_only_real_dates():
    assert iso_date("2015:12:05 00:59:26") == "2015-12-05T00:59:26"
    assert iso_date("2012-12-31T04:35:10Z") == "2012-12-31T04:35:10+00:00"
    assert iso_date("2003:09:05 16:30+02:00") == "2003-09-05T16:30:00+02:00"
    assert iso_date("0000:00:00 00:00:00") is None
    assert iso_date("    :  :     :  :  ") is None
    assert iso_date("2019:02:30 10:00:00") is None
    assert datetime.fromisoformat(iso_date("2022:06:29 22:44:11.948+0200")).utcoffset() is not None
