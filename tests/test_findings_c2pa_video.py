"""Content Credentials checked against c2pa-python's own reading, and video findings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest

from mediacheck.findings import c2pa_signals, timestamps, video_signals
from tests.corpus import C2PA, FILES, manifest, needs_corpus
from tests.findings_helpers import make_context


def truth(name: str) -> dict:
    return json.loads((C2PA / "truth" / f"{name}.c2pa.json").read_text())


@needs_corpus
@pytest.mark.parametrize("row", manifest(C2PA), ids=lambda r: r["file"])
def test_c2pa_agrees_with_c2pa_python_truth(tmp_path, row):
    ctx = make_context(C2PA / "files" / row["file"], tmp_path)
    found = {f.code: f for f in c2pa_signals.check_c2pa(ctx)}
    expected = truth(row["file"])
    if "error" in expected:
        assert found == {}
        return
    evidence = found["c2pa"].evidence
    store = expected["manifest_store"]
    active = store["manifests"][store["active_manifest"]]
    assert evidence["validation_state"] == expected["validation_state"] == row["validation_state"]
    assert evidence["claim_generator"] == row["claim_generator"]
    assert evidence["signer"] == row["signer_issuer"] == active["signature_info"]["issuer"]
    failures = expected["validation_results"]["activeManifest"].get("failure", [])
    assert evidence["failures"] == [f["code"] for f in failures]
    assert [i["title"] for i in evidence["ingredients"]] == [
        i.get("title") for i in active.get("ingredients", [])
    ]
    assert ("c2pa-invalid" in found) is (row["validation_state"] == "Invalid")


@needs_corpus
def test_c2pa_actions_and_invalid_reasons(tmp_path):
    ocsp = c2pa_signals.check_c2pa(make_context(C2PA / "files" / "ocsp.jpg", tmp_path))
    assert [a["action"] for a in ocsp[0].evidence["actions"]] == [
        "c2pa.opened",
        "c2pa.cropped",
        "c2pa.edited",
    ]
    assert ocsp[0].severity == "info"
    tampered = c2pa_signals.check_c2pa(make_context(C2PA / "files" / "XCA.jpg", tmp_path))
    (invalid,) = [f for f in tampered if f.code == "c2pa-invalid"]
    assert invalid.severity == "warning"
    assert invalid.evidence == {
        "validation_state": "Invalid",
        "failures": ["signingCredential.untrusted", "assertion.dataHash.mismatch"],
    }
    assert "(assertion.dataHash.mismatch)" in invalid.message


def synthetic_video(path: Path, tags: dict[str, str] | None = None) -> Path:
    with av.open(str(path), "w") as container:
        container.metadata.update(tags or {})
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 40, np.uint8), "rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_ffmpeg_written_video_is_reencoded(tmp_path):
    ctx = make_context(synthetic_video(tmp_path / "clip.mp4"), tmp_path)
    (finding,) = video_signals.check_reencoded(ctx)
    assert finding.code == "video-reencoded"
    assert finding.severity == "notice"
    programs = {m["program"] for m in finding.evidence["matches"]}
    assert programs == {"FFmpeg"}
    assert finding.evidence["matches"][0]["value"].startswith("Lavf")
    assert finding.message == (
        "This video file was written by FFmpeg, not straight by a phone or camera: its tags "
        "name the program that made it. FFmpeg is the converter inside most apps, platforms "
        "and video tools. Messaging apps and platforms re-encode every upload, so this is "
        "expected for shared video. It means the file is a copy, possibly trimmed or edited, "
        "and an earlier original may exist."
    )


def test_every_program_is_named_once(tmp_path):
    tags = {"comment": "HandBrake 1.6.1 2023012300"}
    ctx = make_context(synthetic_video(tmp_path / "clip.mp4", tags), tmp_path)
    (finding,) = video_signals.check_reencoded(ctx)
    assert finding.message.startswith(
        "This video file was written by FFmpeg and HandBrake, not straight by a phone or camera"
    )


def test_video_container_dates_that_disagree(tmp_path):
    tags = {"creation_time": "2024-03-01T10:00:00Z", "date": "2021-06-01T08:00:00+0300"}
    ctx = make_context(synthetic_video(tmp_path / "clip.mp4", tags), tmp_path)
    (finding,) = timestamps.check_capture_time(ctx)
    assert finding.evidence["reason"] == "container-dates-disagree"
    assert finding.evidence["spread_days"] == 1004.21


@needs_corpus
def test_iphone_video_rewritten_later(tmp_path):
    ctx = make_context(FILES / "elodie/video.mov", tmp_path)
    (finding,) = timestamps.check_capture_time(ctx)
    assert finding.evidence["reason"] == "container-dates-disagree"
    assert finding.evidence["spread_days"] == 326.51
    assert finding.evidence["dates"]["format.tags.creation_time"] == "2015-12-12T08:59:26+00:00"


@needs_corpus
def test_video_captured_after_posting(tmp_path):
    posted = datetime(2019, 7, 24, 6, 0, tzinfo=UTC)  # with-gps.mov: 11:25:40+03:00 that day
    ctx = make_context(FILES / "mde/with-gps.mov", tmp_path, posted_at=posted)
    reasons = [f.evidence["reason"] for f in timestamps.check_capture_time(ctx)]
    assert reasons == ["after-posting"]


@needs_corpus
@pytest.mark.parametrize(
    "row", [r for r in manifest() if r["kind"] == "video"], ids=lambda r: r["file"]
)
def test_camera_videos_are_not_reencoded(tmp_path, row):
    ctx = make_context(FILES / row["file"], tmp_path)
    assert video_signals.check_reencoded(ctx) == []
