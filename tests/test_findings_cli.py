"""Findings through the CLI: computed on intake, shown, recomputed by ``analyze``."""

from __future__ import annotations

import pytest

import mediacheck.findings as findings
from tests.corpus import FILES, needs_corpus
from tests.findings_helpers import screenshot

LOCATED = FILES / "elodie" / "with-location.jpg"  # GPS near Sunnyvale, California
DONETSK = "48.0159,37.8028"
SUNNYVALE = "37.3688,-122.0363"


def take_in(cli, path=LOCATED, *options: str) -> str:
    (result,) = cli.json("intake", path, *options)
    return result["case_id"]


def findings_of(cli, case_id: str) -> dict[str, dict]:
    (media,) = cli.json("show", case_id)["media"]
    return {f["code"]: f for f in media["findings"]}


@needs_corpus
def test_intake_stores_findings_shown_as_json(cli, store_dir):
    case_id = take_in(
        cli, LOCATED, "--posted-at", "2024-01-01T00:00:00Z", "--claimed-location", DONETSK
    )
    found = findings_of(cli, case_id)
    assert sorted(found) == [
        "capture-time-inconsistent",
        "editing-software",
        "ela",
        "gps-far-from-claim",
        "gps-present",
        "jpeg-quality",
        "thumbnail-present",
    ]
    far = found["gps-far-from-claim"]
    assert far["severity"] == "warning"
    assert far["evidence"]["distance_km"] == 10313.0
    assert far["image"] is None
    sha = "476e4748f213a1e08d8bda170abe2e38e4bc351a2d6b0eeb255ce02020fe60d3"
    assert found["ela"]["image"] == f"derived/47/{sha}/finding-ela.png"
    assert (store_dir / found["ela"]["image"]).is_file()
    assert (store_dir / found["thumbnail-present"]["image"]).is_file()
    assert found["capture-time-inconsistent"]["evidence"]["reason"] == "long-before-posting"


@needs_corpus
def test_human_show_lists_severity_code_and_message(cli):
    case_id = take_in(cli, LOCATED, "--claimed-location", DONETSK)
    out = cli("show", case_id).stdout
    assert "  warning  gps-far-from-claim: The GPS position in the file is 10313 km" in out
    assert "  info     ela: The error level analysis picture shows how much" in out


@needs_corpus
def test_analyze_recomputes_after_the_claim_changes(cli):
    case_id = take_in(cli, LOCATED, "--claimed-location", DONETSK)
    cli("case", "set", case_id, "--claimed-location", SUNNYVALE)
    assert "gps-far-from-claim" in findings_of(cli, case_id)
    out = cli.json("analyze", case_id)
    (media,) = out["media"]
    assert out["case_id"] == case_id
    assert "gps-far-from-claim" not in {f["code"] for f in media["findings"]}
    found = findings_of(cli, case_id)
    assert "gps-far-from-claim" not in found
    assert found["gps-present"]["evidence"]["distance_km"] == 0.3
    last = cli.json("history", case_id)[-1]
    assert (last["action"], last["details"]) == ("analyze", {"findings": {media["media_id"]: 5}})


@needs_corpus
def test_analyze_human_output(cli):
    case_id = take_in(cli)
    out = cli("analyze", case_id).stdout
    assert out.splitlines()[0] == "476e4748f213a1e0  5 findings"


def test_analyze_unknown_case(cli, store):
    result = cli("analyze", "MC-1999-0001", expect=1)
    assert "no case 'MC-1999-0001'" in result.stderr


@needs_corpus
def test_the_same_picture_in_two_cases_is_weighed_against_each_claim(cli):
    first = take_in(cli, LOCATED, "--posted-at", "2015-12-06T00:00:00Z")
    second = take_in(cli, LOCATED, "--posted-at", "2024-02-24T00:00:00Z", "--new-case")
    assert "capture-time-inconsistent" not in findings_of(cli, first)
    assert findings_of(cli, second)["capture-time-inconsistent"]["evidence"]["gap_days"] == 3002.96


@needs_corpus
def test_a_failing_check_never_blocks_intake(cli, monkeypatch):
    def broken(ctx):
        raise MemoryError("out of memory")

    monkeypatch.setattr(findings, "CHECKS", [("ela", broken)])
    case_id = take_in(cli)
    assert findings_of(cli, case_id) == {
        "analysis-failed": {
            "code": "analysis-failed",
            "severity": "notice",
            "message": (
                "The error level analysis check could not be completed on this file. This says "
                "nothing about whether the media is authentic; the other checks still ran."
            ),
            "evidence": {"check": "ela", "error": "MemoryError: out of memory"},
            "image": None,
        }
    }


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg"])
def test_extension_checked_against_the_name_given(cli, tmp_path, name):
    path = tmp_path / name
    from tests.media import photo

    photo(path, format="JPEG")
    case_id = take_in(cli, path)
    mismatch = findings_of(cli, case_id).get("extension-mismatch")
    assert (mismatch and mismatch["evidence"]["extension"]) == (
        "png" if name.endswith("png") else None
    )


def test_report_says_why_a_screenshot_has_no_ela_picture(cli, tmp_path):
    path = tmp_path / "screenshot.png"
    screenshot().save(path)
    case_id = take_in(cli, path)
    found = findings_of(cli, case_id)
    assert "ela" not in found
    assert found["ela-not-shown"]["image"] is None
    page = cli("report", case_id).stdout
    assert (
        "No error level analysis picture is shown: this PNG picture shows no trace of an "
        "earlier JPEG compression" in page
    )
    assert "ela-not-shown" in page
    assert "finding-ela" not in page
