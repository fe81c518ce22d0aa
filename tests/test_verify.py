"""verify: every kind of tampering with originals or history is named, exit code 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from mediacheck import config
from mediacheck.integrity import verify
from mediacheck.publish import bundle
from mediacheck.review import service as review
from mediacheck.store.cases import CaseFields
from mediacheck.store.database import Store
from tests.conftest import Cli
from tests.media import QUICK, photo
from tests.objects import on_both_blob_stores


@pytest.fixture
def case(cli, tmp_path: Path) -> dict:
    [result] = cli.json("intake", photo(tmp_path / "strike.jpg", QUICK))
    cli("note", result["case_id"], "--engine", "tineye", "Nothing older")
    cli("verdict", "propose", result["case_id"], "OriginalMediaContent", "--rationale", "Geo")
    return result


def _sql(store, statement: str, **params) -> None:
    """Tamper with the database behind mediacheck's back."""
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _event_count(cli, case_id: str) -> int:
    return len(cli.json("history", case_id))


@on_both_blob_stores
def test_an_intact_store_passes_with_a_summary(cli, case):
    events = _event_count(cli, case["case_id"])
    assert events >= 4
    result = cli("verify")
    assert result.stdout == f"checked 1 cases, {events} events, 1 originals: all intact\n"
    assert result.stderr == ""
    assert cli.json("verify", case["case_id"]) == {
        "ok": True,
        "cases": 1,
        "events": events,
        "originals": 1,
        "problems": [],
        "orphans": [],
        "timestamps": 0,
        "timestamps_unchecked": 0,
    }


@on_both_blob_stores
def test_flipping_one_byte_of_an_original_is_detected(cli, case, tamper):
    path = tamper.location(case["sha256"])
    data = bytearray(tamper.read(case["sha256"]))
    data[len(data) // 2] ^= 0x01
    tamper.write(case["sha256"], bytes(data))

    result = cli("verify", expect=1)
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"error: original {case['media_id']} was altered: {path} now has SHA-256 "
    )
    assert result.stdout.endswith(": 1 problems\n")
    out = cli.json("verify", case["case_id"], expect=1)
    assert out["ok"] is False
    assert [(p["kind"], p["media_id"], p["case_id"], p["case_ids"]) for p in out["problems"]] == [
        ("original", case["media_id"], case["case_id"], [case["case_id"]])
    ]


def test_a_shared_original_names_every_case_that_holds_it(cli, case, tamper, tmp_path):
    [other] = cli.json("intake", photo(tmp_path / "other.jpg", seed=3))
    cli("intake", tmp_path / "strike.jpg", "--case", other["case_id"])
    tamper.delete(case["sha256"])
    both = [case["case_id"], other["case_id"]]

    [whole] = cli.json("verify", expect=1)["problems"]
    [of_other] = cli.json("verify", other["case_id"], expect=1)["problems"]

    assert (whole["media_id"], whole["case_id"], whole["case_ids"]) == (
        case["media_id"],
        case["case_id"],
        both,
    )
    assert (of_other["case_id"], of_other["case_ids"]) == (other["case_id"], both)


@on_both_blob_stores
def test_a_missing_original_is_detected(cli, case, tamper):
    path = tamper.location(case["sha256"])
    tamper.delete(case["sha256"])
    result = cli("verify", expect=1)
    assert result.stderr == f"error: original {case['media_id']} is missing: {path}\n"


def test_editing_the_recorded_hashes_is_detected(cli, case, store):
    _sql(store, "UPDATE media SET md5 = :md5 WHERE id = :id", md5="0" * 32, id=case["media_id"])
    result = cli("verify", expect=1)
    assert result.stderr == (
        f"error: original {case['media_id']}: the recorded md5 do not match the stored bytes "
        "(the database was edited)\n"
    )


def test_editing_an_event_row_is_detected(cli, case, store):
    case_id = case["case_id"]
    _sql(
        store,
        "UPDATE events SET details = :details WHERE case_id = :case AND seq = 3",
        details='{"note_id":1,"text":"Found in 2019"}',
        case=case_id,
    )
    result = cli("verify", expect=1)
    assert result.stderr.splitlines() == [
        f"error: {case_id} event 3: content was changed after it was recorded",
        f"error: {case_id} note 1: engine, text differs from the history (edited)",
    ]
    _sql(
        store,
        "UPDATE events SET \"user\" = 'mallory' WHERE case_id = :case AND seq = 2",
        case=case_id,
    )
    problems = cli.json("verify", case_id, expect=1)["problems"]
    assert [(p["kind"], p["case_id"], p["seq"]) for p in problems] == [
        ("history", case_id, 2),
        ("history", case_id, 3),
        ("record", case_id, None),
    ]


def test_deleting_an_event_is_detected(cli, case, store):
    case_id = case["case_id"]
    _sql(store, "DELETE FROM events WHERE case_id = :case AND seq = 2", case=case_id)
    result = cli("verify", case_id, expect=1)
    assert result.stderr.splitlines() == [
        f"error: {case_id} event 3: expected event 2: events are missing",
        f"error: {case_id} event 3: does not follow the previous event (deleted or edited)",
    ]


