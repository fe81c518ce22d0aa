"""The unique-key races the store expects, forced on both backends.

Two desks can both read the same highest case number, or both find a new
file's bytes missing; the loser's transaction runs again. Any other integrity
failure is a bug and is never retried.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from mediacheck.errors import ConcurrentUpdate
from mediacheck.history import chain as history
from mediacheck.store import cases, database, media
from mediacheck.store.cases import CaseFields
from mediacheck.store.ids import parse_case_id
from mediacheck.store.media import MediaIntake
from mediacheck.store.models import CaseMedia, KeyframeRow, Media


def _media() -> Media:
    return Media(
        id="ab" * 8,
        sha256="ab" * 32,
        sha1="c" * 40,
        md5="d" * 32,
        size=3,
        kind="image",
        mime="image/jpeg",
        blob_path="originals/ab",
        first_name="x.jpg",
        created_at=history.now(),
    )


def _link() -> CaseMedia:
    return CaseMedia(
        case_id="",
        media_id="",
        original_name="x.jpg",
        original_path="/in/x.jpg",
        added_by="alice",
        added_at=history.now(),
    )


def _taken_once(monkeypatch, taken: str) -> list[str]:
    """Make the next case number read ``taken`` once, as a desk that lost the race would."""
    real = cases.next_case_number
    handed: list[str] = []

    def racing(session, desk, year):
        number = parse_case_id(taken) if not handed else real(session, desk, year)
        assert number is not None
        handed.append(number.case_id)
        return number

    monkeypatch.setattr(cases, "next_case_number", racing)
    return handed


def test_a_taken_case_number_is_numbered_again(store, monkeypatch):
    first = store.create_case(CaseFields(title="first"), "alice")
    handed = _taken_once(monkeypatch, first.id)
    second = store.create_case(CaseFields(title="second"), "bob")
    year = datetime.now(UTC).year
    assert handed == [f"MC-{year}-0001", f"MC-{year}-0002"]
    assert second.id == f"MC-{year}-0002"
    assert [e.action for e in store.events(second.id)] == ["case-created"]
    assert [c.case.title for c in store.list_cases()] == ["first", "second"]


def test_a_file_stored_meanwhile_is_linked_not_stored_again(store, monkeypatch):
    case = store.create_case(CaseFields(title="t"), "alice")
    other = store.create_case(CaseFields(title="u"), "bob")
    store.add_media_to_case(MediaIntake(_media(), _link(), {}, case_id=other.id))
    # This desk looked before the other desk's row was committed: it saw no such bytes.
    real, looks = media.by_sha256, []

    def late_look(session, sha256):
        looks.append(sha256)
        return real(session, sha256) if len(looks) > 1 else None

    monkeypatch.setattr(media, "by_sha256", late_look)
    case_id, stored, linked = store.add_media_to_case(
        MediaIntake(_media(), _link(), {}, case_id=case.id)
    )
    assert (case_id, stored.id, linked) == (case.id, "ab" * 8, True)
    assert len(looks) == 2
    assert len(store.all_media()) == 1
    assert [e.action for e in store.events(case.id)] == ["case-created", "media-added"]


def test_a_race_lost_every_time_is_one_line(store, monkeypatch):
    first = store.create_case(CaseFields(title="first"), "alice")
    monkeypatch.setattr(database, "RETRIES", 3)
    taken = parse_case_id(first.id)
    monkeypatch.setattr(cases, "next_case_number", lambda session, desk, year: taken)
    with pytest.raises(ConcurrentUpdate) as caught:
        store.create_case(CaseFields(title="second"), "bob")
    assert str(caught.value) == (
        "other desks took the same new case number 3 times in a row: nothing was written, try again"
    )
    assert [c.case.id for c in store.list_cases()] == [first.id]


def test_other_integrity_errors_are_not_retried(store, monkeypatch):
    case = store.create_case(CaseFields(title="t"), "alice")
    real, calls = media.add_media_to_case, []

    def counted(session, intake, desk):
        calls.append(intake.case_id)
        return real(session, intake, desk)

    monkeypatch.setattr(media, "add_media_to_case", counted)
    orphan = KeyframeRow(media_id="no-such-media", idx=0, time_s=0.0, path="derived/x.jpg")
    with pytest.raises(IntegrityError):
        store.add_media_to_case(
            MediaIntake(_media(), _link(), {}, case_id=case.id, keyframes=[orphan])
        )
    assert calls == [case.id]
    assert store.all_media() == []


def test_reads_do_not_wait_for_another_desks_write_lock(tmp_path):
    # SQLite: a transaction that only reads takes no lock, so a desk taking in a
    # batch never holds up another desk's listing (nor its own archive search).
    from mediacheck import config

    store = database.Store.open(config.resolve(store=tmp_path / "cases", user="alice"))
    created = store.create_case(CaseFields(title="Caracas"), "alice")
    other = sqlite3.connect(tmp_path / "cases" / "mediacheck.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another desk in the middle of a write
    try:
        read = threading.Thread(target=lambda: listed.extend(store.list_cases()))
        listed: list = []
        read.start()
        read.join(timeout=10)
        assert not read.is_alive()
        assert [row.case.id for row in listed] == [created.id]
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.engine.dispose()


def _intake_of(sha256: str) -> MediaIntake:
    row = _media()
    row.id, row.sha256 = sha256[:12], sha256
    return MediaIntake(media=row, membership=_link(), details={}, new_case=CaseFields(title="x"))


def test_commits_that_do_not_wait_for_the_disk_are_flushed_with_their_group(store):
    # A group's records: atomic and visible at once, durable with the group's last commit.
    store.add_media_to_case(_intake_of("1" * 64), durable=False)
    store.add_media_to_case(_intake_of("2" * 64), durable=False)
    assert store.unflushed
    assert {m.sha256 for m in store.all_media()} == {"1" * 64, "2" * 64}
    store.add_media_to_case(_intake_of("3" * 64))  # a durable commit that wrote
    assert not store.unflushed
    store.add_media_to_case(_intake_of("4" * 64), durable=False)
    known = replace(_intake_of("4" * 64), only_new=True)
    assert store.add_media_to_case(known)[0] is None  # wrote nothing: known bytes make no case
    assert store.unflushed
    store.flush()
    assert not store.unflushed
    assert len(store.all_media()) == 4
