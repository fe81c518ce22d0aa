"""Video metadata and keyframes: corpus videos against ffprobe and ExifTool, synthetic clips."""

import json
import math
import os
import re
import struct
from fractions import Fraction
from pathlib import Path

import av
import imagehash
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from mediacheck.errors import UnsupportedMedia
from mediacheck.media.hashes import compute_hashes, hamming
from mediacheck.media.pictures import open_picture
from mediacheck.media.video import keyframes
from mediacheck.media.video.gopro import child_box, read_gopro, read_klv
from mediacheck.media.video.keyframes import (
    CONTACT_SHEET,
    extract_keyframes,
    keyframe_name,
    timestamp,
)
from mediacheck.media.video.probe import (
    SUMMARY_KEYS,
    VIDEO_KEYS,
    captured_at,
    parse_iso6709,
    probe_video,
)
from tests.corpus import C2PA, CORPUS, FILES, TRUTH, exiftool_truth, needs_corpus
from tests.video_clips import iphone_video, write_audio, write_clip

CORPUS_VIDEOS = ["elodie/video.mov", "mde/with-gps.mov", "gpmf/karma.mp4", "gpmf/max-heromode.mp4"]
KEYFRAME_FILE = re.compile(r"keyframe-\d{4}-\d{6}\.\d{3}s\.jpg")

CORPUS_RAWS = CORPUS / "raw" / "files"


def ffprobe_truth(rel: str) -> dict:
    return json.loads((TRUTH / f"{rel}.ffprobe.json").read_text())


def keyframe_truth(rel: str) -> list[float]:
    frames = json.loads((TRUTH / f"{rel}.keyframes.json").read_text())["frames"]
    return [float(f["best_effort_timestamp_time"]) for f in frames]


def truth_stream(rel: str, kind: str) -> dict | None:
    return next((s for s in ffprobe_truth(rel)["streams"] if s["codec_type"] == kind), None)


def exiftool_date(value: str) -> str:
    """ExifTool's 2015:01:19 12:45:11-08:00 as ISO 8601."""
    return value[:10].replace(":", "-") + "T" + value[11:]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


# Corpus videos: ffprobe and ExifTool are the reference.


@needs_corpus
@pytest.mark.parametrize("rel", CORPUS_VIDEOS)
def test_probe_agrees_with_ffprobe(rel):
    probe = probe_video(FILES / rel)
    truth = ffprobe_truth(rel)
    video, audio = truth_stream(rel, "video"), truth_stream(rel, "audio")
    summary = probe.summary
    assert probe.kind == "video"
    assert probe.errors == []
    assert set(summary) == set(SUMMARY_KEYS)
    assert abs(summary["duration_s"] - float(truth["format"]["duration"])) < 0.1
    assert summary["video_codec"] == video["codec_name"]
    assert summary["audio_codec"] == audio["codec_name"]
    assert (summary["width"], summary["height"]) == (video["width"], video["height"])
    assert summary["fps"] == round(float(Fraction(video["avg_frame_rate"])), 3)
    matrix_rotation = next(
        (d["rotation"] for d in video.get("side_data_list", []) if "rotation" in d), 0
    )
    assert summary["rotation"] == -matrix_rotation % 360
    assert (
        summary["container"]
        == {"qt  ": "mov", "mp41": "mp4"}[truth["format"]["tags"]["major_brand"]]
    )
    assert probe.video == {key: summary[key] for key in VIDEO_KEYS}
    assert probe.metadata["format"]["tags"] == truth["format"]["tags"]


@needs_corpus
@pytest.mark.parametrize("rel", CORPUS_VIDEOS)
def test_probe_agrees_with_exiftool(rel):
    summary = probe_video(FILES / rel).summary
    truth = exiftool_truth(rel)
    assert summary["rotation"] == truth["Composite:Rotation"]
    if "Keys:CreationDate" in truth:
        assert summary["captured_at"] == exiftool_date(truth["Keys:CreationDate"])
    else:
        assert summary["captured_at"] == exiftool_date(truth["QuickTime:CreateDate"])
    assert summary["gps_latitude"] == truth.get("Composite:GPSLatitude")
    assert summary["gps_longitude"] == truth.get("Composite:GPSLongitude")
    assert summary["gps_altitude"] == truth.get("Composite:GPSAltitude")
    model = truth.get("Keys:Model") or truth.get("UserData:Model") or truth.get("GoPro:Model")
    make = truth.get("Keys:Make") or truth.get("UserData:Make")
    if "GoPro:Model" in truth:
        make = "GoPro"  # GoPro writes no make; its GPMF box is its own
    assert (summary["make"], summary["model"]) == (make, model)


