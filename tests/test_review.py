"""Notes, verdicts, four-eyes review, case changes and the history they leave."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mediacheck import config
from mediacheck.cli import main
from mediacheck.errors import InvalidValue, ReviewError
from mediacheck.history import chain as history
from mediacheck.review import ratings, rules
from mediacheck.review import service as review
from mediacheck.store.cases import CaseFields
from mediacheck.store.database import Store
from tests.conftest import Cli
from tests.media import QUICK, photo

SIX = ", ".join(ratings.RATINGS)


@pytest.fixture
def case_id(cli, tmp_path: Path) -> str:
    [result] = cli.json("intake", photo(tmp_path / "strike.jpg", QUICK), "--title", "Strike")
    return result["case_id"]


def _actions(cli, case_id: str) -> list[tuple[str, str]]:
    return [(e["user"], e["action"]) for e in cli.json("history", case_id)]


# Notes


def test_note_records_a_reverse_search_finding(cli, case_id):
    media_id = cli.json("show", case_id)["media"][0]["media_id"]
    out = cli.json(
        "note",
        case_id,
        "--engine",
        "TinEye",
        "--url",
        "https://example.com/2019/strike.jpg",
        "--earliest-date",
        "2019-03-02",
        "--media",
        media_id[:6],
        "Same picture in a 2019 article",
        user="carol",
    )
    [note] = cli.json("show", case_id)["notes"]
    assert note == out
    assert note == {
        "id": 1,
        "media_id": media_id,
        "engine": "tineye",
        "url": "https://example.com/2019/strike.jpg",
        "earliest_date": "2019-03-02",
        "text": "Same picture in a 2019 article",
        "author": "carol",
        "at": note["at"],
        "corrects": None,
        "corrected_by": [],
    }
    last = cli.json("history", case_id)[-1]
    assert (last["user"], last["action"]) == ("carol", "note-added")
    assert last["details"] == {
        "note_id": 1,
        "engine": "tineye",
        "url": "https://example.com/2019/strike.jpg",
        "earliest_date": "2019-03-02",
        "media_id": media_id,
        "text": "Same picture in a 2019 article",
    }


def test_plain_note_and_a_correction_that_refers_to_it(cli, case_id):
    cli("note", case_id, "Posted by a channel known for recycling")
    assert cli("note", case_id, "--corrects", "1", "Not that channel").stdout == (
        f"note 2 added to {case_id} by alice\n"
    )
    notes = cli.json("show", case_id)["notes"]
    assert [(n["id"], n["engine"], n["corrects"], n["corrected_by"]) for n in notes] == [
        (1, None, None, [2]),
        (2, None, 1, []),
    ]
    assert notes[0]["text"] == "Posted by a channel known for recycling"


def test_note_correcting_an_unknown_note_fails(cli, case_id):
    result = cli("note", case_id, "--corrects", "7", "fix", expect=1)
    assert result.stderr == f"Error: no note 7 in case {case_id} to correct\n"
    assert cli.json("show", case_id)["notes"] == []


@pytest.mark.parametrize(
    "given, stored",
    [
        ("2019-03-02", "2019-03-02"),
        ("2019-03-02T14:00:00+02:00", "2019-03-02T12:00:00+00:00"),
        ("2019-03-02T14:00:00Z", "2019-03-02T14:00:00+00:00"),
        ("2019-03-02 14:00", "2019-03-02T14:00:00+00:00"),
    ],
)
def test_earliest_date_accepts_iso_dates_and_times(given, stored):
    assert rules.parse_earliest_date(given) == stored


def test_a_time_outside_the_calendar_is_an_invalid_value():
    with pytest.raises(InvalidValue, match="is not an ISO 8601 date or time"):
        rules.parse_earliest_date("0001-01-01T00:00:00+01:00")


@given(st.text(max_size=40))
def test_any_text_is_a_date_or_an_invalid_value(value):
    try:
        parsed = rules.parse_earliest_date(value)
    except InvalidValue as exc:
        assert "is not an ISO 8601 date or time" in str(exc)
    else:
        assert rules.parse_earliest_date(parsed) == parsed


@given(st.sampled_from(ratings.RATINGS), st.data())
def test_ratings_are_read_in_any_letter_case(rating, data):
    flips = data.draw(st.lists(st.booleans(), min_size=len(rating), max_size=len(rating)))
    typed = "".join(c.swapcase() if flip else c for c, flip in zip(rating, flips, strict=True))
    assert ratings.normalize_rating(typed) == rating


def test_note_with_a_malformed_date_is_a_usage_error(cli, case_id):
    result = cli(
        "note", case_id, "--engine", "bing", "--earliest-date", "March 2019", "x", expect=2
    )
    assert "'March 2019' is not an ISO 8601 date or time" in result.stderr


def test_note_on_unknown_case_or_media_fails_in_one_line(cli, case_id):
    result = cli("note", "MC-1999-0001", "text", expect=1)
    assert result.stderr == "Error: no case 'MC-1999-0001' in this store\n"
    result = cli("note", case_id, "--media", "ffff", "text", expect=1)
    assert result.stderr == f"Error: no media 'ffff' in case {case_id}\n"


def test_note_on_media_of_another_case_fails(cli, case_id, tmp_path):
    [other] = cli.json("intake", photo(tmp_path / "other.jpg", seed=4))
    result = cli("note", case_id, "--media", other["media_id"], "text", expect=1)
    assert result.stderr == f"Error: no media '{other['media_id']}' in case {case_id}\n"


def test_empty_note_is_refused(cli, case_id):
    assert cli("note", case_id, "  ", expect=1).stderr == "Error: a note needs some text\n"


# Verdicts and four eyes


def test_a_case_without_a_verdict_is_unverified(cli, case_id):
    doc = cli.json("show", case_id)
    assert doc["verdict"] == dict.fromkeys(rules.VERDICT_KEYS) | {"rating": "Unverified"}
    assert (doc["final_verdict"], doc["verdicts"], doc["notes"]) == ("Unverified", [], [])
    assert "verdict    Unverified\n" in cli("show", case_id).stdout


def test_core_refuses_an_empty_rationale_and_an_unknown_confidence(store):
    case_id = store.create_case(CaseFields(title="t"), "alice").id
    with pytest.raises(InvalidValue, match="a verdict needs a rationale"):
        review.propose(store, case_id, "alice", review.Proposal("StagedContent", " "))
    with pytest.raises(InvalidValue, match="confidence is one of low, medium, high"):
        review.propose(
            store, case_id, "alice", review.Proposal("StagedContent", "x", confidence="sure")
        )
    assert store.verdicts(case_id) == []


def test_proposal_and_approval_by_another_user_make_a_final_verdict(cli, case_id):
    proposed = cli.json(
        "verdict",
        "propose",
        case_id,
        "decontextualizedcontent",
        "--rationale",
        "TinEye finds it in a 2019 article",
        "--original-url",
        "https://example.com/2019/strike",
        "--original-context",
        "A 2019 fire in another city",
        "--confidence",
        "HIGH",
    )
    assert (proposed["rating"], proposed["state"]) == ("DecontextualizedContent", "proposed")
    doc = cli.json("show", case_id)
    assert (doc["status"], doc["final_verdict"]) == ("in-review", "Unverified")

    cli("verdict", "approve", case_id, "--comment", "Checked the article", user="bob")
    doc = cli.json("show", case_id)
    verdict = doc["verdict"]
    media_id = doc["media"][0]["media_id"]
    assert verdict == {
        "id": 1,
        "media_id": media_id,
        "rating": "DecontextualizedContent",
        "state": "approved",
        "rationale": "TinEye finds it in a 2019 article",
        "original_url": "https://example.com/2019/strike",
        "original_context": "A 2019 fire in another city",
        "confidence": "high",
        "proposed_by": "alice",
        "proposed_at": verdict["proposed_at"],
        "approved_by": "bob",
        "approved_at": verdict["approved_at"],
        "comment": "Checked the article",
        "rejected_by": None,
        "rejected_at": None,
        "reason": None,
    }
    assert verdict["proposed_at"] < verdict["approved_at"]
    assert (doc["status"], doc["final_verdict"]) == ("closed", "DecontextualizedContent")
    assert doc["final_verdicts"] == {media_id: "DecontextualizedContent"}
    assert doc["verdicts"] == [verdict]
    assert (doc["media"][0]["verdict"], doc["media"][0]["final_verdict"]) == (
        verdict,
        "DecontextualizedContent",
    )
    [row] = cli.json("cases")
    assert (row["verdict"], row["verdict_state"], row["final_verdict"]) == (
        "DecontextualizedContent",
        "approved",
        "DecontextualizedContent",
    )
    assert "DecontextualizedContent (approved)" in cli("cases").stdout
    shown = cli("show", case_id).stdout
    assert "  verdict    DecontextualizedContent (approved)\n" in shown
    assert "  verdict          DecontextualizedContent (approved)\n" in shown  # the item's
    history_rows = cli.json("history", case_id)
    assert [(e["user"], e["action"]) for e in history_rows][-2:] == [
        ("alice", "verdict-proposed"),
        ("bob", "verdict-approved"),
    ]
    assert history_rows[-1]["details"] == {
        "verdict_id": 1,
        "media_id": media_id,
        "rating": "DecontextualizedContent",
        "comment": "Checked the article",
        "status": "closed",
    }


def test_the_proposer_cannot_approve(cli, case_id):
    media_id = cli.json("verdict", "propose", case_id, "StagedContent", "--rationale", "Actors")[
        "media_id"
    ]
    result = cli("verdict", "approve", case_id, expect=1)
    assert result.stderr == (
        f"Error: {case_id} media {media_id}: alice proposed this verdict and cannot approve it; "
        "another reviewer must approve it (four eyes)\n"
    )
    doc = cli.json("show", case_id)
    assert (doc["verdict"]["state"], doc["final_verdict"]) == ("proposed", "Unverified")
    assert _actions(cli, case_id)[-1] == ("alice", "verdict-proposed")


def test_a_misspelt_rating_lists_the_six(cli, case_id):
    result = cli("verdict", "propose", case_id, "decontextualised", "--rationale", "x", expect=2)
    assert "did you mean DecontextualizedContent?" in result.stderr
    assert SIX in " ".join(result.stderr.split())
    result = cli("verdict", "propose", case_id, "Unverified", "--rationale", "x", expect=2)
    assert "'Unverified' is not a MediaReview rating" in result.stderr


def test_a_new_proposal_reopens_review_without_erasing_the_final_verdict(cli, case_id):
    cli("verdict", "propose", case_id, "OriginalMediaContent", "--rationale", "Geolocated")
    cli("verdict", "approve", case_id, user="bob")
    cli(
        "verdict",
        "propose",
        case_id,
        "EditedOrCroppedContent",
        "--rationale",
        "Cropped",
        user="bob",
    )
    doc = cli.json("show", case_id)
    assert doc["status"] == "in-review"
    assert (doc["verdict"]["rating"], doc["verdict"]["state"]) == (
        "EditedOrCroppedContent",
        "proposed",
    )
    assert doc["final_verdict"] == "OriginalMediaContent"
    assert [(v["rating"], v["state"]) for v in doc["verdicts"]] == [
        ("OriginalMediaContent", "approved"),
        ("EditedOrCroppedContent", "proposed"),
    ]

    cli("verdict", "reject", case_id, "--reason", "The crop is the original framing")
    doc = cli.json("show", case_id)
    assert (doc["status"], doc["final_verdict"]) == ("closed", "OriginalMediaContent")
    assert doc["verdict"]["rejected_by"] == "alice"
    assert doc["verdict"]["reason"] == "The crop is the original framing"


def test_one_proposal_at_a_time(cli, case_id):
    cli("verdict", "propose", case_id, "StagedContent", "--rationale", "Actors")
    media_id = cli.json("show", case_id)["media"][0]["media_id"]
    result = cli("verdict", "propose", case_id, "TransformedContent", "--rationale", "AI", expect=1)
    assert result.stderr == (
        f"Error: {case_id} media {media_id} already has a proposed verdict "
        "(StagedContent by alice): "
        "approve or reject it first\n"
    )


def test_rejection_reopens_the_case_and_allows_a_new_proposal(cli, case_id):
    cli("verdict", "propose", case_id, "StagedContent", "--rationale", "Actors")
    media_id = cli.json("show", case_id)["media"][0]["media_id"]
    assert cli("verdict", "reject", case_id, "--reason", "No", user="bob").stdout == (
        f"{case_id} media {media_id}: StagedContent rejected by bob\n"
    )
    doc = cli.json("show", case_id)
    assert (doc["status"], doc["verdict"]["state"], doc["final_verdict"]) == (
        "open",
        "rejected",
        "Unverified",
    )
    cli("verdict", "propose", case_id, "SatireOrParodyContent", "--rationale", "A sketch")
    assert cli.json("show", case_id)["verdict"]["rating"] == "SatireOrParodyContent"


def test_nothing_to_decide(cli, case_id):
    media_id = cli.json("show", case_id)["media"][0]["media_id"]
    result = cli("verdict", "approve", case_id, user="bob", expect=1)
    assert result.stderr == f"Error: {case_id} media {media_id} has no proposed verdict to review\n"
    cli("verdict", "propose", case_id, "StagedContent", "--rationale", "Actors")
    cli("verdict", "approve", case_id, user="bob")
    result = cli("verdict", "approve", case_id, user="carol", expect=1)
    assert result.stderr == (
        f"Error: {case_id} media {media_id}: the verdict StagedContent was already approved "
        "by bob; nothing awaits review\n"
    )
    result = cli("verdict", "reject", case_id, "--reason", " ", user="carol", expect=1)
    assert result.stderr == "Error: a rejection needs a reason\n"


def test_verdict_on_unknown_case(cli, store):
    result = cli(
        "verdict", "propose", "MC-1999-0009", "StagedContent", "--rationale", "x", expect=1
    )
    assert result.stderr == "Error: no case 'MC-1999-0009' in this store\n"


# Case fields and listing


def test_case_set_changes_fields_each_as_an_event(cli, case_id):
    out = cli.json(
        "case",
        "set",
        case_id,
        "--title",
        "Fragments, Kharkiv",
        "--status",
        "in-review",
        "--tag",
        "missile",
        "--tag",
        "kharkiv",
        "--claimed-location",
        "49.99,36.23",
        "--assign",
        "bob",
    )
    assert [(e["action"], e["details"]) for e in out] == [
        ("title-changed", {"from": "Strike", "to": "Fragments, Kharkiv"}),
        ("status-changed", {"from": "open", "to": "in-review"}),
        ("assignee-changed", {"from": None, "to": "bob"}),
        (
            "tags-changed",
            {"added": ["missile", "kharkiv"], "removed": [], "tags": ["missile", "kharkiv"]},
        ),
        ("location-changed", {"from": None, "to": [49.99, 36.23]}),
    ]
    doc = cli.json("show", case_id)
    assert (doc["title"], doc["status"], doc["tags"], doc["assignee"]) == (
        "Fragments, Kharkiv",
        "in-review",
        ["missile", "kharkiv"],
        "bob",
    )
    assert doc["claimed_location"] == {"latitude": 49.99, "longitude": 36.23}
    assert cli.json("history", case_id)[-5:] == out

    assert cli("case", "set", case_id, "--title", "Fragments, Kharkiv").stdout == (
        f"{case_id}: nothing changed\n"
    )
    cli("case", "set", case_id, "--untag", "missile", "--claim", "Debris of a missile")
    assert _actions(cli, case_id)[-2:] == [("alice", "claim-changed"), ("alice", "tags-changed")]
    assert cli.json("show", case_id)["tags"] == ["kharkiv"]


def test_case_set_refuses_an_unknown_status_and_case(cli, case_id):
    assert (
        "'done' is not one of" in cli("case", "set", case_id, "--status", "done", expect=2).stderr
    )
    result = cli("case", "set", "MC-1999-0001", "--title", "x", expect=1)
    assert result.stderr == "Error: no case 'MC-1999-0001' in this store\n"


def test_cases_filters_by_status_verdict_tag_and_assignee(cli, tmp_path):
    pictures = [photo(tmp_path / f"{i}.jpg", QUICK, seed=i) for i in range(3)]
    ids = [cli.json("intake", picture)[0]["case_id"] for picture in pictures]
    cli("case", "set", ids[0], "--tag", "strike", "--assign", "bob")
    cli("verdict", "propose", ids[1], "StagedContent", "--rationale", "Actors")
    cli("verdict", "approve", ids[1], user="bob")
    cli("verdict", "propose", ids[2], "TransformedContent", "--rationale", "AI")

    def listed(*args):
        return [row["case_id"] for row in cli.json("cases", *args)]

    assert listed() == ids
    assert listed("--status", "closed") == [ids[1]]
    assert listed("--status", "in-review") == [ids[2]]
    assert listed("--verdict", "stagedcontent") == [ids[1]]
    assert listed("--verdict", "unverified") == [ids[0], ids[2]]
    assert listed("--tag", "strike") == [ids[0]]
    assert listed("--assignee", "bob") == [ids[0]]
    assert listed("--assign", "carol") == []
    assert listed("--verdict", "unverified", "--status", "open") == [ids[0]]
    assert "did you mean StagedContent?" in cli("cases", "--verdict", "staged", expect=2).stderr


# History


def test_history_json_is_the_whole_chained_timeline(cli, case_id):
    cli("note", case_id, "--engine", "yandex", "Nothing older found")
    cli("verdict", "propose", case_id, "OriginalMediaContent", "--rationale", "Geolocated")
    cli("verdict", "approve", case_id, user="bob")
    events = cli.json("history", case_id)
    assert [(e["seq"], e["user"], e["action"]) for e in events] == [
        (1, "alice", "case-created"),
        (2, "alice", "media-added"),
        (3, "alice", "note-added"),
        (4, "alice", "verdict-proposed"),
        (5, "bob", "verdict-approved"),
    ]
    assert set(events[0]) == {"seq", "at", "user", "action", "details", "prev_hash", "hash"}
    assert events[0]["prev_hash"] == history.GENESIS
    assert [e["prev_hash"] for e in events[1:]] == [e["hash"] for e in events[:-1]]
    assert events[2]["details"] == {"note_id": 1, "engine": "yandex", "text": "Nothing older found"}
    assert events[3]["details"] == {
        "verdict_id": 1,
        "media_id": events[1]["details"]["media_id"],
        "rating": "OriginalMediaContent",
        "rationale": "Geolocated",
        "status": "in-review",
    }
    text = cli("history", case_id).stdout
    assert [line.split()[3:5] for line in text.splitlines()] == [
        [e["user"], e["action"]] for e in events
    ]


def test_history_of_an_unknown_case(cli, store):
    assert cli("history", "MC-1999-0001", expect=1).stderr == (
        "Error: no case 'MC-1999-0001' in this store\n"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["links"],
        ["note"],
        ["verdict"],
        ["verdict", "propose"],
        ["verdict", "approve"],
        ["verdict", "reject"],
        ["case"],
        ["case", "set"],
        ["history"],
        ["verify"],
    ],
)
def test_every_command_has_a_summary_and_an_example(command):
    result = CliRunner().invoke(main, [*command, "--help"], catch_exceptions=False)
    assert "  Example:" in result.stdout.splitlines()
    found = main
    for name in command:
        found = found.commands[name]
    summary = found.help.split("\n\n")[0]
    assert "\n" not in summary and summary.endswith(".") and len(summary) <= 80


# Two processes at once (SQLite: the default desk setup)


def _sqlite_store(store_dir: str, user: str) -> Store:
    return Store.open(config.resolve(store=Path(store_dir), db_url="", user=user))


def _add_notes(store_dir: str, case_id: str, user: str, count: int, start) -> None:
    store = _sqlite_store(store_dir, user)
    start.wait()
    for i in range(count):
        review.add_note(store, case_id, user, f"{user} {i}")


def _approve(store_dir: str, case_id: str, user: str, start, results) -> None:
    store = _sqlite_store(store_dir, user)
    start.wait()
    try:
        review.approve(store, case_id, user)
        results.put((user, "approved"))
    except ReviewError as exc:
        results.put((user, str(exc)))


def _run_together(target, *args_per_process) -> None:
    spawn = multiprocessing.get_context("spawn")
    processes = [spawn.Process(target=target, args=args) for args in args_per_process]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0


@pytest.mark.slow  # worker processes
def test_two_processes_on_one_case_never_lose_or_fork_an_event(tmp_path):
    store_dir = str(tmp_path / "cases")
    store = _sqlite_store(store_dir, "alice")
    case_id = store.create_case(CaseFields(title="Busy"), "alice").id
    start = multiprocessing.get_context("spawn").Barrier(2)
    _run_together(
        _add_notes, (store_dir, case_id, "bob", 15, start), (store_dir, case_id, "carol", 15, start)
    )
    events = store.events(case_id)
    assert [e.seq for e in events] == list(range(1, 32))
    assert sorted(e.user for e in events[1:]) == ["bob"] * 15 + ["carol"] * 15
    assert history.verify_chain(case_id, [e.model_dump() for e in events]) == []
    assert store.get_case(case_id).head_hash == events[-1].hash
    assert sorted(n.text for n in store.notes(case_id)) == sorted(
        [f"bob {i}" for i in range(15)] + [f"carol {i}" for i in range(15)]
    )


@pytest.mark.slow  # worker processes
def test_two_reviewers_approving_at_once_exactly_one_wins(tmp_path):
    store_dir = str(tmp_path / "cases")
    [taken] = Cli(Path(store_dir)).json("intake", photo(tmp_path / "contested.jpg"))
    case_id, media_id = taken["case_id"], taken["media_id"]
    store = _sqlite_store(store_dir, "alice")
    review.propose(store, case_id, "alice", review.Proposal("StagedContent", "Actors"))
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(2), spawn.Queue()
    _run_together(
        _approve,
        (store_dir, case_id, "bob", start, results),
        (store_dir, case_id, "carol", start, results),
    )
    outcomes = dict(results.get(timeout=10) for _ in range(2))
    winner = next(user for user, outcome in outcomes.items() if outcome == "approved")
    loser = "carol" if winner == "bob" else "bob"
    assert outcomes[loser] == (
        f"{case_id} media {media_id}: the verdict StagedContent was already approved by "
        f"{winner}; nothing awaits review"
    )
    assert [e.action for e in store.events(case_id)] == [
        "case-created",
        "media-added",
        "verdict-proposed",
        "verdict-approved",
    ]
