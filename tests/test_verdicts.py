"""A verdict per media item: choosing the item, each item's review, the case's summary,
and the case status that follows review."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from mediacheck.errors import InvalidValue
from mediacheck.review import ratings
from mediacheck.review import service as review
from mediacheck.store.cases import CaseFields
from tests.media import QUICK, photo


@pytest.fixture
def two(cli, tmp_path: Path) -> tuple[str, str, str]:
    """A case of two pictures: (case id, first media id, second media id)."""
    pictures = [photo(tmp_path / "roof.jpg", QUICK), photo(tmp_path / "debris.jpg", QUICK, seed=7)]
    taken = cli.json("intake", *pictures, "--one-case", "--title", "Two missiles")
    return taken[0]["case_id"], taken[0]["media_id"], taken[1]["media_id"]


def _propose(cli, case_id: str, rating: str, *args: str, user: str = "alice", expect: int = 0):
    return cli(
        "verdict", "propose", case_id, rating, "--rationale", "r", *args, user=user, expect=expect
    )


# Choosing the item


def test_a_case_of_several_items_needs_media_and_lists_them(cli, two):
    case_id, first, second = two
    result = _propose(cli, case_id, "StagedContent", expect=2)
    assert result.stderr.splitlines()[-1] == (
        f"Error: {case_id} holds 2 media items: choose one with --media: {first}, {second}"
    )
    assert cli.json("show", case_id)["verdicts"] == []


def test_media_is_named_by_a_prefix_of_its_id_or_sha256(cli, two):
    case_id, first, second = two
    assert _propose(cli, case_id, "StagedContent", "--media", first[:5]).stdout == (
        f"{case_id} media {first}: StagedContent proposed by alice\n"
    )
    sha256 = next(
        m["sha256"] for m in cli.json("show", case_id)["media"] if m["media_id"] == second
    )
    saved = cli.json(
        "verdict",
        "propose",
        case_id,
        "TransformedContent",
        "--media",
        sha256.upper(),
        "--rationale",
        "AI",
    )
    assert (saved["media_id"], saved["rating"]) == (second, "TransformedContent")
    result = _propose(cli, case_id, "StagedContent", "--media", "zz", expect=1)
    assert result.stderr == f"Error: no media 'zz' in case {case_id}\n"


def test_a_prefix_of_two_items_is_ambiguous(cli, tmp_path):
    pictures = [photo(tmp_path / f"{seed}.jpg", QUICK, seed=seed) for seed in range(17)]
    by_start: dict[str, list[Path]] = {}
    for path in pictures:  # 17 pictures, 16 hex digits: two start alike
        by_start.setdefault(hashlib.sha256(path.read_bytes()).hexdigest()[0], []).append(path)
    start, pair = next((k, v[:2]) for k, v in by_start.items() if len(v) > 1)
    taken = cli.json("intake", *pair, "--one-case")
    case_id = taken[0]["case_id"]
    ids = ", ".join(t["media_id"] for t in taken)
    result = _propose(cli, case_id, "StagedContent", "--media", start, expect=1)
    assert result.stderr == (
        f"Error: media '{start}' is ambiguous in case {case_id}: it starts 2 ids ({ids}); "
        "give more of it\n"
    )


def test_media_of_another_case_is_not_rated(cli, two, tmp_path):
    case_id = two[0]
    [other] = cli.json("intake", photo(tmp_path / "other.jpg", seed=9))
    result = _propose(cli, case_id, "StagedContent", "--media", other["media_id"], expect=1)
    assert result.stderr == f"Error: no media '{other['media_id']}' in case {case_id}\n"


def test_a_case_without_media_has_nothing_to_rate(store):
    case_id = store.create_case(CaseFields(title="empty"), "alice").id
    with pytest.raises(InvalidValue, match=f"{case_id} holds no media to rate"):
        review.propose(store, case_id, "alice", review.Proposal("StagedContent", "r"))


# Each item's review and the case's summary


def test_each_item_has_its_own_verdict_and_the_case_summarises(cli, two):
    case_id, first, second = two
    _propose(cli, case_id, "TransformedContent", "--media", first)
    cli("verdict", "approve", case_id, user="bob")
    doc = cli.json("show", case_id)
    items = {m["media_id"]: m for m in doc["media"]}
    assert (items[first]["final_verdict"], items[first]["verdict"]["state"]) == (
        "TransformedContent",
        "approved",
    )
    assert items[second]["verdict"] == dict.fromkeys(items[second]["verdict"]) | {
        "rating": "Unverified"
    }
    assert (items[second]["final_verdict"], doc["final_verdict"], doc["status"]) == (
        "Unverified",
        "Unverified",
        "open",
    )
    assert doc["final_verdicts"] == {first: "TransformedContent", second: "Unverified"}
    shown = cli("show", case_id).stdout
    assert "  verdict    Unverified (1 of 2 items approved)\n" in shown
    assert shown.count("  verdict          ") == 2  # one line per item

    _propose(cli, case_id, "OriginalMediaContent", "--media", second, user="carol")
    assert cli.json("show", case_id)["status"] == "in-review"
    cli("verdict", "approve", case_id, "--media", second[:4], user="bob")
    doc = cli.json("show", case_id)
    assert doc["final_verdict"] == "Mixed: OriginalMediaContent, TransformedContent"
    assert doc["final_verdicts"] == {first: "TransformedContent", second: "OriginalMediaContent"}
    assert doc["status"] == "closed"
    [row] = cli.json("cases")
    assert (row["final_verdict"], row["final_verdicts"]) == (
        doc["final_verdict"],
        doc["final_verdicts"],
    )

    def listed(rating: str) -> list[str]:
        return [r["case_id"] for r in cli.json("cases", "--verdict", rating)]

    assert listed("transformedcontent") == listed("OriginalMediaContent") == [case_id]
    assert listed("StagedContent") == listed("Unverified") == []


@pytest.mark.parametrize(
    "found, summary",
    [
        ([], "Unverified"),
        (["StagedContent", "StagedContent"], "StagedContent"),
        (["StagedContent", "Unverified"], "Unverified"),
        (
            ["TransformedContent", "OriginalMediaContent", "TransformedContent"],
            "Mixed: OriginalMediaContent, TransformedContent",
        ),
    ],
)
def test_the_case_rating_rule(found, summary):
    assert ratings.case_rating(found) == summary


def test_approving_without_media_decides_the_one_awaiting_review(cli, two):
    case_id, first, second = two
    _propose(cli, case_id, "SatireOrParodyContent", "--media", second)
    _propose(cli, case_id, "StagedContent", "--media", first)
    result = cli("verdict", "approve", case_id, user="bob", expect=2)  # ids in the case's order
    assert result.stderr.splitlines()[-1] == (
        f"Error: {case_id} has proposals awaiting review for 2 media items: "
        f"choose one with --media: {first}, {second}"
    )
    assert cli("verdict", "reject", case_id, "--reason", "x", user="bob", expect=2).stderr
    assert cli("verdict", "approve", case_id, "--media", first, user="bob").stdout == (
        f"{case_id} media {first}: StagedContent approved by bob\n"
    )
    # Four eyes, per item: alice proposed the second one too.
    result = cli("verdict", "approve", case_id, expect=1)
    assert result.stderr == (
        f"Error: {case_id} media {second}: alice proposed this verdict and cannot approve it; "
        "another reviewer must approve it (four eyes)\n"
    )
    assert (
        cli.json("verdict", "reject", case_id, "--reason", "A real sketch?", user="bob")["media_id"]
        == second
    )
    result = cli("verdict", "approve", case_id, user="bob", expect=1)
    assert result.stderr == f"Error: {case_id} has no proposed verdict to review\n"
    events = cli.json("history", case_id)[-4:]
    assert [(e["action"], e["details"]["media_id"]) for e in events] == [
        ("verdict-proposed", second),
        ("verdict-proposed", first),
        ("verdict-approved", first),
        ("verdict-rejected", second),
    ]
    assert [e["details"]["status"] for e in events] == [
        "in-review",
        "in-review",
        "in-review",
        "open",
    ]
    assert cli("verify").stdout.endswith(": all intact\n")


def test_final_verdicts_is_each_items_newest_approved_verdict(cli, store, two, tmp_path):
    case_id, first, second = two
    [single] = cli.json("intake", photo(tmp_path / "single.jpg", seed=11))
    _propose(cli, case_id, "StagedContent", "--media", first)
    cli("verdict", "approve", case_id, user="bob")
    _propose(cli, case_id, "TransformedContent", "--media", first)
    cli("verdict", "approve", case_id, user="bob")
    _propose(cli, case_id, "OriginalMediaContent", "--media", first)  # pending: the approval stands
    _propose(cli, case_id, "StagedContent", "--media", second)
    cli("verdict", "reject", case_id, "--media", second, "--reason", "no", user="bob")
    _propose(cli, single["case_id"], "SatireOrParodyContent")
    cli("verdict", "approve", single["case_id"], user="carol")

    finals = store.final_verdicts([case_id, single["case_id"], "MC-1999-0001"])
    assert {key: (v.rating, v.decided_by) for key, v in finals.items()} == {
        (case_id, first): ("TransformedContent", "bob"),
        (single["case_id"], single["media_id"]): ("SatireOrParodyContent", "carol"),
    }
    assert store.final_verdicts([]) == {}


def test_moving_a_verdict_to_another_item_is_detected(cli, store, two):
    case_id, first, second = two
    _propose(cli, case_id, "StagedContent", "--media", first)
    cli("verdict", "approve", case_id, user="bob")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE verdicts SET media_id = :m"), {"m": second})
    assert cli.json("show", case_id)["final_verdicts"][second] == "StagedContent"
    problems = cli.json("verify", expect=1)["problems"]
    assert [(p["message"], p["media_id"]) for p in problems] == [
        (f"{case_id} verdict 1: is in the history but was deleted", first),
        (f"{case_id} verdict 1: has no history event (added outside mediacheck)", second),
    ]


# Status follows review


def test_closing_needs_every_item_decided_or_a_reason(cli, two):
    case_id, first, second = two
    _propose(cli, case_id, "StagedContent", "--media", first)
    cli("verdict", "approve", case_id, user="bob")
    result = cli("case", "set", case_id, "--status", "closed", expect=1)
    assert result.stderr == (
        f"Error: {case_id} cannot be closed before every media item has an approved verdict "
        f"(none yet for {second}): approve them, or give --reason\n"
    )
    assert cli.json("show", case_id)["status"] == "open"
    [event] = cli.json("case", "set", case_id, "--status", "closed", "--reason", "Post deleted")
    assert (event["action"], event["details"]) == (
        "status-changed",
        {"from": "open", "to": "closed", "reason": "Post deleted"},
    )
    assert cli.json("show", case_id)["status"] == "closed"
    # Not decided: reopening needs no reason.
    cli("case", "set", case_id, "--status", "open")


def test_reopening_a_decided_case_needs_a_reason(cli, two):
    case_id, first, second = two
    for media in (first, second):
        _propose(cli, case_id, "StagedContent", "--media", media)
        cli("verdict", "approve", case_id, user="bob")
    assert cli.json("show", case_id)["status"] == "closed"
    for status in ("open", "in-review"):
        result = cli("case", "set", case_id, "--status", status, expect=1)
        assert result.stderr == (
            f"Error: {case_id}: every media item has an approved verdict; reopening it as "
            f"{status} bypasses review: give --reason\n"
        )
    assert cli.json("show", case_id)["status"] == "closed"
    cli("case", "set", case_id, "--status", "in-review", "--reason", "A new source", user="carol")
    assert cli.json("history", case_id)[-1]["details"] == {
        "from": "closed",
        "to": "in-review",
        "reason": "A new source",
    }
    cli("case", "set", case_id, "--status", "closed")  # every item decided: no reason needed
    assert cli("verify").stdout.endswith(": all intact\n")


def test_a_case_without_media_is_closed_only_with_a_reason(cli, store):
    case_id = store.create_case(CaseFields(title="empty"), "alice").id
    result = cli("case", "set", case_id, "--status", "closed", expect=1)
    assert result.stderr == f"Error: {case_id} holds no media to rate: give --reason to close it\n"
    cli("case", "set", case_id, "--status", "closed", "--reason", "Duplicate of MC-2026-0001")
    assert cli("case", "set", case_id, "--reason", "x", expect=2).stderr.endswith(
        "Error: --reason goes with --status\n"
    )


def test_case_set_changes_source_platform_and_posting_time(cli, two):
    case_id = two[0]
    out = cli.json(
        "case",
        "set",
        case_id,
        "--source-url",
        "https://t.me/minister/88",
        "--platform",
        "telegram",
        "--posted-at",
        "2026-01-03 06:10",
    )
    assert [(e["action"], e["details"]) for e in out] == [
        ("source_url-changed", {"from": None, "to": "https://t.me/minister/88"}),
        ("platform-changed", {"from": None, "to": "telegram"}),
        ("posted_at-changed", {"from": None, "to": "2026-01-03T06:10:00+00:00"}),
    ]
    doc = cli.json("show", case_id)
    assert (doc["source_url"], doc["platform"], doc["posted_at"]) == (
        "https://t.me/minister/88",
        "telegram",
        "2026-01-03T06:10:00+00:00",
    )
    bad = cli("case", "set", case_id, "--posted-at", "yesterday", expect=2)
    assert "'yesterday' is not an ISO 8601 time such as 2026-01-03T06:10:00Z" in bad.stderr
    bad = cli("case", "set", case_id, "--source-url", "t.me/x", expect=2)
    assert "'t.me/x' is not an http(s) URL" in bad.stderr
    assert cli("verify").stdout.endswith(": all intact\n")


def test_the_cases_table_shows_each_cases_review(cli, two, tmp_path):
    [single] = cli.json("intake", photo(tmp_path / "one.jpg", seed=12), "--title", "One")
    _propose(cli, single["case_id"], "StagedContent")
    table = cli("cases").stdout
    assert "StagedContent (proposed)" in table
    assert "Unverified (0 of 2" in table