@needs_corpus
def test_iphone_summary_in_full():
    probe = probe_video(FILES / "mde" / "with-gps.mov")
    assert probe.video == iphone_video(probe.summary["bit_rate"])
    assert 870_000 < probe.summary["bit_rate"] < 890_000
    streams = probe.metadata["streams"]
    assert [s["type"] for s in streams] == ["audio", "video", "data", "data"]
    assert streams[1]["rotation"] == 90
    assert streams[1]["tags"]["handler_name"] == "Core Media Video"


@needs_corpus
def test_gopro_firmware_is_the_software():
    summary = probe_video(FILES / "gpmf" / "karma.mp4").summary
    assert summary["software"] == "HD5.02.02.00.00"
    assert summary["encoder"] == "GoPro AVC encoder"
    # The telemetry track runs to 13.013 s; the picture and sound stop at 12.079 s.
    assert summary["duration_s"] == 12.078733


@needs_corpus
@pytest.mark.parametrize("rel", CORPUS_VIDEOS)
def test_corpus_keyframes_are_real_keyframes(rel, tmp_path):
    result = extract_keyframes(FILES / rel, tmp_path)
    truth = keyframe_truth(rel)
    times = [k.time_s for k in result.keyframes]
    assert result.errors == []
    assert times[0] == 0.0
    assert all(min(abs(t - k) for k in truth) < 0.001 for t in times)
    # Keyframes less than half a second apart add nothing: every one is within that of a kept one.
    assert all(min(abs(t - k) for t in times) < 0.5 for k in truth)
    assert [k.index for k in result.keyframes] == list(range(len(times)))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [k.file for k in result.keyframes] + [CONTACT_SHEET]
    )


@needs_corpus
def test_corpus_keyframe_counts(tmp_path):
    counts = {
        rel: len(extract_keyframes(FILES / rel, tmp_path / rel).keyframes) for rel in CORPUS_VIDEOS
    }
    # GoPro writes a keyframe every 0.27 s (karma) or 0.33 s (max): every other one is kept.
    assert counts == {
        "elodie/video.mov": 2,
        "mde/with-gps.mov": 4,
        "gpmf/karma.mp4": 23,
        "gpmf/max-heromode.mp4": 16,
    }


@needs_corpus
def test_gopro_model_and_serial_from_its_gpmf_box():
    probe = probe_video(FILES / "gpmf" / "max-heromode.mp4")
    assert probe.metadata["gopro"] == {
        "firmware": "H19.03.01.30.00",
        "serial_number": "C3353424500199",
        "model": "GoPro Max",
    }
    assert "gopro" not in probe_video(FILES / "gpmf" / "karma.mp4").metadata


def gpmf_record(key: bytes, kind: str, payload: bytes, size: int = 1) -> bytes:
    padded = payload + b"\0" * (-len(payload) % 4)
    return key + struct.pack(">cBH", kind.encode(), size, len(payload) // size) + padded


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload) + 8) + kind + payload


