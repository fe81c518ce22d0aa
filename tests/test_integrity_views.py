"""show, report and export check the case first: a tampered case is never shown as approved."""

from __future__ import annotations

import csv
import json

import pytest

from tests.story import SAMPLES, edit_verdicts, flip_a_byte, original_path, seed_story, tamper
from tests.test_reports import Page

INTACT = {"ok": True, "problems": []}


@pytest.fixture
def story(cli):
    return seed_story(cli)


def _words(html: str) -> str:
    return " ".join(" ".join(Page(html).text).split())


def test_an_intact_case_says_so_and_shows_its_verdict(cli, story):
    shown = cli.json("show", story.earlier)
    report = json.loads(cli("report", story.earlier, "--format", "json").stdout)
    human = cli("show", story.earlier).stdout

    assert shown["integrity"] == INTACT
    assert report["integrity"] == INTACT
    assert human.startswith(f"{story.earlier}  IVIC building hit\n")
    assert "  verdict    DecontextualizedContent (approved)\n" in human
    assert "INTEGRITY" not in human
    html = cli("report", story.earlier).stdout
    assert 'class="banner"' not in html
    assert "intact: originals, history and records as recorded" in "".join(Page(html).text)


def test_an_altered_original_puts_a_banner_on_show_and_every_report(
    cli, story, store_dir, tmp_path
):
    flip_a_byte(store_dir, story.reshared["sha256"])
    path = original_path(store_dir, story.reshared["sha256"])
    problems = cli.json("verify", story.later, expect=1)["problems"]

    human = cli("show", story.later)  # exit code 0: the case was shown
    written = cli("report", story.later, "-o", tmp_path / "r.html")  # and so was the report
    shown = cli.json("show", story.later)
    report = json.loads(cli("report", story.later, "--format", "json").stdout)
    markdown = cli("report", story.later, "--format", "md").stdout
    html = cli("report", story.later).stdout

    [problem] = problems
    assert written.stderr == (
        f"warning: {story.later} fails its integrity check (1 problem): the report says so "
        f"(run `mediacheck verify {story.later}`)\n"
    )
    assert written.stdout == f"{story.later}: html report written to {tmp_path / 'r.html'}\n"
    assert problem["message"].startswith(
        f"original {story.reshared['media_id']} was altered: {path} now has SHA-256 "
    )
    assert (problem["case_id"], problem["case_ids"]) == (story.later, [story.later])
    assert shown["integrity"] == report["integrity"] == {"ok": False, "problems": problems}
    lines = human.stdout.splitlines()
    assert lines[:3] == [
        " INTEGRITY CHECK FAILED: 1 problem - this case is not as recorded; its verdict "
        "cannot be trusted ",
        f"  {problem['message']}",
        f"  run: mediacheck verify {story.later}",
    ]
    assert "  verdict    unverifiable (recorded: Unverified)" in lines
    assert markdown.startswith(
        f"# {story.later}: Hit by two missiles\n\n> **INTEGRITY CHECK FAILED: 1 problem.** "
        "This case is not as it was recorded, so its verdict cannot be trusted. "
        f"Run `mediacheck verify {story.later}`.\n>\n> - original "
    )
    assert "- **Verdict:** **Unverifiable**\n" in markdown
    # Each item's rating too, on its own line.
    assert markdown.count("\n- **Rating:** Unverifiable (recorded: Unverified)\n") == 2
    page = Page(html)
    assert [a.get("class") for t, a in page.tags if t in ("section", "header")][0] == "banner"
    words = _words(html)
    assert (
        "Integrity check failed: 1 problem. This case is not as it was recorded, so its "
        f"verdict cannot be trusted. Run mediacheck verify {story.later} ."
    ) in words
    assert f". {problem['message']} " in words
    assert "FAILED: 1 problem (see the banner)" in "".join(page.text)


