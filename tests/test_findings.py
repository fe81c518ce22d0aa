"""The findings contract: every check runs, a failing one is recorded, nothing raises."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mediacheck.findings as findings
from mediacheck.findings import SEVERITIES, Finding, FindingContext, compute_findings
from tests.corpus import FILES, manifest, needs_corpus
from tests.findings_helpers import make_context, textured
from tests.media import png_bomb


def _context(path: Path, tmp_path: Path, **changes) -> FindingContext:
    fields = dict(
        path=path,
        original_name=path.name,
        kind="image",
        mime="image/jpeg",
        summary={},
        metadata={},
        posted_at=None,
        claimed_location=None,
        derived_dir=tmp_path / "derived",
    )
    fields.update(changes)
    return FindingContext(**fields)


def test_a_failing_check_is_recorded_and_the_others_run(tmp_path, monkeypatch):
    def broken(ctx):
        raise RuntimeError("decoder exploded\nsecond line")

    def fine(ctx):
        return [Finding("gps-present", "info", "ok", {})]

    monkeypatch.setattr(findings, "CHECKS", [("broken", broken), ("fine", fine)])
    result = compute_findings(_context(tmp_path / "x.jpg", tmp_path))
    assert [asdict(f) for f in result] == [
        {
            "code": "analysis-failed",
            "severity": "notice",
            "message": (
                "The broken check could not be completed on this file. This says nothing "
                "about whether the media is authentic; the other checks still ran."
            ),
            "evidence": {"check": "broken", "error": "RuntimeError: decoder exploded"},
            "image": None,
        },
        {"code": "gps-present", "severity": "info", "message": "ok", "evidence": {}, "image": None},
    ]


def test_garbage_named_jpeg_gives_recorded_failures_not_exceptions(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    result = compute_findings(_context(path, tmp_path))
    assert [f.code for f in result if f.code != "analysis-failed"] == ["metadata-stripped"]
    assert {f.evidence["check"] for f in result if f.code == "analysis-failed"} == {
        "jpeg-quality",
        "double-jpeg",
        "ela",
        "copy-move",
        "c2pa",
    }


def test_a_decompression_bomb_is_refused_not_decoded(tmp_path):
    path = png_bomb(tmp_path / "bomb.png")
    result = compute_findings(_context(path, tmp_path, mime="image/png"))
    failed = {
        f.evidence["check"]: f.evidence["error"] for f in result if f.code == "analysis-failed"
    }
    assert set(failed) == {"ela", "copy-move"}
    for check in failed:
        assert failed[check].startswith("DecompressionBombError: Image size (1600000000 pixels)")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048), name=st.text(max_size=40))
def test_hostile_bytes_and_names_never_raise(tmp_path, data, name):
    path = tmp_path / "blob"
    path.write_bytes(b"\xff\xd8\xff" + data)
    for kind, mime in (("image", "image/jpeg"), ("video", "video/mp4"), ("image", "image/png")):
        ctx = _context(path, tmp_path, original_name=name, kind=kind, mime=mime)
        for finding in compute_findings(ctx):
            assert finding.severity in SEVERITIES
            json.dumps(finding.evidence)


def test_findings_of_a_clean_synthetic_jpeg(tmp_path):
    path = tmp_path / "upload.jpg"
    textured((640, 480)).save(path, quality=85)
    ctx = make_context(path, tmp_path / "derived")
    result = {f.code: f for f in compute_findings(ctx)}
    assert sorted(result) == ["ela", "jpeg-quality", "metadata-stripped"]
    assert result["jpeg-quality"].evidence["estimated_quality"] == 85
    assert result["ela"].image == "finding-ela.png"
    assert (tmp_path / "derived" / "finding-ela.png").is_file()


@needs_corpus
@pytest.mark.slow
@pytest.mark.parametrize(
    "row", [r for r in manifest() if r["kind"] == "image"], ids=lambda r: r["file"]
)
def test_every_corpus_picture_gives_json_ready_findings(tmp_path, row):
    posted = datetime(2024, 1, 1, tzinfo=UTC)
    ctx = make_context(FILES / row["file"], tmp_path, posted_at=posted, claimed_location=(0.5, 0.5))
    for finding in compute_findings(ctx):
        assert finding.severity in SEVERITIES
        assert json.loads(json.dumps(asdict(finding))) == asdict(finding)
        if finding.image:
            assert (tmp_path / finding.image).is_file()