def test_gopro_box_parser(tmp_path):
    settings = gpmf_record(b"MINF", "c", b"HERO11 Black") + gpmf_record(b"CASN", "c", b"C34\0")
    nested = b"DEVC" + struct.pack(">cBH", b"\0", 4, len(settings) // 4) + settings
    path = tmp_path / "gopro.mp4"
    path.write_bytes(
        box(b"ftyp", b"mp41\0\0\0\0")
        + box(b"mdat", b"\0" * 100)
        + box(b"moov", box(b"udta", box(b"GPMF", nested)))
    )
    assert read_gopro(path) == {"model": "HERO11 Black", "serial_number": "C34"}


def test_gopro_box_parser_survives_deep_nesting(tmp_path):
    payload = gpmf_record(b"MINF", "c", b"Deep")
    for _ in range(5000):
        payload = b"DEVC" + struct.pack(">cBH", b"\0", 4, len(payload) // 4) + payload
    path = tmp_path / "deep.mp4"
    path.write_bytes(box(b"moov", box(b"udta", box(b"GPMF", payload))))
    assert read_gopro(path) == {}


@given(st.binary(max_size=300))
def test_gopro_box_parser_never_raises(data):
    found: dict[str, str] = {}
    read_klv(data, found, depth=0)
    assert set(found) <= {"model", "serial_number", "firmware"}
    child_box(data, b"udta")


@needs_corpus
def test_rotated_iphone_keyframes_are_upright(tmp_path):
    result = extract_keyframes(FILES / "mde" / "with-gps.mov", tmp_path)
    first = result.keyframes[0]
    assert first.file == "keyframe-0000-000000.000s.jpg"
    assert (first.width, first.height) == (320, 568)
    with Image.open(tmp_path / first.file) as picture:
        assert picture.size == (320, 568)
        assert picture.format == "JPEG"
        saved_phash = str(imagehash.phash(picture))
    assert hamming(saved_phash, first.hashes["phash"]) <= 6
    assert set(first.hashes) == {"phash", "dhash", "pdq"}
    assert [len(first.hashes[k]) for k in ("phash", "dhash", "pdq")] == [16, 16, 64]
    assert 0 <= first.pdq_quality <= 100


@needs_corpus
@pytest.mark.parametrize("rel", ["mde/with-gps.mov", "gpmf/karma.mp4"])
def test_keyframe_posted_as_a_photo_hashes_alike(rel, tmp_path):
    # A frame grab posted as a photo goes through the picture intake: the hashes must agree.
    for keyframe in extract_keyframes(FILES / rel, tmp_path).keyframes[:3]:
        photo = compute_hashes(open_picture(tmp_path / keyframe.file).image).hashes
        distances = [hamming(photo[name], keyframe.hashes[name]) for name in ("phash", "dhash")]
        assert max(distances) <= 4
        assert hamming(photo["pdq"], keyframe.hashes["pdq"]) <= 8


@pytest.mark.parametrize("size", [(160, 96), (1088, 1040), (2064, 1040)])
def test_look_sees_each_keyframe_as_its_saved_file_decodes(size, tmp_path):
    # Intake fingerprints keyframes from memory: the pixels must be those of the saved file,
    # at the scale open_picture decodes it (1; 1/2; 1/2 and a thumbnail to 1024 px).
    clip = write_clip(tmp_path / "clip.mp4", seconds=2, size=size)
    found = extract_keyframes(clip, tmp_path / "frames", look=lambda picture: picture.copy())
    assert len(found.looks) == len(found.keyframes) == 2
    for keyframe, picture in zip(found.keyframes, found.looks, strict=True):
        saved = open_picture(tmp_path / "frames" / keyframe.file).image
        assert picture.size == saved.size
        assert np.array_equal(np.asarray(picture), np.asarray(saved))


@needs_corpus
@pytest.mark.parametrize("rel", ["mde/with-gps.mov", "gpmf/karma.mp4"])
def test_look_sees_corpus_keyframes_as_their_saved_files_decode(rel, tmp_path):
    found = extract_keyframes(FILES / rel, tmp_path, look=lambda picture: picture.copy())
    for keyframe, picture in zip(found.keyframes, found.looks, strict=True):
        saved = open_picture(tmp_path / keyframe.file).image
        assert np.array_equal(np.asarray(picture), np.asarray(saved))


@needs_corpus
def test_contact_sheet_holds_every_keyframe(tmp_path):
    result = extract_keyframes(FILES / "gpmf" / "max-heromode.mp4", tmp_path)
    assert result.contact_sheet == CONTACT_SHEET
    with Image.open(tmp_path / CONTACT_SHEET) as sheet:
        # 16 tiles of 240 x 136 (848 x 480 scaled) plus an 18 px label, six to a row.
        assert sheet.size == (6 * 240, 3 * (136 + 18))


@needs_corpus
def test_c2pa_video_has_one_keyframe(tmp_path):
    path = C2PA / "files" / "video1.mp4"
    probe = probe_video(path)
    assert (probe.summary["width"], probe.summary["height"], probe.summary["duration_s"]) == (
        720,
        1280,
        2.0,
    )
    assert [k.time_s for k in extract_keyframes(path, tmp_path).keyframes] == [0.0]


# Containers and codecs beyond the corpus.


@pytest.mark.parametrize(
    ("name", "encoder", "codec", "container", "size"),
    [
        ("clip.mkv", "libx264", "h264", "matroska", (160, 96)),
        ("clip.webm", "libvpx-vp9", "vp9", "webm", (160, 96)),
        ("clip.avi", "mpeg4", "mpeg4", "avi", (160, 96)),
        ("clip.3gp", "h263", "h263", "3gp", (176, 144)),
        ("clip.mov", "libx264", "h264", "mov", (160, 96)),
        ("clip.av1.webm", "libsvtav1", "av1", "webm", (160, 96)),
        ("clip.ts", "libx264", "h264", "mpegts", (160, 96)),
        ("clip.m2ts", "mpeg2video", "mpeg2video", "mpegts", (160, 96)),
    ],
)
def test_containers(clips, name, encoder, codec, container, size):
    path = write_clip(clips / name, codec=encoder, size=size)
    probe = probe_video(path)
    assert (probe.kind, probe.errors) == ("video", [])
    assert probe.summary["container"] == container
    assert probe.summary["video_codec"] == codec
    assert probe.summary["duration_s"] == 3.0
    assert (probe.summary["width"], probe.summary["height"]) == size
    assert probe.summary["fps"] == 10.0
    result = extract_keyframes(path, clips / f"{name}-frames")
    assert [k.time_s for k in result.keyframes] == [0.0, 1.0, 2.0]
    assert result.errors == []


def test_h263_pixels_are_not_square(clips):
    # QCIF's 12:11 pixel aspect: 176 stored pixels are 192 wide on screen.
    path = write_clip(clips / "qcif.3gp", codec="h263", size=(176, 144))
    keyframe = extract_keyframes(path, clips / "qcif").keyframes[0]
    assert (keyframe.width, keyframe.height) == (192, 144)


def test_location_creation_time_and_rotation_tags(tmp_path):
    path = write_clip(
        tmp_path / "tagged.mp4",
        rotation=90,
        tags={"location": "+12.3456-045.6789+100.5/", "creation_time": "2020-05-06T07:08:09Z"},
    )
    probe = probe_video(path)
    assert probe.summary["gps_latitude"] == 12.3456
    assert probe.summary["gps_longitude"] == -45.6789
    assert probe.summary["gps_altitude"] == 100.5
    assert probe.summary["captured_at"] == "2020-05-06T07:08:09"
    # FFmpeg's display rotation is counter-clockwise; ours is ExifTool's clockwise turn.
    assert probe.summary["rotation"] == 270
    keyframe = extract_keyframes(path, tmp_path / "frames").keyframes[0]
    assert (keyframe.width, keyframe.height) == (96, 160)


def test_meaningless_display_matrix_is_no_rotation(tmp_path):
    path = tmp_path / "zeros.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.set_display_matrix([0] * 9)
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert probe_video(path).summary["rotation"] == 0
    keyframe = extract_keyframes(path, tmp_path / "frames").keyframes[0]
    assert (keyframe.width, keyframe.height) == (64, 48)


def test_long_gop_gets_frames_at_the_cut_and_at_intervals(tmp_path):
    path = write_clip(tmp_path / "long.mkv", seconds=12, gop=1000, cut_at=5)
    result = extract_keyframes(path, tmp_path / "frames")
    assert [(k.time_s, k.reason) for k in result.keyframes] == [
        (0.0, "keyframe"),
        (2.0, "interval"),
        (4.0, "interval"),
        (5.0, "scene"),
        (7.0, "interval"),
        (9.0, "interval"),
        (11.0, "interval"),
    ]
    assert result.errors == []


def test_dense_keyframes_are_thinned_to_half_a_second(tmp_path):
    path = write_clip(tmp_path / "dense.mp4", seconds=3, gop=2)
    times = [k.time_s for k in extract_keyframes(path, tmp_path / "frames").keyframes]
    assert times == [0.0, 0.6, 1.2, 1.8, 2.4]


def test_pictures_are_spread_over_a_declared_duration(tmp_path):
    path = write_clip(tmp_path / "clip.mkv")
    result = extract_keyframes(path, tmp_path / "frames", max_frames=2)
    # Two pictures for three seconds: keyframes at least 1.5 s apart.
    assert [k.time_s for k in result.keyframes] == [0.0, 2.0]
    assert result.errors == []


def test_raw_stream_without_timestamps_hits_the_frame_limit(tmp_path):
    # A raw .h264 stream declares no duration and no timestamps, only frame durations.
    path = write_clip(tmp_path / "clip.h264")
    assert [k.time_s for k in extract_keyframes(path, tmp_path / "all").keyframes] == [
        0.0,
        1.0,
        2.0,
    ]
    result = extract_keyframes(path, tmp_path / "frames", max_frames=2)
    assert [k.time_s for k in result.keyframes] == [0.0, 1.0]
    assert result.errors == ["kept the first 2 pictures; stopped at 2.000 s"]


def test_frames_beyond_the_pixel_limit_are_not_decoded(tmp_path, monkeypatch):
    monkeypatch.setattr(keyframes, "MAX_PIXELS", 1_000_000)
    path = write_clip(tmp_path / "big.mkv", seconds=0.2, size=(1280, 800))
    result = extract_keyframes(path, tmp_path / "frames")
    assert (result.keyframes, result.contact_sheet) == ([], None)
    assert result.errors == ["1280x800 frames are beyond the 1 MP limit"]


def test_time_limit_stops_and_says_so(tmp_path):
    path = write_clip(tmp_path / "clip.mkv")
    result = extract_keyframes(path, tmp_path / "frames", max_seconds=0)
    assert result.keyframes == []
    assert result.errors == ["decoding stopped after 0 s (time limit)"]
    assert result.contact_sheet is None


# Bad input: keep what can be read, say what failed, never a traceback.


def test_truncated_file_keeps_the_readable_keyframes(tmp_path):
    whole = write_clip(tmp_path / "whole.mkv", seconds=6)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    probe = probe_video(cut)
    assert probe.summary["duration_s"] == 6.0  # what the header declares
    result = extract_keyframes(cut, tmp_path / "frames")
    assert [k.time_s for k in result.keyframes] == [0.0, 1.0, 2.0]
    assert result.errors[0].startswith("video data ends at 2.")
    assert result.errors[0].endswith(" s of the 6.000 s the container declares (truncated?)")


def test_corrupt_middle_is_reported_and_the_rest_kept(tmp_path):
    data = bytearray(write_clip(tmp_path / "whole.mkv", seconds=6).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = os.urandom(2000)
    damaged = tmp_path / "damaged.mkv"
    damaged.write_bytes(bytes(data))
    result = extract_keyframes(damaged, tmp_path / "frames")
    times = [k.time_s for k in result.keyframes]
    assert times[0] == 0.0 and times[-1] == 5.0
    assert len(result.errors) >= 1
    assert any(e.startswith("FFmpeg reported ") for e in result.errors)


def test_recordings_joined_end_to_end_each_get_pictures(tmp_path):
    first = write_clip(tmp_path / "first.ts", seconds=4)
    second = write_clip(tmp_path / "second.ts", seconds=4, cut_at=0)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())  # as `cat` joins them
    result = extract_keyframes(joined, tmp_path / "frames")
    assert [k.time_s for k in result.keyframes] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert result.errors == [
        "timestamps start again at 4.000 s (recordings joined end to end?): "
        "later times count on from there"
    ]


def test_moov_missing_is_unsupported(tmp_path):
    whole = write_clip(tmp_path / "whole.mp4", seconds=6)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(UnsupportedMedia) as caught:
        probe_video(cut)
    assert (
        str(caught.value)
        == f"{cut}: FFmpeg cannot open it (Invalid data found when processing input)"
    )
    with pytest.raises(UnsupportedMedia):
        extract_keyframes(cut, tmp_path / "frames")


def without_codec(source: Path, damaged: Path) -> Path:
    """``source`` with its H.264 sample description renamed: FFmpeg gives it no codec context."""
    data = source.read_bytes()
    entry = data.index(b"avc1", data.index(b"stsd"))
    damaged.write_bytes(data[:entry] + b"zzzz" + data[entry + 4 :])
    return damaged


@needs_corpus
def test_a_video_stream_ffmpeg_knows_no_codec_for_is_recorded_not_fatal(tmp_path):
    damaged = without_codec(FILES / "elodie/video.mov", tmp_path / "damaged.mov")
    probe = probe_video(damaged)
    assert probe.kind == "video"
    assert probe.errors == [
        "stream 0 (video): FFmpeg knows no codec for it, its parameters are unknown"
    ]
    assert (probe.summary["width"], probe.summary["video_codec"]) == (None, None)
    assert probe.summary["audio_codec"] == "aac"
    stream = probe.metadata["streams"][0]
    assert (stream["width"], stream["pixel_format"], stream["decoder"]) == (None, None, None)
    assert stream["frames"] == 31  # what the container still says
    result = extract_keyframes(damaged, tmp_path / "frames")
    assert (result.keyframes, result.contact_sheet) == ([], None)


def test_a_video_whose_only_stream_has_no_codec_is_unsupported(tmp_path):
    damaged = without_codec(write_clip(tmp_path / "whole.mp4"), tmp_path / "damaged.mp4")
    with pytest.raises(UnsupportedMedia) as caught:
        probe_video(damaged)
    assert caught.value.cause == "it holds no audio or video stream FFmpeg can decode"


@needs_corpus
def test_a_canon_cr3_opened_as_video_has_no_stream_to_decode():
    cr3 = CORPUS_RAWS / "CanonRaw.cr3"
    with pytest.raises(UnsupportedMedia) as caught:
        probe_video(cr3)
    assert caught.value.cause == "it holds no audio or video stream FFmpeg can decode"


def test_random_bytes_and_text_are_unsupported(tmp_path):
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, np.uint8).tobytes())
    text = tmp_path / "notes.mov"
    text.write_text("not a video\n" * 200)
    for path in (noise, text):
        with pytest.raises(UnsupportedMedia) as caught:
            probe_video(path)
        assert str(caught.value).startswith(f"{path}: ")


