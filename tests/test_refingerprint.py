"""``db refingerprint``: an archive's fingerprints made again from its stored originals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from sqlalchemy import text

from mediacheck.intake.pipeline import IntakeRequest, intake
from mediacheck.match.fingerprints import RECORD, entry_words
from mediacheck.match.search import KEYPOINTS_KIND, RECORD_KIND, ArchiveSearch
from tests.corpus import FILES, needs_corpus
from tests.objects import on_both_blob_stores
from tests.test_seen import photo_clip

pytestmark = needs_corpus

HOUSE = FILES / "mde/simple.jpg"
DOOR = FILES / "exifr/door-knocker.jpg"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(store, media_id: str) -> list[tuple[int, str, float | None, bytes]]:
    """(id, kind, frame time, bits) of a media item's fingerprint rows, in id order."""
    query = text(
        "SELECT id, kind, frame_time_s, bits FROM fingerprints WHERE media_id = :m ORDER BY id"
    )
    with store.engine.connect() as conn:
        found = conn.execute(query, {"m": media_id})
        return [(i, kind, t, bytes(bits)) for i, kind, t, bits in found]


def _contents(rows) -> list[tuple[str, float | None, bytes]]:
    return [(kind, t, bits) for _, kind, t, bits in rows]


def _words(store, media_id: str) -> int:
    """How many keypoint words its match rows give the index."""
    records = [bits for _, kind, _, bits in _rows(store, media_id) if kind == RECORD_KIND]
    parts = [np.frombuffer(bits, dtype="<u4", offset=RECORD.itemsize) for bits in records]
    return sum(len(entry_words(part)) for part in parts)


def _as_written_before_words(store, media_id: str) -> None:
    """Its match rows cut to the record alone, as versions before the keypoint words wrote."""
    rows = _rows(store, media_id)  # read first: the store's transactions lock SQLite
    with store.engine.begin() as conn:
        for row_id, kind, _, bits in rows:
            if kind == RECORD_KIND:
                conn.execute(
                    text("UPDATE fingerprints SET bits = :b WHERE id = :i"),
                    {"b": bits[: RECORD.itemsize], "i": row_id},
                )


def _taken_in(store, *paths: Path) -> list[str]:
    intake(store, list(paths), IntakeRequest(user="alice"))
    return [store.media_by_sha256(_sha256(p)).id for p in paths]


def test_rows_of_an_earlier_version_are_made_again_as_intake_makes_them(store, cli, monkeypatch):
    monkeypatch.setattr("mediacheck.match.search.SNAPSHOT_AFTER", 1)
    house, door = _taken_in(store, HOUSE, DOOR)
    as_taken_in, door_rows = _rows(store, house), _rows(store, door)
    _as_written_before_words(store, house)
    ArchiveSearch(store).refresh()  # a snapshot of the old rows
    assert _words(store, house) == 0

    assert cli.json("db", "refingerprint") == [{"media_id": house, "pictures": 1}]

    again = _rows(store, house)
    assert _contents(again) == _contents(as_taken_in)  # byte for byte what intake wrote
    assert [kind for _, kind, _, _ in again] == [RECORD_KIND, KEYPOINTS_KIND]
    assert min(row[0] for row in again) > max(row[0] for row in door_rows)  # added last
    assert _rows(store, door) == door_rows  # a current item is left alone
    archive = ArchiveSearch(store)
    archive.refresh()  # the snapshot lacks a row of the database: read again
    assert [archive.index.media_id(i) for i in range(len(archive.index))] == [door, house]
    assert len(archive.index.words) == _words(store, door) + _words(store, house) > 0
    assert cli.json("db", "refingerprint") == []  # nothing left of the earlier version
    assert cli("db", "refingerprint").stdout == "0 media fingerprinted again\n"


def test_named_media_and_all_media_are_made_again_whatever_wrote_them(store, cli, tmp_path):
    clip = photo_clip(tmp_path / "pan.mp4", DOOR, (320, 240))
    house, video = _taken_in(store, HOUSE, clip)
    frames = [row for row in _rows(store, video) if row[1] == RECORD_KIND]
    before = _contents(_rows(store, video))

    found = cli.json("db", "refingerprint", "--all")

    assert found == [{"media_id": house, "pictures": 1}, {"media_id": video, "pictures": 4}]
    assert len(frames) == 4 and _contents(_rows(store, video)) == before
    assert min(row[0] for row in _rows(store, video)) > max(row[0] for row in frames)  # new rows
    assert cli.json("db", "refingerprint", house[:8]) == [{"media_id": house, "pictures": 1}]
    out = cli("db", "refingerprint", house).stdout
    assert out == f"{house}: fingerprinted again (1 picture)\n1 media fingerprinted again\n"


@on_both_blob_stores
def test_an_altered_or_missing_original_keeps_its_rows_and_stops_nothing(store, cli, tamper):
    house, door = _taken_in(store, HOUSE, DOOR)
    _as_written_before_words(store, house)
    _as_written_before_words(store, door)
    old_house = _rows(store, house)
    sha256 = _sha256(HOUSE)
    tamper.write(sha256, tamper.read(sha256) + b"x")

    found = cli.json("db", "refingerprint", expect=1)

    assert found == [
        {
            "media_id": house,
            "pictures": 0,
            "error": f"media {house}: its stored original at {tamper.location(sha256)} no "
            "longer matches its SHA-256; its fingerprints are kept",
        },
        {"media_id": door, "pictures": 1},
    ]
    assert _rows(store, house) == old_house and _words(store, door) > 0
    tamper.delete(sha256)
    result = cli("db", "refingerprint", expect=1)
    assert result.stdout == "0 media fingerprinted again, 1 failed\n"
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: media {house}: its stored original cannot be read at ")
    assert _rows(store, house) == old_house


def test_an_unknown_media_id_is_one_error_line_and_the_others_are_done(store, cli):
    [house] = _taken_in(store, HOUSE)
    result = cli("db", "refingerprint", "nosuchmedia", house, expect=1)
    assert result.stderr == "error: no media 'nosuchmedia' in this store\n"
    assert result.stdout.endswith("1 media fingerprinted again, 1 failed\n")
    assert cli("db", "refingerprint", house, "--all", expect=2).exit_code == 2