def test_deleting_the_last_event_is_detected(cli, case, store):
    case_id = case["case_id"]
    count = _event_count(cli, case_id)
    _sql(store, "DELETE FROM events WHERE case_id = :case AND seq = :seq", case=case_id, seq=count)
    result = cli("verify", expect=1)
    assert result.stderr.splitlines() == [
        f"error: {case_id} history: history ends at event {count - 1} but {count} events were "
        "recorded: the last events were deleted",
        # The deleted event was the proposal: its verdict row now has no event.
        f"error: {case_id} verdict 1: has no history event (added outside mediacheck)",
    ]


def test_rewriting_the_last_event_with_a_valid_hash_is_detected(cli, case, store):
    # A forger who recomputes the last hash still cannot match the head kept on the case.
    case_id = case["case_id"]
    count = _event_count(cli, case_id)
    _sql(
        store,
        "UPDATE events SET hash = :hash WHERE case_id = :case AND seq = :seq",
        hash="f" * 64,
        case=case_id,
        seq=count,
    )
    result = cli("verify", case_id, expect=1)
    assert result.stderr.splitlines() == [
        f"error: {case_id} event {count}: content was changed after it was recorded",
        f"error: {case_id} history: the newest event is not the one the case recorded "
        "(edited or added)",
    ]


def test_verify_of_one_case_ignores_the_others(cli, case, store, tmp_path):
    [other] = cli.json("intake", photo(tmp_path / "other.jpg", seed=3))
    _sql(store, "DELETE FROM events WHERE case_id = :case AND seq = 2", case=other["case_id"])
    assert cli("verify", case["case_id"]).stdout.endswith(": all intact\n")
    cli("verify", other["case_id"], expect=1)
    assert cli("verify", expect=1).stdout.startswith("checked 2 cases, ")


def test_verify_of_an_unknown_case(cli, store):
    result = cli("verify", "MC-1999-0001", expect=1)
    assert result.stderr == "Error: no case 'MC-1999-0001' in this store\n"


def test_editing_a_verdict_or_note_row_is_detected(cli, case, store):
    case_id = case["case_id"]
    _sql(store, "UPDATE verdicts SET rating = 'StagedContent', proposed_by = 'bob'")
    _sql(store, "UPDATE notes SET text = 'Found in 2019'")
    result = cli("verify", expect=1)
    assert result.stderr.splitlines() == [
        f"error: {case_id} note 1: text differs from the history (edited)",
        f"error: {case_id} verdict 1: proposed_by, rating differs from the history (edited)",
    ]


def test_approving_in_the_database_without_an_event_is_detected(cli, case, store):
    case_id = case["case_id"]
    _sql(store, "UPDATE verdicts SET state = 'approved', decided_by = 'bob'")
    assert cli.json("show", case_id)["final_verdict"] == "OriginalMediaContent"
    problems = cli.json("verify", expect=1)["problems"]
    assert [(p["kind"], p["message"]) for p in problems] == [
        ("record", f"{case_id} verdict 1: state, decided_by differs from the history (edited)")
    ]


def test_a_deleted_note_is_detected(cli, case, store):
    _sql(store, "DELETE FROM notes")
    assert cli("verify", expect=1).stderr == (
        f"error: {case['case_id']} note 1: is in the history but was deleted\n"
    )


def test_a_note_added_behind_mediacheck_is_detected(cli, case, store):
    _sql(
        store,
        "INSERT INTO notes (id, case_id, text, author, at) VALUES (5, :case, 'x', 'eve', 'now')",
        case=case["case_id"],
    )
    assert cli("verify", expect=1).stderr == (
        f"error: {case['case_id']} note 5: has no history event (added outside mediacheck)\n"
    )


def _review_a_case(store: Store, title: str, picture: Path) -> str:
    [taken] = Cli(store.root).json("intake", picture, "--title", title)
    case_id = taken["case_id"]
    first = review.add_note(store, case_id, "alice", "Found in 2019", engine="tineye")
    review.add_note(store, case_id, "bob", "In 2021", corrects=first.id)
    review.propose(store, case_id, "alice", review.Proposal("StagedContent", "Actors"))
    review.approve(store, case_id, "bob")
    return case_id


def test_an_imported_case_verifies_although_its_records_are_renumbered(tmp_path):
    source = Store.open(config.resolve(store=tmp_path / "a", db_url="", user="alice"))
    source.create_case(CaseFields(title="first"), "alice")
    exported = _review_a_case(source, "exported", photo(tmp_path / "a.jpg"))
    bundle.export_case(source, exported, tmp_path / "case.zip")
    target = Store.open(config.resolve(store=tmp_path / "b", db_url="", user="bob"))
    _review_a_case(target, "already here", photo(tmp_path / "b.jpg", seed=2))
    bundle.import_bundle(target, tmp_path / "case.zip", "bob")
    assert [n.id for n in target.notes(exported)] == [3, 4]
    assert [v.id for v in target.verdicts(exported)] == [2]
    report = verify.verify(target)
    assert (report.cases, report.problems) == (2, [])


def test_the_cases_holding_many_media_are_found_in_batches(cli, case, store):
    unknown = [f"{i:016x}" for i in range(1200)]  # more ids than one statement may bind

    holding = store.cases_holding([*unknown, case["media_id"]])

    assert holding[case["media_id"]] == [case["case_id"]]
    assert all(holding[m] == [] for m in unknown) and len(holding) == 1201