def test_audio_only(tmp_path):
    path = write_audio(tmp_path / "voice.m4a")
    probe = probe_video(path)
    assert probe.kind == "audio"
    assert probe.errors == []
    assert probe.summary["audio_codec"] == "aac"
    assert probe.summary["container"] == "m4a"
    assert abs(probe.summary["duration_s"] - 2.0) < 0.1
    assert [probe.summary[k] for k in ("video_codec", "width", "height", "rotation", "fps")] == [
        None
    ] * 5
    result = extract_keyframes(path, tmp_path / "frames")
    assert (result.keyframes, result.contact_sheet, result.errors) == ([], None, [])
    assert not (tmp_path / "frames").exists()


def test_hostile_tags_never_reach_file_names(tmp_path):
    path = write_clip(
        tmp_path / "evil.mkv",
        tags={"title": "../../../etc/passwd", "location": "../../not a place"},
    )
    probe = probe_video(path)
    assert probe.summary["gps_latitude"] is None
    assert probe.errors == ["location tag is not an ISO 6709 point: '../../not a place'"]
    extract_keyframes(path, tmp_path / "frames")
    names = [p.name for p in (tmp_path / "frames").iterdir()]
    assert all(KEYFRAME_FILE.fullmatch(n) or n == CONTACT_SHEET for n in names)


