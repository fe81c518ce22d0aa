"""``match`` and intake's "seen before": the archive search through the CLI and the store."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import av
import numpy as np
from sqlalchemy import text

from mediacheck.intake.pipeline import IntakeRequest, intake
from mediacheck.match import snapshot
from mediacheck.match.index import FingerprintIndex
from mediacheck.match.search import (
    RECORD_KIND,
    ArchiveSearch,
    file_pictures,
    match_files,
    picture_probes,
)
from mediacheck.media.pictures import open_picture
from tests.corpus import FILES, needs_corpus
from tests.objects import on_both_blob_stores
from tests.reshare import TRANSFORMS

pytestmark = needs_corpus

HOUSE = FILES / "mde/simple.jpg"
# The span fields of a match: a photo's are null (tests/test_spans.py has videos').
NO_SPAN = {"stored_start_s": None, "stored_end_s": None, "query_start_s": None, "query_end_s": None}
DOOR = FILES / "exifr/door-knocker.jpg"


def reshared(tmp_path: Path, source: Path, transform: str, name: str = "copy.jpg") -> Path:
    copy = TRANSFORMS[transform](open_picture(source).image, random.Random(transform))
    copy.save(tmp_path / name, quality=90)
    return tmp_path / name


def photo_clip(path: Path, source: Path, size: tuple[int, int], seconds: float = 4) -> Path:
    """A video that pans slowly over a photo, a keyframe every second."""
    still = open_picture(source).image
    fps = 10
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps), "sc_threshold": "0"}
        for i in range(round(seconds * fps)):
            left = i * 2
            view = still.crop((left, 0, left + still.width - 80, still.height)).resize(size)
            frame = av.VideoFrame.from_ndarray(np.asarray(view), "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_match_finds_a_reshared_copy_and_stores_nothing(cli, tmp_path):
    [stored] = cli.json("intake", HOUSE, "--title", "House on the hill")
    copy = reshared(tmp_path, HOUSE, "caption")
    [result] = cli.json("match", copy)
    assert result["path"] == str(copy)
    [found] = result["matches"]
    assert found == {
        "case_id": stored["case_id"],
        "case_title": "House on the hill",
        "verdict": "Unverified",
        "media_id": stored["media_id"],
        "sha256": stored["sha256"],
        "kind": "image",
        "method": "trimmed-phash",
        "distance": 4.0,
        "score": 0.875,
        "frame_time_s": None,
        **NO_SPAN,
    }
    assert cli("match", copy).stdout == (
        f"{copy}: seen before\n"
        f"  {stored['case_id']}  House on the hill  (Unverified)  image {stored['media_id']}  "
        "trimmed-phash distance 4 score 0.88\n"
    )
    assert len(cli.json("cases")) == 1


def test_exact_bytes_come_first_then_copies(cli, tmp_path):
    [house] = cli.json("intake", HOUSE)
    crop = reshared(tmp_path, HOUSE, "crop")
    [crop_intake] = cli.json("intake", crop)
    [result] = cli.json("match", HOUSE)
    assert [(m["media_id"], m["method"], m["distance"], m["score"]) for m in result["matches"]][
        0
    ] == (house["media_id"], "sha256", 0, 1.0)
    assert [m["media_id"] for m in result["matches"]] == [
        house["media_id"],
        crop_intake["media_id"],
    ]


def test_unrelated_photo_is_not_seen_before(cli):
    cli("intake", HOUSE)
    assert cli.json("match", DOOR) == [{"path": str(DOOR), "matches": []}]
    assert cli("match", DOOR).stdout == f"{DOOR}: not seen before\n"


def test_a_file_that_cannot_be_searched_fails_alone(cli, tmp_path):
    cli("intake", HOUSE)
    garbage = tmp_path / "broken.jpg"
    garbage.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    missing = tmp_path / "missing.jpg"
    copy = reshared(tmp_path, HOUSE, "mirror")
    result = cli("match", garbage, missing, copy, "--json", expect=1)
    broken, gone, found = json.loads(result.stdout)
    assert broken == {
        "path": str(garbage),
        "matches": [],
        "error": f"{garbage}: picture cannot be decoded: Truncated File Read",
    }
    assert gone["error"] == f"{missing}: cannot be read: No such file or directory"
    assert [m["method"] for m in found["matches"]] == ["phash-mirror"]
    human = cli("match", garbage, copy, expect=1)
    assert f"error: {garbage}: picture cannot be decoded: Truncated File Read" in human.stderr
    assert "seen before" in human.stdout


def test_intake_records_what_it_has_seen_before(cli, tmp_path):
    [first] = cli.json("intake", HOUSE, "--title", "House on the hill")
    [second] = cli.json("intake", reshared(tmp_path, HOUSE, "screenshot"))
    doc = cli.json("show", second["case_id"])
    [seen] = doc["media"][0]["seen_before"]
    assert seen == {
        "case_id": first["case_id"],
        "case_title": "House on the hill",
        "media_id": first["media_id"],
        "sha256": first["sha256"],
        "method": seen["method"],
        "distance": seen["distance"],
        "frame_time_s": None,
        "verdict": "Unverified",
        **NO_SPAN,
    }
    assert seen["method"] in ("trimmed-phash", "keypoints")
    events = cli.json("history", second["case_id"])
    assert [e["action"] for e in events] == ["case-created", "media-added", "seen-before"]
    assert events[-1]["details"] == {
        "media_id": second["media_id"],
        "matches": [
            {
                "media_id": first["media_id"],
                "case_id": first["case_id"],
                "method": seen["method"],
                "distance": seen["distance"],
                "frame_time_s": None,
            }
        ],
    }
    shown = cli("show", second["case_id"]).stdout
    assert "\n  seen before\n" in shown
    assert (
        f"    {first['case_id']}     House on the hill  Unverified  media {first['media_id']}"
        in (shown)
    )
    assert cli.json("show", first["case_id"])["media"][0]["seen_before"] == []


def test_video_keyframes_and_photos_find_each_other(cli, tmp_path):
    clip = photo_clip(tmp_path / "clip.mp4", DOOR, (320, 208))
    [video] = cli.json("intake", clip)
    still = tmp_path / "still.jpg"
    open_picture(DOOR).image.crop((40, 0, 760, 533)).resize((480, 312)).save(still)
    [result] = cli.json("match", still)
    [found] = result["matches"]
    assert (found["media_id"], found["kind"]) == (video["media_id"], "video")
    assert found["frame_time_s"] in (0.0, 1.0, 2.0, 3.0)
    smaller = photo_clip(tmp_path / "smaller.mp4", DOOR, (240, 156), seconds=3)
    [again] = cli.json("match", smaller)
    assert [m["media_id"] for m in again["matches"]] == [video["media_id"]]


def test_a_photo_used_in_a_video_is_found(cli, tmp_path):
    [photo] = cli.json("intake", DOOR)
    [result] = cli.json("match", photo_clip(tmp_path / "clip.mp4", DOOR, (320, 208)))
    assert [(m["media_id"], m["frame_time_s"]) for m in result["matches"]] == [
        (photo["media_id"], None)
    ]


def test_archive_loads_only_new_rows(store, tmp_path):
    intake(store, [HOUSE], IntakeRequest(user="alice"))
    archive = ArchiveSearch(store)
    archive.refresh()
    assert len(archive.index) == 1
    intake(store, [DOOR], IntakeRequest(user="alice"))
    archive.refresh()
    assert (len(archive.index), archive.index.media_id(1)) == (2, _media_id(store, DOOR))
    [result] = match_files(store, [reshared(tmp_path, DOOR, "rotate")])
    assert [m.media_id for m in result.matches] == [_media_id(store, DOOR)]


def _media_id(store, path: Path) -> str:
    return store.media_by_sha256(hashlib.sha256(path.read_bytes()).hexdigest()).id


@on_both_blob_stores
def test_a_large_archive_starts_from_its_snapshot(store, monkeypatch):
    monkeypatch.setattr("mediacheck.match.search.SNAPSHOT_AFTER", 1)
    intake(store, [HOUSE, DOOR], IntakeRequest(user="alice"))
    first = ArchiveSearch(store)
    first.refresh()
    assert store.blobs.shared_file(first.snapshot) is not None
    assert snapshot.mapped(first.index.words.postings)  # the snapshot it wrote, mapped
    read_after = []
    rows = store.fingerprint_rows
    monkeypatch.setattr(
        store,
        "fingerprint_rows",
        lambda k, after_id: read_after.append(after_id) or rows(k, after_id),
    )
    again = ArchiveSearch(store)
    again.refresh()
    assert read_after == [first.last_id]
    assert [again.index.media_id(i) for i in range(2)] == [
        _media_id(store, HOUSE),
        _media_id(store, DOOR),
    ]


@on_both_blob_stores
def test_a_new_snapshot_removes_the_old_formats_file(store, monkeypatch):
    old = "index/match-v1.npz"
    store.blobs.write_shared_file(old, lambda f: f.write(b"an index of an earlier version"))
    monkeypatch.setattr("mediacheck.match.search.SNAPSHOT_AFTER", 1)
    intake(store, [HOUSE], IntakeRequest(user="alice"))
    archive = ArchiveSearch(store)
    archive.refresh()
    assert store.blobs.shared_file(old) is None
    assert _snapshot_rows(store) == [_media_id(store, HOUSE)]


def _snapshot_rows(store) -> list:
    path = store.blobs.shared_file(ArchiveSearch(store).snapshot)
    index = FingerprintIndex.load(path)
    return [index.media_id(i) for i in range(len(index))]


def test_a_stale_snapshot_is_ignored(store, monkeypatch):
    monkeypatch.setattr("mediacheck.match.search.SNAPSHOT_AFTER", 1)
    intake(store, [HOUSE, DOOR], IntakeRequest(user="alice"))
    ArchiveSearch(store).refresh()
    assert len(_snapshot_rows(store)) == 2
    door = _media_id(store, DOOR)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM fingerprints WHERE media_id = :m"), {"m": door})
    archive = ArchiveSearch(store)
    archive.refresh()
    assert [archive.index.media_id(i) for i in range(len(archive.index))] == [
        _media_id(store, HOUSE)
    ]


def test_a_snapshot_missing_a_row_committed_late_is_ignored(store):
    intake(store, [HOUSE, DOOR], IntakeRequest(user="alice"))
    rows = store.fingerprint_rows(RECORD_KIND)
    late = FingerprintIndex.from_rows(rows[1:])  # as if the first row's commit came after
    store.blobs.write_shared_file(ArchiveSearch(store).snapshot, late.save)
    archive = ArchiveSearch(store)
    archive.refresh()
    assert [archive.index.media_id(i) for i in range(len(archive.index))] == [
        _media_id(store, HOUSE),
        _media_id(store, DOOR),
    ]


def test_an_unreadable_snapshot_is_ignored(store):
    intake(store, [HOUSE], IntakeRequest(user="alice"))
    store.blobs.write_shared_file(ArchiveSearch(store).snapshot, lambda f: f.write(b"garbage"))
    archive = ArchiveSearch(store)
    archive.refresh()
    assert [archive.index.media_id(0)] == [_media_id(store, HOUSE)]


@on_both_blob_stores
def test_pictures_added_after_a_snapshot_are_found_and_saved_in_the_next(
    store, monkeypatch, tmp_path
):
    monkeypatch.setattr("mediacheck.match.search.SNAPSHOT_AFTER", 1)
    intake(store, [HOUSE], IntakeRequest(user="alice"))
    archive = ArchiveSearch(store)
    archive.refresh()
    monkeypatch.setattr("mediacheck.match.search.SNAPSHOT_AFTER", 2)
    intake(store, [DOOR], IntakeRequest(user="alice"))
    archive.refresh()  # one row since the snapshot: held beside it
    assert (len(archive.index), archive.unsaved) == (2, 1)
    assert _snapshot_rows(store) == [_media_id(store, HOUSE)]
    [result] = match_files(store, [reshared(tmp_path, DOOR, "rotate")])
    assert [m.media_id for m in result.matches] == [_media_id(store, DOOR)]
    third = FILES / "exifr/IMG_20180725_163423.jpg"
    intake(store, [third], IntakeRequest(user="alice"))
    archive.refresh()  # two since: a new snapshot of all three, mapped in place of the old
    assert archive.unsaved == 0
    assert _snapshot_rows(store) == [_media_id(store, p) for p in (HOUSE, DOOR, third)]
    assert snapshot.mapped(archive.index.words.postings)


@on_both_blob_stores
def test_a_reader_keeps_its_snapshot_while_another_replaces_it(store, monkeypatch, tmp_path):
    monkeypatch.setattr("mediacheck.match.search.SNAPSHOT_AFTER", 1)
    intake(store, [HOUSE, DOOR], IntakeRequest(user="alice"))
    ArchiveSearch(store).refresh()
    reader = ArchiveSearch(store)
    reader.refresh()
    assert snapshot.mapped(reader.index.words.postings)
    copy = reshared(tmp_path, DOOR, "rotate")
    before = reader.search(file_probes(copy))
    third = FILES / "exifr/IMG_20180725_163423.jpg"
    intake(store, [third], IntakeRequest(user="alice"))
    writer = ArchiveSearch(store)
    writer.refresh()  # writes a snapshot of three rows over the one the reader maps
    assert _snapshot_rows(store) == [_media_id(store, p) for p in (HOUSE, DOOR, third)]
    assert reader.search(file_probes(copy)) == before
    assert [reader.index.media_id(i) for i in range(2)] == [
        _media_id(store, HOUSE),
        _media_id(store, DOOR),
    ]
    reader.refresh()
    assert len(reader.index) == 3


def file_probes(path: Path) -> list:
    return [probe for _, probe in picture_probes(file_pictures(path))]


def approved(cli, case_id: str, rating: str = "DecontextualizedContent") -> None:
    cli("verdict", "propose", case_id, rating, "--rationale", "The photo is from 2019")
    cli("verdict", "approve", case_id, user="bob")


def test_the_same_bytes_again_join_no_case_and_name_the_verdict(cli, tmp_path):
    [first] = cli.json("intake", HOUSE, "--title", "House on the hill")
    approved(cli, first["case_id"])
    events = cli.json("history", first["case_id"])
    mislabelled = tmp_path / "mislabelled.png"
    mislabelled.write_bytes(HOUSE.read_bytes())

    [again] = cli.json("intake", mislabelled)

    holder = {
        "case_id": first["case_id"],
        "case_title": "House on the hill",
        "verdict": "DecontextualizedContent",
        "media_id": first["media_id"],
        "sha256": first["sha256"],
        "kind": "image",
        "method": "sha256",
        "distance": 0.0,
        "score": 1.0,
        "frame_time_s": None,
        **NO_SPAN,
    }
    assert (again["status"], again["case_id"], again["media_id"]) == (
        "already-stored",
        None,
        first["media_id"],
    )
    assert (again["cases"], again["seen_before"], again["error"]) == (
        [first["case_id"]],
        [holder],
        None,
    )
    human = cli("intake", HOUSE)
    assert human.stdout == (
        f"already-stored  -  {first['media_id']}  image/jpeg  {HOUSE}  "
        f"held by {first['case_id']} (DecontextualizedContent, approved)\n"
    )
    assert human.stderr == ""
    assert [c["case_id"] for c in cli.json("cases")] == [first["case_id"]]
    assert cli.json("history", first["case_id"]) == events  # nothing written anywhere


def test_new_case_records_the_identical_file_as_seen_before(cli, tmp_path):
    [first] = cli.json("intake", HOUSE, "--title", "House on the hill")
    approved(cli, first["case_id"])
    [again] = cli.json("intake", HOUSE, "--new-case", "--title", "Re-shared")
    assert again["status"] == "already-stored" and again["case_id"] != first["case_id"]
    assert again["cases"] == [first["case_id"]]
    [seen] = cli.json("show", again["case_id"])["media"][0]["seen_before"]
    assert seen == {
        "case_id": first["case_id"],
        "case_title": "House on the hill",
        "verdict": "DecontextualizedContent",
        "media_id": first["media_id"],
        "sha256": first["sha256"],
        "method": "sha256",
        "distance": 0.0,
        "frame_time_s": None,
        **NO_SPAN,
    }
    events = cli.json("history", again["case_id"])
    assert [e["action"] for e in events] == ["case-created", "media-added", "seen-before"]
    assert events[-1]["details"]["matches"][0]["method"] == "sha256"
    # The earlier case lists no later copy as "seen before", and no item lists itself.
    assert cli.json("show", first["case_id"])["media"][0]["seen_before"] == []
    shown = cli("show", again["case_id"]).stdout
    assert (
        f"    {first['case_id']}     House on the hill  DecontextualizedContent, approved  "
        f"media {first['media_id']} (sha256, distance 0)\n"
    ) in shown
    # A third case names both that held the bytes before it.
    [third] = cli.json("intake", HOUSE, "--new-case")
    held = cli.json("show", third["case_id"])["media"][0]["seen_before"]
    assert [(s["case_id"], s["verdict"]) for s in held] == [
        (first["case_id"], "DecontextualizedContent"),
        (again["case_id"], "Unverified"),
    ]


def test_adding_known_bytes_to_a_named_case_records_where_they_were(cli, tmp_path):
    [first] = cli.json("intake", HOUSE, "--title", "House on the hill")
    [other] = cli.json("intake", DOOR, "--title", "Door")
    [added] = cli.json("intake", HOUSE, "--case", other["case_id"].lower())
    assert (added["status"], added["case_id"]) == ("already-stored", other["case_id"])
    assert [s["case_id"] for s in added["seen_before"]] == [first["case_id"]]
    doc = cli.json("show", other["case_id"])
    assert [len(m["seen_before"]) for m in doc["media"]] == [0, 1]
    # Into a case that holds it already: nothing recorded, only the other case named.
    [same] = cli.json("intake", HOUSE, "--case", first["case_id"])
    assert same["case_id"] == first["case_id"]
    assert [s["case_id"] for s in same["seen_before"]] == [other["case_id"]]
    assert cli.json("show", first["case_id"])["media"][0]["seen_before"] == []


def test_an_altered_reshare_names_the_earlier_case_and_its_verdict(cli, tmp_path):
    [first] = cli.json("intake", HOUSE, "--title", "House on the hill")
    approved(cli, first["case_id"], "EditedOrCroppedContent")
    copy = reshared(tmp_path, HOUSE, "screenshot")
    [found] = cli.json("match", copy)[0]["matches"]
    assert (found["case_id"], found["case_title"], found["verdict"]) == (
        first["case_id"],
        "House on the hill",
        "EditedOrCroppedContent",
    )
    assert "(EditedOrCroppedContent, approved)" in cli("match", copy).stdout
    line = cli("intake", copy).stdout
    assert line.startswith("added ")
    assert line.endswith(f"  copy of {first['case_id']} (EditedOrCroppedContent, approved)\n")


def test_items_of_one_case_are_never_each_others_seen_before(cli, tmp_path):
    crop = reshared(tmp_path, HOUSE, "crop")
    results = cli.json("intake", HOUSE, crop, "--one-case")
    case_id = results[0]["case_id"]
    assert [r["case_id"] for r in results] == [case_id, case_id]
    assert [r["seen_before"] for r in results] == [[], []]
    mirror = reshared(tmp_path, HOUSE, "mirror", name="mirror.jpg")
    [added] = cli.json("intake", mirror, "--case", case_id)
    assert added["seen_before"] == []
    doc = cli.json("show", case_id)
    assert [m["seen_before"] for m in doc["media"]] == [[], [], []]
    assert "seen-before" not in [e["action"] for e in cli.json("history", case_id)]


def test_the_same_file_twice_in_one_batch_makes_one_case(cli, tmp_path):
    twin = tmp_path / "twin.jpg"
    twin.write_bytes(HOUSE.read_bytes())
    first, second = cli.json("intake", HOUSE, twin, "--jobs", "2")
    assert first["status"] == "added"
    assert (second["status"], second["case_id"], second["cases"]) == (
        "already-stored",
        None,
        [first["case_id"]],
    )
    assert len(cli.json("cases")) == 1
    staging = [p for p in (cli_store(cli) / "originals").rglob("*") if p.is_file()]
    assert [p.name for p in staging] == [first["sha256"]]  # the second copy was dropped


def cli_store(cli) -> Path:
    return Path(cli.env["MEDIACHECK_HOME"])