def test_an_edited_verdict_is_shown_unverifiable_never_approved(cli, story, store):
    edit_verdicts(store)

    human = cli("show", story.earlier).stdout
    html = cli("report", story.earlier).stdout
    later = cli("report", story.later, "--format", "md").stdout
    refused = cli("report", story.earlier, "--format", "mediareview", expect=1)

    assert human.startswith(
        " INTEGRITY CHECK FAILED: 1 problem - this case is not as recorded; its verdict "
        f"cannot be trusted \n  {story.earlier} verdict 1: rating differs from the history "
        "(edited)\n"
    )
    assert "  verdict    unverifiable (recorded: OriginalMediaContent (approved))\n" in human
    page = Page(html)
    classes = [a.get("class") or "" for _, a in page.tags]
    assert "state approved" not in classes and "rating OriginalMediaContent" not in classes
    assert "rating Unverifiable" in classes
    assert (
        "Recorded: OriginalMediaContent (approved), not to be trusted until mediacheck verify "
        "passes." in _words(html)
    )
    assert refused.stderr == (
        f"Error: {story.earlier} not published: it fails its integrity check: {story.earlier} "
        f"verdict 1: rating differs from the history (edited) (run `mediacheck verify "
        f"{story.earlier}`)\n"
    )
    # The re-share's own case is intact, but the verdict it cites was forged.
    assert cli.json("show", story.later)["integrity"] == INTACT
    assert f"  - {story.earlier} “IVIC building hit”: **Unverifiable**\n" in later


def test_a_tampered_case_is_never_exported_as_a_bundle(cli, story, store, store_dir, tmp_path):
    tamper(store, store_dir, story)
    out = tmp_path / "case.zip"

    refused = cli("export", story.later, "-o", out, expect=1)

    path = original_path(store_dir, story.reshared["sha256"])
    assert refused.stderr.startswith(
        f"Error: {story.later} not exported: it fails its integrity check: original "
        f"{story.reshared['media_id']} was altered: {path} now has SHA-256 "
    )
    assert refused.stderr.endswith(f" (run `mediacheck verify {story.later}`)\n")
    assert not out.exists()


def test_an_intact_bundle_export_says_it_was_checked(cli, story, tmp_path):
    result = cli.json("export", story.earlier, "-o", tmp_path / "case.zip")
    assert result["integrity"] == INTACT


def test_the_archive_export_names_each_tampered_case(cli, story, store, store_dir, tmp_path):
    tamper(store, store_dir, story)
    jsonl, table = tmp_path / "archive.jsonl", tmp_path / "archive.csv"

    result = cli("export", "--all", "--format", "jsonl", "-o", jsonl)
    data = cli.json("export", "--all", "--format", "csv", "-o", table)

    assert result.stderr.splitlines() == [
        f"warning: {case} fails its integrity check (1 problem): written with its problems "
        f"(run `mediacheck verify {case}`)"
        for case in (story.earlier, story.later)
    ]
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [line["integrity"]["ok"] for line in lines] == [False, False]
    assert [len(line["integrity"]["problems"]) for line in lines] == [1, 1]
    assert data["integrity"] == {
        "ok": False,
        "problems": lines[0]["integrity"]["problems"] + lines[1]["integrity"]["problems"],
    }
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["case_id"], r["integrity_ok"], r["integrity_problems"]) for r in rows] == [
        (story.earlier, "False", "1"),
        (story.later, "False", "1"),
        (story.later, "False", "1"),
    ]


def test_a_shared_original_is_a_problem_of_every_case_that_holds_it(cli, story, store_dir):
    cli("intake", SAMPLES / "strike.jpg", "--case", story.later, "--quick")
    flip_a_byte(store_dir, story.strike["sha256"])

    earlier = cli.json("show", story.earlier)["integrity"]["problems"]
    later = cli.json("show", story.later)["integrity"]["problems"]

    both = sorted([story.earlier, story.later])
    assert [(p["media_id"], p["case_id"], p["case_ids"]) for p in earlier] == [
        (story.strike["media_id"], story.earlier, both)
    ]
    assert [(p["media_id"], p["case_id"], p["case_ids"]) for p in later] == [
        (story.strike["media_id"], story.later, both)
    ]


def test_a_refusal_names_the_first_problem_and_counts_the_others(cli, story, store, store_dir):
    flip_a_byte(store_dir, story.strike["sha256"])
    edit_verdicts(store)

    refused = cli("report", story.earlier, "--format", "mediareview", expect=1)

    assert refused.stderr.startswith(
        f"Error: {story.earlier} not published: it fails its integrity check: original "
        f"{story.strike['media_id']} was altered: "
    )
    assert refused.stderr.endswith(
        f" (and 1 more problem; run `mediacheck verify {story.earlier}`)\n"
    )
    human = cli("show", story.earlier).stdout
    assert human.startswith(" INTEGRITY CHECK FAILED: 2 problems - ")
