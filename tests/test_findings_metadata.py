"""Findings read from metadata: stripped EXIF, editing software, sizes, times, GPS, names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mediacheck.findings import CHECKS, metadata_signals
from mediacheck.findings.filename import describe_type
from mediacheck.findings.firmware import is_firmware
from mediacheck.findings.metadata_signals import identify
from tests.corpus import FILES, manifest, needs_corpus
from tests.corpus_software import firmware_only, other_software, software_names
from tests.findings_helpers import (
    ASCII,
    LONG,
    RATIONAL,
    exif_segment,
    make_context,
    textured,
)

CAMERA = {0x010F: (ASCII, "Canon"), 0x0110: (ASCII, "Canon EOS 80D")}


# The checks this file covers; the pixel checks (ELA, JPEG, thumbnail) have their own tests.
METADATA_CHECKS = {
    "metadata-stripped",
    "editing-software",
    "dimension-mismatch",
    "capture-time",
    "gps",
    "extension",
}


def codes(path: Path, tmp_path: Path, **context) -> dict[str, list]:
    ctx = make_context(path, tmp_path / "derived", **context)
    found: dict[str, list] = {}
    for name, check in CHECKS:
        if name in METADATA_CHECKS:
            for finding in check(ctx):
                found.setdefault(finding.code, []).append(finding)
    return found


def camera_jpeg(path: Path, ifd0=None, exif=None, gps=None, size=(320, 240), **save) -> Path:
    segment = exif_segment({**CAMERA, **(ifd0 or {})}, exif or {}, gps)
    textured(size).save(path, quality=92, exif=segment, **save)
    return path


def corpus_rows(flag: str | None = None, kind: str = "image") -> list[dict]:
    return [r for r in manifest() if r["kind"] == kind and (flag is None or flag in r["flags"])]


# metadata-stripped


def test_stripped_jfif_only_file_resembles_messaging_apps(tmp_path):
    path = tmp_path / "photo.jpg"
    textured((1280, 960)).save(path, quality=80)
    (finding,) = codes(path, tmp_path)["metadata-stripped"]
    assert finding.severity == "notice"
    assert finding.evidence == {
        "exif_tag_count": 0,
        "jpeg_segments": ["APP0:JFIF"],
        "width": 1280,
        "height": 960,
        "patterns": ["jfif-only-header", "long-edge-1280"],
        "resembles": ["Facebook", "Telegram", "WhatsApp", "X/Twitter"],
    }


def test_camera_exif_is_not_stripped(tmp_path):
    path = camera_jpeg(tmp_path / "camera.jpg")
    assert "metadata-stripped" not in codes(path, tmp_path)


@needs_corpus
@pytest.mark.parametrize(
    ("rel", "stripped"),
    [
        ("exifr/noexif.jpg", True),
        ("mde/noExif.jpg", True),
        ("exifr/img_1771_no_exif.jpg", True),
        ("mde/simple.jpg", False),
        ("exifr/heic-iphone.heic", False),
        ("exifr/canon-dslr.jpg", False),
    ],
)
def test_stripped_corpus_files(tmp_path, rel, stripped):
    assert ("metadata-stripped" in codes(FILES / rel, tmp_path)) is stripped


# editing-software


@pytest.mark.parametrize(
    ("software", "program", "version"),
    [
        ("Adobe Photoshop CC 2015 (Macintosh)", "Adobe Photoshop", "CC 2015"),
        ("Adobe Photoshop Lightroom 6.1 (Windows)", "Adobe Lightroom", "6.1"),
        ("GIMP 2.10.14", "GIMP", "2.10.14"),
        ("Photos 1.5", "Apple Photos", "1.5"),
        ("darktable 4.2.0", "darktable", "4.2.0"),
        ("HDR+ 1.0.199571065z", None, None),
        ("Ver.1.0", None, None),
        ("G973FXXUFHVG4", None, None),
    ],
)
def test_identify_names_known_editors(software, program, version):
    assert identify(software) == {"program": program, "version": version}


# Real Software strings of cameras and phones (make, model as the file names them),
# and of programs that are not firmware, some by the camera's own maker.
FIRMWARE_STRINGS = [
    ("Ver.1.00 ", "NIKON CORPORATION", "NIKON D750"),
    ("NIKON D750 Ver.1.10", "NIKON CORPORATION", "NIKON D750"),
    ("COOLPIX P900V1.2", "NIKON", "COOLPIX P900"),
    ("E5700v1.1", "NIKON", "E5700"),
    ("ILCE-7M3 v3.01", "SONY", "ILCE-7M3"),
    ("Digital Camera X100V Ver2.00", "FUJIFILM", "X100V"),
    ("Digital Camera FinePix S1 Pro Ver1.00", "FUJIFILM", "FinePixS1Pro"),
    ("Version 1.0", "OLYMPUS IMAGING CORP.", "E-M10MarkII"),
    ("PENTAX K-5 II s Ver 1.02", "PENTAX", "PENTAX K-5 II s"),
    ("K-1 Ver 1.50", "RICOH IMAGING COMPANY, LTD.", "PENTAX K-1"),
    ("RICOH THETA S Ver 1.62", "RICOH", "RICOH THETA S"),
    ("Firmware Version 1.0.2", "Canon", "Canon EOS R5"),
    ("DiMAGE A1 Ver1.00u", "Konica Minolta Camera, Inc.", "DiMAGE A1"),
    ("V1.2.3 build 4567", "DJI", "FC3170"),
    ("V01.06.0018", "DJI", "FC3170"),
    ("HD7.01.01.90.00", "GoPro", "HERO7 Black"),
    ("G960FXXU2CRJB", "samsung", "SM-G960F"),
    ("ANE-LX1 9.1.0.252(C432E4R1P5)", "HUAWEI", "ANE-LX1"),
    ("50.1.A.4.76", "Sony", "G8341"),
    ("dipper-user 10 QKQ1.190828.002 V12.0.2.0.QEACNXM release-keys", "Xiaomi", "MI 8"),
    ("MediaTek Camera Application", "Xiaomi", "Redmi Note 9"),
    ("MIUI Camera", "Xiaomi", "Mi 9"),
    ("iOS 17.1", "Apple", "iPhone 15 Pro"),
    ("17.1", "Apple", "iPhone 15 Pro"),
    ("HDR+ 1.0.412297946zd", "Google", "Pixel 6"),
    ("1.01", None, None),
]
PROGRAM_STRINGS = [
    ("QuickTime 6.0.2", "Canon", "Canon PowerShot S330"),
    ("Nikon Transfer 2.0", "NIKON CORPORATION", "NIKON D700"),
    ("ViewNX 2.10 W", "NIKON CORPORATION", "NIKON D700"),
    ("Digital Photo Professional", "Canon", "Canon EOS 5D"),
    ("SIGMA Photo Pro 6.5", "SIGMA", "SIGMA fp"),
    ("EPSON Scan", "EPSON", "Perfection V600"),
    ("Samsung Gallery", "samsung", "SM-G973F"),
    ("Instagram", "Apple", "iPhone 12"),
    ("Microsoft Office", None, None),
    ("Adobe Illustrator 27.0 (Windows)", None, None),
    ("ImageJ 1.53t", None, None),
    ("MATLAB", None, None),
    ("macOS 13.4.1 (22F82)", None, None),
    # Another maker's camera software: iOS on a Samsung, HDR+ on a Canon.
    ("iOS 17.1", "samsung", "SM-G973F"),
    ("HDR+ 1.0.199571065z", "Canon", "Canon PowerShot S40"),
]


@pytest.mark.parametrize(("software", "make", "model"), FIRMWARE_STRINGS)
def test_camera_and_phone_firmware_is_recognised(software, make, model):
    assert is_firmware(software, make, model)


@pytest.mark.parametrize(("software", "make", "model"), PROGRAM_STRINGS)
def test_programs_are_not_firmware(software, make, model):
    assert not is_firmware(software, make, model)


def test_editing_software_from_exif_software(tmp_path):
    path = camera_jpeg(tmp_path / "edited.jpg", ifd0={0x0131: (ASCII, "GIMP 2.10.36")})
    (finding,) = codes(path, tmp_path)["editing-software"]
    assert finding.evidence == {
        "programs": [
            {
                "source": "EXIF Software",
                "value": "GIMP 2.10.36",
                "program": "GIMP",
                "version": "2.10.36",
            }
        ],
        "other_software": [],
        "firmware": [],
        "make": "Canon",
        "model": "Canon EOS 80D",
        "xmp_history": {"actions": [], "agents": []},
        "photoshop_resource_ids": [],
    }
    assert finding.message.startswith("This file was saved by editing software: GIMP 2.10.36.")


def test_unlisted_program_is_reported(tmp_path):
    path = camera_jpeg(tmp_path / "made.jpg", ifd0={0x0131: (ASCII, "Acme Retoucher 3.2")})
    (finding,) = codes(path, tmp_path)["editing-software"]
    assert finding.severity == "notice"
    assert finding.evidence["programs"] == []
    assert finding.evidence["other_software"] == [
        {"source": "EXIF Software", "value": "Acme Retoucher 3.2"}
    ]
    assert finding.message.startswith(
        'This file was saved by software "Acme Retoucher 3.2", not recognised as camera firmware.'
    )


def test_camera_firmware_software_is_not_editing(tmp_path):
    path = camera_jpeg(tmp_path / "camera.jpg", ifd0={0x0131: (ASCII, "Firmware Version 1.0.2")})
    assert "editing-software" not in codes(path, tmp_path)


def other_software_rows() -> list[dict]:
    return [r for r in corpus_rows() if other_software(r["file"])]


@needs_corpus
@pytest.mark.parametrize("row", other_software_rows(), ids=lambda r: r["file"])
def test_software_other_than_firmware_is_reported(tmp_path, row):
    (finding,) = codes(FILES / row["file"], tmp_path)["editing-software"]
    reported = finding.evidence["programs"] + finding.evidence["other_software"]
    assert {s["value"] for s in reported} == other_software(row["file"])
    firmware = {s["value"] for s in finding.evidence["firmware"]}
    assert firmware == set(software_names(row["file"])) - other_software(row["file"])


@needs_corpus
@pytest.mark.parametrize(
    "row", [r for r in corpus_rows() if firmware_only(r["file"])], ids=lambda r: r["file"]
)
def test_firmware_alone_is_left_alone(tmp_path, row):
    assert "editing-software" not in codes(FILES / row["file"], tmp_path)


@needs_corpus
@pytest.mark.parametrize("row", other_software_rows(), ids=lambda r: r["file"])
def test_no_finding_depends_on_the_list_of_editors(tmp_path, row, monkeypatch):
    monkeypatch.setattr(metadata_signals, "EDITORS", [])
    (finding,) = codes(FILES / row["file"], tmp_path)["editing-software"]
    assert {s["value"] for s in finding.evidence["other_software"]} == other_software(row["file"])


@needs_corpus
@pytest.mark.parametrize(
    ("rel", "message"),
    [
        (
            "elodie/with-null-coordinates.jpg",
            "This file was saved by editing software: GIMP 2.10.14.",
        ),
        (
            "mde/simple.jpg",
            'This file was saved by software "QuickTime 6.0.2", not recognised as camera firmware.',
        ),
        (
            "exifr/png/IMG_20180725_163423-2.png",
            "This file was saved by editing software: Adobe ImageReady.",
        ),
    ],
)
def test_corpus_software_messages(tmp_path, rel, message):
    (finding,) = codes(FILES / rel, tmp_path)["editing-software"]
    assert finding.message.startswith(message + " Newsrooms and photographers routinely crop")


@needs_corpus
@pytest.mark.parametrize(
    "row",
    [
        r
        for r in corpus_rows()
        if not software_names(r["file"]) and "photoshop_irb" not in r["flags"]
    ],
    ids=lambda r: r["file"],
)
def test_no_editing_software_without_software_names(tmp_path, row):
    assert "editing-software" not in codes(FILES / row["file"], tmp_path)


@needs_corpus
def test_photoshop_resource_block_alone_counts_as_editing(tmp_path):
    (finding,) = codes(FILES / "mde/withIptc.jpg", tmp_path)["editing-software"]
    assert finding.evidence["programs"] == []
    assert finding.evidence["other_software"] == []
    assert finding.evidence["photoshop_resource_ids"] == [
        1005, 1011, 1013, 1016, 1030, 1032, 1034, 1036, 1037, 1044, 10000
    ]  # fmt: skip
    assert finding.message.startswith(
        "The file has a Photoshop image resource block, which Photoshop writes when it saves."
    )


@needs_corpus
def test_xmp_edit_history_is_evidence(tmp_path):
    (finding,) = codes(FILES / "elodie/plain.jpg", tmp_path)["editing-software"]
    history = finding.evidence["xmp_history"]
    assert history["agents"] == [
        "Adobe Photoshop CC 2015 (Macintosh)",
        "Adobe Photoshop CS5 Macintosh",
    ]
    assert history["actions"].count("saved") == 6


# dimension-mismatch


def test_cropped_picture_keeps_declared_size(tmp_path):
    exif = {0xA002: (LONG, 4000), 0xA003: (LONG, 3000)}
    path = camera_jpeg(tmp_path / "crop.jpg", exif=exif, size=(400, 400))
    (finding,) = codes(path, tmp_path)["dimension-mismatch"]
    assert finding.evidence == {
        "declared_width": 4000,
        "declared_height": 3000,
        "width": 400,
        "height": 400,
        "same_aspect_ratio": False,
    }
    assert "cropped" in finding.message


def test_matching_declared_size_is_quiet(tmp_path):
    exif = {0xA002: (LONG, 320), 0xA003: (LONG, 240)}
    path = camera_jpeg(tmp_path / "same.jpg", exif=exif)
    assert "dimension-mismatch" not in codes(path, tmp_path)


@needs_corpus
@pytest.mark.parametrize("row", corpus_rows(), ids=lambda r: r["file"])
def test_dimension_mismatch_matches_corpus_flags(tmp_path, row):
    found = "dimension-mismatch" in codes(FILES / row["file"], tmp_path)
    assert found is ("exif_dims_mismatch" in row["flags"])


# capture-time-inconsistent

ORIGINAL = 0x9003
MODIFIED = 0x0132
OFFSET_ORIGINAL, OFFSET_DIGITIZED = 0x9011, 0x9012


def test_capture_after_posting_is_a_warning(tmp_path):
    exif = {ORIGINAL: (ASCII, "2024:03:10 18:00:00"), OFFSET_ORIGINAL: (ASCII, "+02:00")}
    path = camera_jpeg(tmp_path / "late.jpg", exif=exif)
    posted = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    (finding,) = codes(path, tmp_path, posted_at=posted)["capture-time-inconsistent"]
    assert finding.severity == "warning"
    assert finding.evidence == {
        "reason": "after-posting",
        "captured_at": "2024-03-10T18:00:00+02:00",
        "posted_at": "2024-03-10T12:00:00+00:00",
        "gap_days": -0.17,
        "zone_known": True,
    }


def test_capture_long_before_posting_suggests_recycling(tmp_path):
    exif = {ORIGINAL: (ASCII, "2022:02:24 05:00:00")}
    path = camera_jpeg(tmp_path / "old.jpg", exif=exif)
    posted = datetime(2024, 2, 24, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    (finding,) = codes(path, tmp_path, posted_at=posted)["capture-time-inconsistent"]
    assert finding.severity == "notice"
    assert finding.evidence["reason"] == "long-before-posting"
    assert finding.evidence["gap_days"] == 730.04
    assert finding.evidence["zone_known"] is False


def test_capture_shortly_before_posting_is_consistent(tmp_path):
    exif = {ORIGINAL: (ASCII, "2024:03:10 09:00:00")}
    path = camera_jpeg(tmp_path / "fresh.jpg", exif=exif)
    posted = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    assert "capture-time-inconsistent" not in codes(path, tmp_path, posted_at=posted)


def test_naive_capture_time_gets_time_zone_slack(tmp_path):
    # 10 hours "after" posting can still be the same moment in another time zone.
    exif = {ORIGINAL: (ASCII, "2024:03:10 22:00:00")}
    path = camera_jpeg(tmp_path / "zone.jpg", exif=exif)
    posted = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    assert "capture-time-inconsistent" not in codes(path, tmp_path, posted_at=posted)


def test_modified_before_capture(tmp_path):
    path = camera_jpeg(
        tmp_path / "backdated.jpg",
        ifd0={MODIFIED: (ASCII, "2020:01:01 10:00:00")},
        exif={ORIGINAL: (ASCII, "2023:05:01 10:00:00")},
    )
    (finding,) = codes(path, tmp_path)["capture-time-inconsistent"]
    assert finding.evidence == {
        "reason": "modified-before-capture",
        "captured_at": "2023-05-01T10:00:00",
        "modified_at": "2020-01-01T10:00:00",
    }


def test_offsets_that_disagree(tmp_path):
    exif = {
        ORIGINAL: (ASCII, "2023:05:01 10:00:00"),
        OFFSET_ORIGINAL: (ASCII, "+03:00"),
        OFFSET_DIGITIZED: (ASCII, "-05:00"),
    }
    path = camera_jpeg(tmp_path / "zones.jpg", exif=exif)
    (finding,) = codes(path, tmp_path)["capture-time-inconsistent"]
    assert finding.evidence == {
        "reason": "offsets-disagree",
        "offsets": {"EXIF OffsetTimeOriginal": "+03:00", "EXIF OffsetTimeDigitized": "-05:00"},
    }


GPS_DATE, GPS_TIME = 0x001D, 0x0007


def gps_clock(date: str, hms: list[tuple[int, int]]) -> dict:
    return {GPS_DATE: (ASCII, date), GPS_TIME: (RATIONAL, hms)}


def test_gps_clock_against_declared_offset(tmp_path):
    exif = {ORIGINAL: (ASCII, "2024:03:10 18:00:00"), OFFSET_ORIGINAL: (ASCII, "+03:00")}
    gps = gps_clock("2024:03:10", [(9, 1), (0, 1), (0, 1)])
    path = camera_jpeg(tmp_path / "clock.jpg", exif=exif, gps=gps)
    (finding,) = codes(path, tmp_path)["capture-time-inconsistent"]
    assert finding.evidence == {
        "reason": "gps-clock-disagrees",
        "captured_at": "2024-03-10T18:00:00",
        "gps_time": "2024-03-10T09:00:00Z",
        "offset_hours": 9.0,
        "declared_offset": "+03:00",
    }


def test_gps_clock_within_a_time_zone_is_consistent(tmp_path):
    exif = {ORIGINAL: (ASCII, "2024:03:10 18:00:00")}
    gps = gps_clock("2024:03:10", [(12, 1), (29, 1), (113, 5)])  # UTC+5:30
    path = camera_jpeg(tmp_path / "india.jpg", exif=exif, gps=gps)
    assert "capture-time-inconsistent" not in codes(path, tmp_path)


# A Canon capture time of 2003 with a Pixel's GPS block of 2018 pasted in.
FRANKENSTEIN = "exifr/png/png_with_exif_and_gps.png"


@needs_corpus
@pytest.mark.parametrize("row", corpus_rows(), ids=lambda r: r["file"])
def test_no_capture_time_findings_on_corpus_pictures_without_a_claim(tmp_path, row):
    found = codes(FILES / row["file"], tmp_path).get("capture-time-inconsistent", [])
    assert [f.evidence["reason"] for f in found] == (
        ["gps-clock-disagrees"] if row["file"] == FRANKENSTEIN else []
    )


@needs_corpus
def test_corpus_capture_time_against_posting(tmp_path):
    rel = "exifr/canon-dslr.jpg"  # captured 2019-10-26 16:07:24, no offset
    late = codes(FILES / rel, tmp_path, posted_at=datetime(2019, 10, 26, 1, tzinfo=UTC))
    assert late["capture-time-inconsistent"][0].evidence["reason"] == "after-posting"
    old = codes(FILES / rel, tmp_path, posted_at=datetime(2022, 2, 24, tzinfo=UTC))
    assert old["capture-time-inconsistent"][0].evidence["gap_days"] == 851.33


# gps-present and gps-far-from-claim

GPS = {
    0x0001: (ASCII, "N"),
    0x0002: (RATIONAL, [(50, 1), (27, 1), (0, 1)]),
    0x0003: (ASCII, "E"),
    0x0004: (RATIONAL, [(30, 1), (31, 1), (12, 1)]),
}


def test_gps_near_the_claim(tmp_path):
    path = camera_jpeg(tmp_path / "kyiv.jpg", gps=GPS)
    found = codes(path, tmp_path, claimed_location=(50.4501, 30.5234))
    (finding,) = found["gps-present"]
    assert finding.evidence == {
        "latitude": 50.45,
        "longitude": 30.52,
        "altitude": None,
        "claimed_latitude": 50.4501,
        "claimed_longitude": 30.5234,
        "distance_km": 0.2,
    }
    assert "gps-far-from-claim" not in found


def test_gps_far_from_the_claim(tmp_path):
    path = camera_jpeg(tmp_path / "kyiv.jpg", gps=GPS)
    found = codes(path, tmp_path, claimed_location=(48.0159, 37.8028))
    (far,) = found["gps-far-from-claim"]
    assert far.severity == "warning"
    assert far.evidence["distance_km"] == 593.7
    assert far.evidence["threshold_km"] == 50.0


def test_no_gps_no_finding(tmp_path):
    path = camera_jpeg(tmp_path / "nogps.jpg")
    found = codes(path, tmp_path, claimed_location=(48.0, 37.8))
    assert not {"gps-present", "gps-far-from-claim"} & set(found)


@needs_corpus
@pytest.mark.parametrize("row", corpus_rows(), ids=lambda r: r["file"])
def test_gps_present_matches_corpus(tmp_path, row):
    found = codes(FILES / row["file"], tmp_path)
    has_gps = "gps" in row["flags"].split(";")
    assert ("gps-present" in found) is has_gps
    if has_gps:
        evidence = found["gps-present"][0].evidence
        assert evidence["latitude"] == pytest.approx(float(row["GPSLatitude"]), abs=1e-5)
        assert evidence["longitude"] == pytest.approx(float(row["GPSLongitude"]), abs=1e-5)


@needs_corpus
@pytest.mark.parametrize("row", corpus_rows(kind="video"), ids=lambda r: r["file"])
def test_video_gps_present_matches_corpus(tmp_path, row):
    found = codes(FILES / row["file"], tmp_path, claimed_location=(38.19, -119.96))
    has_gps = "gps" in row["flags"].split(";")
    assert ("gps-present" in found) is has_gps
    if has_gps:
        evidence = found["gps-present"][0].evidence
        assert evidence["latitude"] == pytest.approx(float(row["GPSLatitude"]), abs=1e-4)
        assert ("gps-far-from-claim" in found) is (evidence["distance_km"] > 50)


@needs_corpus
def test_corpus_gps_far_from_claim(tmp_path):
    # with-location.jpg was taken near Sunnyvale, California.
    found = codes(FILES / "elodie/with-location.jpg", tmp_path, claimed_location=(48.0159, 37.8028))
    assert found["gps-far-from-claim"][0].evidence["distance_km"] == 10313.0


# extension-mismatch


def test_png_named_jpg(tmp_path):
    path = tmp_path / "blob"
    textured((64, 64)).save(path, format="PNG")
    (finding,) = codes(path, tmp_path, original_name="../../etc/IMG_0001.JPG")["extension-mismatch"]
    assert finding.evidence == {
        "extension": "jpg",
        "mime": "image/png",
        "expected": ["png", "apng"],
    }
    assert finding.message.startswith(
        "The file's name ends in .jpg but it is a PNG picture (image/png). Files are often renamed"
    )


@pytest.mark.parametrize(
    ("mime", "words"),
    [
        ("image/png", "a PNG picture (image/png)"),
        ("video/quicktime", "a QuickTime video (video/quicktime)"),
        ("video/x-msvideo", "an AVI video (video/x-msvideo)"),
        ("audio/mpeg", "an MP3 audio file (audio/mpeg)"),
        ("image/heic", "a HEIC picture (image/heic)"),
        ("audio/x-m4a", "an M4A audio file (audio/x-m4a)"),
    ],
)
def test_content_types_in_words(mime, words):
    assert describe_type(mime) == words


@pytest.mark.parametrize("name", ["IMG_0001.jpeg", "photo.JFIF", "no_extension", ".hidden", ""])
def test_honest_or_missing_extensions(tmp_path, name):
    path = tmp_path / "blob"
    textured((64, 64)).save(path, format="JPEG")
    assert "extension-mismatch" not in codes(path, tmp_path, original_name=name)


@needs_corpus
@pytest.mark.parametrize("row", manifest(), ids=lambda r: r["file"])
def test_corpus_names_match_their_content(tmp_path, row):
    if not (FILES / row["file"]).stat().st_size:
        return
    assert "extension-mismatch" not in codes(FILES / row["file"], tmp_path)