# Small pieces.


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("+38.1893-119.9558+2004.158/", (38.1893, -119.9558, 2004.158)),
        ("+32.0929+034.8620+028.516/", (32.0929, 34.862, 28.516)),
        ("+33.1268-117.3273/", (33.1268, -117.3273, None)),
        ("+4830.5+00220.5/", (48.5083333, 2.3416667, None)),  # DDMM.M and DDDMM.M
        ("-335130.5+1511245.0/", (-33.8584722, 151.2125, None)),  # DDMMSS and DDDMMSS
        ("+1.5-2.25/", (1.5, -2.25, None)),
        ("+40.7-074.0+10CRSWGS_84/", (40.7, -74.0, 10.0)),
    ],
)
def test_iso6709(text, point):
    assert parse_iso6709(text) == point


@pytest.mark.parametrize(
    "text", ["", "40.7,-74.0", "+91.0+010.0/", "+10.0+181.0/", "+4870.0+00220.0/"]
)
def test_iso6709_rejects(text):
    assert parse_iso6709(text) is None


@given(st.text(max_size=40))
def test_iso6709_never_raises(text):
    point = parse_iso6709(text)
    assert point is None or (abs(point[0]) <= 90 and abs(point[1]) <= 180)


@pytest.mark.parametrize(
    ("tags", "expected", "errors"),
    [
        (
            {"com.apple.quicktime.creationdate": "2015-01-19T12:45:11-0800"},
            "2015-01-19T12:45:11-08:00",
            [],
        ),
        ({"creation_time": "2017-04-17T19:27:57.000000Z"}, "2017-04-17T19:27:57", []),
        ({"creation_time": "1970-01-01T00:00:00.000000Z"}, None, []),
        ({"creation_time": "soon"}, None, ["creation time is not a date: 'soon'"]),
        ({"date": "2019", "creation_time": "2019-07-24T08:25:57Z"}, "2019-07-24T08:25:57", []),
    ],
)
def test_captured_at(tags, expected, errors):
    found: list[str] = []
    assert captured_at(tags, found) == expected
    assert found == errors


def test_names_and_timestamps():
    assert keyframe_name(3, 12.0) == "keyframe-0003-000012.000s.jpg"
    assert keyframe_name(12, 3723.4567) == "keyframe-0012-003723.457s.jpg"
    assert timestamp(3723.4567) == "1:02:03.457"
    assert timestamp(0) == "0:00:00.000"
    assert math.isclose(float(keyframe_name(0, 5.25)[14:24]), 5.25)
