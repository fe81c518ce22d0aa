"""export / import: BagIt bundles that round-trip, and hostile bundles that are refused whole."""

from __future__ import annotations

import hashlib
import json
import random
import re
import stat
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from mediacheck import config
from mediacheck.errors import BundleError, CaseExists
from mediacheck.history import chain
from mediacheck.publish import bundle
from mediacheck.store.database import Store
from tests.backends import postgres_schema
from tests.conftest import Cli
from tests.media import photo, png_bomb
from tests.objects import on_both_blob_stores
from tests.video_clips import write_clip

CLAIM = "Two missiles hit the building"


@pytest.fixture
def target_url(backend: str) -> Iterator[str]:
    """A second, empty database on the test's backend."""
    if backend == "sqlite":
        yield ""
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def target(tmp_path: Path, target_url: str) -> Cli:
    return Cli(tmp_path / "target", user="carol", db_url=target_url)


@pytest.fixture
def target_store(tmp_path: Path, target_url: str) -> Store:
    return Store.open(config.resolve(store=tmp_path / "target", db_url=target_url, user="carol"))


def exif_photo(path: Path) -> Path:
    """A JPEG with a camera, a capture time and GPS (the Eiffel Tower) in its EXIF."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Nikon", "D750"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 10:00:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 29.0), "E", (2.0, 17.0, 40.0)
    return photo(path, exif=exif, quality=90)


def make_case(tmp_path: Path, cli: Cli) -> str:
    """A case with a claim, a note, a correction and an approved verdict; returns its id."""
    [result] = cli.json(
        "intake", exif_photo(tmp_path / "strike.jpg"), "--title", "Strike", "--claim", CLAIM
    )
    case_id = result["case_id"]
    cli("note", case_id, "TinEye: 2019", "--engine", "tineye", "--url", "https://t.example/1")
    cli("note", case_id, "TinEye: 2018 in fact", "--engine", "tineye", "--corrects", "1")
    cli("verdict", "propose", case_id, "DecontextualizedContent", "--rationale", "Seen in 2018")
    cli("verdict", "approve", case_id, user="bob")
    return case_id


@pytest.fixture
def exported(tmp_path: Path, cli: Cli) -> tuple[str, Path]:
    case_id = make_case(tmp_path, cli)
    path = tmp_path / "case.zip"
    cli("export", case_id, "-o", path)
    return case_id, path


@pytest.fixture(scope="module")
def sample_bundle(tmp_path_factory) -> Path:
    """One exported case (from SQLite) that the hostile-bundle tests tamper with."""
    folder = tmp_path_factory.mktemp("sample")
    source = Cli(folder / "cases")
    case_id = make_case(folder, source)
    source("export", case_id, "-o", folder / "case.zip")
    return folder / "case.zip"


def test_export_writes_a_bagit_bag(exported, cli):
    case_id, path = exported
    media = cli.json("show", case_id)["media"][0]

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert zf.read("bagit.txt") == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        manifest = dict(
            reversed(line.split("  ", 1))
            for line in zf.read("manifest-sha256.txt").decode().split("\n")
            if line
        )
        info = zf.read("bag-info.txt").decode()
        case_json = json.loads(zf.read("data/case.json"))
        history = [json.loads(line) for line in zf.read("data/history.jsonl").splitlines()]
        for name, digest in manifest.items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
        payload = sum(zf.getinfo(name).file_size for name in manifest)

    assert {
        "data/case.json",
        "data/report.html",
        "data/history.jsonl",
        "data/records.json",
    } <= names
    assert f"data/originals/{media['sha256']}" in manifest
    assert names == set(manifest) | {
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
    }
    assert f"External-Identifier: {case_id}\n" in info
    assert f"Payload-Oxum: {payload}.{len(manifest)}\n" in info
    assert case_json["history"] == cli.json("history", case_id)
    assert [e["hash"] for e in history] == [e["hash"] for e in case_json["history"]]


def test_export_json_and_summary(tmp_path, cli):
    [result] = cli.json("intake", photo(tmp_path / "a.jpg"))
    path = tmp_path / "a.zip"

    exported = cli.json("export", result["case_id"], "-o", path)
    with zipfile.ZipFile(path) as zf:
        payload = [i for i in zf.infolist() if i.filename.startswith("data/")]
    size = sum(i.file_size for i in payload)
    summary = cli("export", result["case_id"], "-o", path).stdout

    assert exported == {
        "case_id": result["case_id"],
        "path": str(path),
        "files": len(payload),
        "payload_bytes": size,
        "integrity": {"ok": True, "problems": []},
    }
    assert (
        summary == f"{result['case_id']}: {len(payload)} files ({size} bytes) written to {path}\n"
    )


@on_both_blob_stores
def test_an_altered_or_missing_original_is_never_exported(tmp_path, cli, tamper):
    [result] = cli.json("intake", photo(tmp_path / "a.jpg"))
    sha256 = result["sha256"]
    tamper.write(sha256, tamper.read(sha256) + b"x")
    out = tmp_path / "a.zip"

    altered = cli("export", result["case_id"], "-o", out, expect=1)
    tamper.delete(sha256)
    missing = cli("export", result["case_id"], "-o", out, expect=1)

    media_id = result["media_id"]
    case_id, path = result["case_id"], tamper.location(sha256)
    assert altered.stderr.startswith(
        f"Error: {case_id} not exported: it fails its integrity check: original {media_id} "
        f"was altered: {path} now has SHA-256 "
    )
    assert altered.stderr.endswith(f" (run `mediacheck verify {case_id}`)\n")
    assert missing.stderr == (
        f"Error: {case_id} not exported: it fails its integrity check: original {media_id} "
        f"is missing: {path} (run `mediacheck verify {case_id}`)\n"
    )
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".export-*")) == []


def test_round_trip_into_an_empty_store_verifies(exported, cli, target):
    case_id, path = exported
    events = cli.json("history", case_id)

    result = target.json("import", path)

    assert result["case_id"] == case_id
    assert result["media_already_stored"] == []
    assert result["events"] == len(events)
    assert target("verify").stdout == (
        f"checked 1 cases, {len(events) + 1} events, 1 originals: all intact\n"
    )
    assert target.json("show", case_id) == cli.json("show", case_id)
    imported = target.json("history", case_id)
    assert imported[:-1] == events
    assert (imported[-1]["action"], imported[-1]["user"]) == ("case-imported", "carol")
    assert imported[-1]["details"] == {
        "bundle": "case.zip",
        "events_imported": len(events),
        "media_added": result["media_added"],
    }


def test_a_case_changed_every_way_imports_and_verifies(tmp_path, cli, target):
    fields = ("--source-url", "https://t.me/c/1", "--platform", "telegram")
    fields += ("--posted-at", "2026-01-03T06:10:00Z", "--tag", "missile", "--tag", "night")
    [first] = cli.json("intake", exif_photo(tmp_path / "a.jpg"), "--title", "A", *fields)
    case_id = first["case_id"]
    [second] = cli.json("intake", photo(tmp_path / "b.png", seed=3), "--case", case_id)
    a, b = ("--media", first["media_id"]), ("--media", second["media_id"])
    cli("case", "set", case_id, "--title", "B", "--claim", "C", "--tag", "x", "--untag", "night")
    cli("case", "set", case_id, "--claimed-location", "48.85,2.29", "--assign", "bob")
    cli("case", "set", case_id, "--status", "in-review", "--claim", "D")
    cli("case", "set", case_id, "--source-url", "https://t.me/c/2", "--platform", "x")
    cli("case", "set", case_id, "--posted-at", "2026-01-04T08:00:00+02:00")
    cli("note", case_id, "seen", *a, "--earliest-date", "2019-03-02")
    cli(
        "verdict",
        "propose",
        case_id,
        "StagedContent",
        *a,
        "--rationale",
        "R",
        "--confidence",
        "low",
    )
    cli("verdict", "reject", case_id, "--reason", "no", user="bob")
    cli("verdict", "propose", case_id, "EditedOrCroppedContent", *a, "--rationale", "R2")
    cli("verdict", "approve", case_id, "--comment", "ok", user="bob")
    cli("verdict", "propose", case_id, "OriginalMediaContent", *b, "--rationale", "R3")
    cli("verdict", "approve", case_id, *b, user="bob")
    cli("case", "set", case_id, "--status", "open", "--reason", "a third picture is coming")
    cli("analyze", case_id)
    path = tmp_path / "changed.zip"
    cli("export", case_id, "-o", path)

    target("import", path)

    shown, source = target.json("show", case_id), cli.json("show", case_id)
    for media in source["media"]:
        media["seen_before"] = []  # they describe the archive the case came from
    assert shown == source
    assert (shown["status"], shown["posted_at"]) == ("open", "2026-01-04T08:00:00+02:00")
    assert shown["final_verdict"] == "Mixed: OriginalMediaContent, EditedOrCroppedContent"
    assert target("verify").stdout.endswith(" 2 originals: all intact\n")


def test_imported_media_can_be_found_again(exported, tmp_path, target):
    case_id, path = exported
    [media_id] = target.json("import", path)["media_added"]
    copy = tmp_path / "reshared.jpg"
    with Image.open(tmp_path / "strike.jpg") as img:
        img.resize((576, 432)).save(copy, quality=70)

    [found] = target.json("match", copy)

    [match] = found["matches"]
    assert (match["case_id"], match["media_id"]) == (case_id, media_id)
    assert match["method"] != "sha256"  # found by the fingerprints the bundle carried


def test_a_video_travels_with_its_keyframes_and_contact_sheet(tmp_path, cli, target):
    [result] = cli.json("intake", write_clip(tmp_path / "clip.mp4", cut_at=1.5))
    path = tmp_path / "clip.zip"
    cli("export", result["case_id"], "-o", path)
    [media] = cli.json("show", result["case_id"])["media"]
    pictures = [media["contact_sheet"], *(frame["path"] for frame in media["keyframes"])]

    imported = target.json("import", path)

    assert len(media["keyframes"]) >= 2
    with zipfile.ZipFile(path) as zf:
        derived = [n for n in zf.namelist() if n.startswith("data/derived/")]
    assert imported["files"] == len(derived)
    assert {f"data/{p}" for p in pictures} <= set(derived)
    assert target.json("show", result["case_id"]) == cli.json("show", result["case_id"])
    for picture in pictures:
        copied = tmp_path / "target" / picture
        assert copied.read_bytes() == (tmp_path / "cases" / picture).read_bytes()
    report = target("report", result["case_id"]).stdout
    assert report.count('alt="keyframe at ') == len(media["keyframes"])
    assert report.count('alt="thumbnail of clip.mp4"') == 1
    assert report.count('alt="contact sheet"') == 1


def test_a_case_already_in_the_store_is_never_replaced(exported, target):
    case_id, path = exported
    target("import", path)
    before = target.json("history", case_id)

    refused = target("import", path, expect=1)

    assert refused.stderr == (
        f"Error: case '{case_id}' already exists in this store: import refused, nothing was "
        "added (a case keeps its id for good: desks that exchange bundles each number with a "
        "desk prefix of their own, set with MEDIACHECK_DESK or --desk)\n"
    )
    assert target.json("history", case_id) == before


def test_into_a_busy_store_originals_are_kept_and_notes_renumbered(
    tmp_path, cli, target, target_store
):
    cli("intake", photo(tmp_path / "other.jpg", seed=5))  # the exported case becomes the second
    case_id = make_case(tmp_path, cli)
    path = tmp_path / "case.zip"
    cli("export", case_id, "-o", path)
    [mine] = target.json("intake", tmp_path / "strike.jpg")
    target("note", mine["case_id"], "a note of this desk")
    original = target_store.blobs.original_path(mine["sha256"])
    first_name = target_store.get_media(mine["media_id"]).first_name

    result = target.json("import", path)

    assert (result["media_added"], result["media_already_stored"]) == ([], [mine["media_id"]])
    notes = target.json("show", case_id)["notes"]
    assert [(n["id"], n["corrects"], n["corrected_by"]) for n in notes] == [
        (2, None, [3]),
        (3, 2, []),
    ]
    assert target_store.get_media(mine["media_id"]).first_name == first_name
    assert hashlib.sha256(original.read_bytes()).hexdigest() == mine["sha256"]
    checked = target("verify").stdout
    assert checked.startswith("checked 2 cases, ") and checked.endswith(
        " 1 originals: all intact\n"
    )


# Hostile bundles: each is refused and leaves the store as it was


def rewrite(source: Path, out: Path, change) -> Path:
    """Copy a zip entry by entry; ``change(name, data)`` returns the entries to write instead."""
    with (
        zipfile.ZipFile(source) as src,
        zipfile.ZipFile(out, "w") as dst,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", UserWarning)  # duplicate names, on purpose
        for info in src.infolist():
            for entry, data in change(info.filename, src.read(info)):
                dst.writestr(entry, data)
    return out


def rebag(source: Path, out: Path, change, oxum: str | None = None) -> Path:
    """Like ``rewrite`` but with the payload size and both manifests recomputed: a forger's
    careful edit. ``oxum`` declares another payload size ("" leaves it out)."""
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as src:
        for name in src.namelist():
            entries.update(dict(change(name, src.read(name))))
    payload = {n: d for n, d in entries.items() if n.startswith("data/")}
    if oxum is None:
        oxum = f"{sum(map(len, payload.values()))}.{len(payload)}"
    line = f"Payload-Oxum: {oxum}\n" if oxum else ""
    info = entries["bag-info.txt"].decode()
    entries["bag-info.txt"] = re.sub(r"Payload-Oxum: \S+\n", line, info).encode()
    entries["manifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(payload.items())
    ).encode()
    entries["tagmanifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(entries[n]).hexdigest()}  {n}\n"
        for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")
    ).encode()
    with zipfile.ZipFile(out, "w") as dst:
        for name, data in entries.items():
            dst.writestr(name, data)
    return out


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _plus(name: str, data: bytes, extra, extra_data: bytes):
    """The entry as it is, and once (beside bagit.txt) the attacker's extra entry."""
    return [(name, data), (extra, extra_data)] if name == "bagit.txt" else [(name, data)]


def _edit_history(name: str, data: bytes):
    if name == "data/history.jsonl":
        lines = data.decode().splitlines()
        event = json.loads(lines[1])
        event["user"] = "mallory"
        lines[1] = json.dumps(event)
        data = ("\n".join(lines) + "\n").encode()
    return [(name, data)]


def _drop_last_event(name: str, data: bytes):
    if name == "data/history.jsonl":
        data = b"".join(data.splitlines(keepends=True)[:-1])
    return [(name, data)]


def _swap_original(name: str, data: bytes):
    if name.startswith("data/originals/"):
        data = data[:-1] + b"\x00"
    return [(name, data)]


HOSTILE = {
    "parent": (
        lambda n, d: _plus(n, d, "data/../../evil.txt", b"x"),
        "refused entry 'data/../../evil.txt': the path escapes the bundle",
    ),
    "absolute": (
        lambda n, d: _plus(n, d, "/etc/evil", b"x"),
        "refused entry '/etc/evil': the path escapes the bundle",
    ),
    "windows": (
        lambda n, d: _plus(n, d, "C:/evil", b"x"),
        "refused entry 'C:/evil': the path escapes the bundle",
    ),
    "backslash": (
        lambda n, d: _plus(n, d, "data\\..\\evil", b"x"),
        "refused entry 'data\\\\..\\\\evil': the path escapes the bundle",
    ),
    "symlink": (
        lambda n, d: _plus(n, d, symlink("data/link"), b"/etc/passwd"),
        "refused entry 'data/link': a symbolic link",
    ),
    "duplicate": (
        lambda n, d: [(n, d), (n, d)] if n == "data/case.json" else [(n, d)],
        "refused entry 'data/case.json': the name appears twice",
    ),
    "tampered": (
        lambda n, d: [(n, d.replace(b"Strike", b"Strike!") if n == "data/case.json" else d)],
        "data/case.json does not match its SHA-256 in manifest-sha256.txt: altered",
    ),
    "unlisted": (
        lambda n, d: _plus(n, d, "data/extra.txt", b"x"),
        "data/extra.txt is not both in manifest-sha256.txt and in the bundle: altered",
    ),
    "outside data": (
        lambda n, d: _plus(n, d, "evil.sh", b"x"),
        "unexpected file 'evil.sh' outside data/",
    ),
    "huge tag file": (
        lambda n, d: [(n, d + bytes(40 * 1024**2) if n == "bagit.txt" else d)],
        "bagit.txt is larger than a tag file may be (33554432 bytes)",
    ),
    "no manifest": (
        lambda n, d: [] if n == "manifest-sha256.txt" else [(n, d)],
        "manifest-sha256.txt is missing: not a mediacheck bundle",
    ),
}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_hostile_bundles_are_refused_before_anything_is_added(
    attack, sample_bundle, tmp_path, target_store
):
    change, message = HOSTILE[attack]
    path = rewrite(sample_bundle, tmp_path / "hostile.zip", change)

    with pytest.raises(BundleError) as refused:
        bundle.import_bundle(target_store, path, "carol")

    assert str(refused.value) == message
    assert_nothing_added(target_store)


def _edit_records(edit):
    """A change that rewrites data/records.json through ``edit(records)``."""

    def change(name: str, data: bytes):
        if name == "data/records.json":
            records = json.loads(data)
            edit(records)
            data = json.dumps(records).encode()
        return [(name, data)]

    return change


def _planted_keyframe(records: dict) -> None:
    media_id = records["media"][0]["id"]
    frame = {"media_id": media_id, "idx": 0, "time_s": 0.0, "path": "../../etc/passwd"}
    records["keyframes"].append(frame | {"hashes": {}, "pdq_quality": None})


REBAGGED = {
    "no records": (
        lambda n, d: [(n, b"{}" if n == "data/records.json" else d)],
        "records.json or history.jsonl is malformed: 'case'",
    ),
    "renumbered case": (
        _edit_records(lambda r: r["case"].update(year=1999)),
        "does not match its year and number",
    ),
    "renamed media": (
        _edit_records(lambda r: r["media"][0].update(id="0" * 16)),
        "a media id is not the start of its SHA-256",
    ),
    "keyframe outside": (
        _edit_records(_planted_keyframe),
        "a picture path leads outside its media's folder",
    ),
    "edited history": (_edit_history, "history chain is broken"),
    "truncated history": (_drop_last_event, "the last events were deleted"),
    "swapped original": (_swap_original, "is missing or altered"),
    "planted picture": (
        lambda n, d: _plus(n, d, "data/derived/00/" + "0" * 64 + "/k.jpg", b"x"),
        "unexpected file 'data/derived/00/" + "0" * 64 + "/k.jpg': it belongs to no media",
    ),
}


@pytest.mark.parametrize("attack", list(REBAGGED))
def test_forged_bundles_with_valid_manifests_are_refused(
    attack, sample_bundle, tmp_path, target_store
):
    change, message = REBAGGED[attack]
    path = rebag(sample_bundle, tmp_path / "forged.zip", change)

    with pytest.raises(BundleError, match=message):
        bundle.import_bundle(target_store, path, "carol")
    assert_nothing_added(target_store)


# Forgeries that recompute every manifest: only the rows' history and the originals catch them


def _records(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("data/records.json"))


def _forge(source: Path, edit):
    """A change that edits records.json and history.jsonl together, the chain recomputed.

    ``edit(records, events)`` changes them in place (event details as parsed JSON).
    """
    forged = _forged_pair(source, edit)
    return lambda name, data: [(name, forged.get(name, data))]


def _forged_pair(source: Path, edit) -> dict[str, bytes]:
    with zipfile.ZipFile(source) as zf:
        records = json.loads(zf.read("data/records.json"))
        events = [json.loads(line) for line in zf.read("data/history.jsonl").splitlines()]
    for event in events:
        event["details"] = json.loads(event["details"])
    edit(records, events)
    prev = chain.GENESIS
    for event in events:
        event["details"] = chain.canonical_json(event["details"])
        event["prev_hash"] = prev
        content = {k: event[k] for k in ("case_id", "seq", "at", "user", "action", "details")}
        event["hash"] = prev = chain.event_hash(**content, prev_hash=prev)
    records["case"]["head_hash"] = prev
    lines = "".join(json.dumps(event) + "\n" for event in events)
    return {"data/records.json": json.dumps(records).encode(), "data/history.jsonl": lines.encode()}


def _media(edit):
    return _edit_records(lambda r: edit(r["media"][0]))


def _kind_everywhere(records: dict, events: list[dict]) -> None:
    records["media"][0]["kind"] = "video"
    [added] = [e for e in events if e["action"] == "media-added"]
    added["details"]["kind"] = "video"


def _replace_derived(data_of):
    def change(name: str, data: bytes):
        return [(name, data_of(data) if name.startswith("data/derived/") else data)]

    return change


def _extra_picture(name: str, data: bytes):
    if not name.startswith("data/derived/"):
        return [(name, data)]
    extra = name.rsplit("/", 1)[0] + "/extra.png"
    return [(name, data), (extra, data)]


def forgeries(sample: Path, folder: Path) -> dict[str, tuple]:
    """Each forgery and the one line that refuses it, once ``bundle {path}: `` is put before it."""
    records = _records(sample)
    media = records["media"][0]
    m, case_id = media["id"], records["case"]["id"]
    with zipfile.ZipFile(sample) as zf:
        derived = next(n for n in zf.namelist() if n.startswith("data/derived/"))
        original = zf.read(f"data/originals/{media['sha256']}")
        created_at = json.loads(zf.read("data/history.jsonl").splitlines()[0])["at"]
    phash = media["hashes"]["phash"]
    return {
        "title": (
            _edit_records(lambda r: r["case"].update(title="Forged")),
            'case title says "Forged" but the history says "Strike"',
        ),
        "claim": (
            _edit_records(lambda r: r["case"].update(claim="Nothing happened")),
            f'case claim says "Nothing happened" but the history says "{CLAIM}"',
        ),
        "created at": (
            _edit_records(lambda r: r["case"].update(created_at="2019-01-01T00:00:00+00:00")),
            'case created_at says "2019-01-01T00:00:00+00:00" '
            f'but the history says it was created at "{created_at}"',
        ),
        "status": (
            _edit_records(lambda r: r["case"].update(status="open")),
            'case status says "open" but the history says "closed"',
        ),
        "original name": (
            _edit_records(lambda r: r["links"][0].update(original_name="evil.jpg")),
            f'media {m}: original_name says "evil.jpg" but the history says "strike.jpg"',
        ),
        "capture time": (
            _media(lambda x: x["summary"].update(captured_at="2019-01-01T00:00:00")),
            f'media {m}: summary.captured_at says "2019-01-01T00:00:00" '
            'but the original says "2024-05-01T10:00:00"',
        ),
        "gps": (
            _media(lambda x: x["summary"].update(gps_latitude=10.5)),
            f"media {m}: summary.gps_latitude says 10.5 but the original says 48.85805555555556",
        ),
        "make": (
            _media(lambda x: x["summary"].update(make="Canon")),
            f'media {m}: summary.make says "Canon" but the original says "Nikon"',
        ),
        "metadata": (
            _media(lambda x: x["meta"]["exif"].update({"Image Model": "EOS 5D"})),
            f'media {m}: metadata.exif.Image Model says "EOS 5D" but the original says "D750"',
        ),
        "added metadata": (
            _media(lambda x: x["meta"]["exif"].update({"GPS GPSAltitude": "100"})),
            f'media {m}: metadata.exif.GPS GPSAltitude says "100" but the original says nothing',
        ),
        "sha1": (
            _media(lambda x: x.update(sha1="0" * 40)),
            f'media {m}: sha1 says "{"0" * 40}" '
            f'but the original says "{hashlib.sha1(original).hexdigest()}"',
        ),
        "md5": (
            _media(lambda x: x.update(md5="0" * 32)),
            f'media {m}: md5 says "{"0" * 32}" '
            f'but the original says "{hashlib.md5(original).hexdigest()}"',
        ),
        "perceptual hash": (
            _media(lambda x: x["hashes"].update(phash="0" * 16)),
            f'media {m}: hashes.phash says "{"0" * 16}" but the original says "{phash}"',
        ),
        "fingerprint": (
            _edit_records(lambda r: r["fingerprints"][0].update(bits="AAAA")),
            f'media {m}: fingerprint 1.bits says "000000" but the original gives "',
        ),
        "kind": (
            _media(lambda x: x.update(kind="video")),
            f'media {m}: kind says "video" but the history says "image"',
        ),
        "mime": (
            _media(lambda x: x.update(mime="image/png")),
            f'media {m}: mime says "image/png" but the history says "image/jpeg"',
        ),
        "size": (
            _media(lambda x: x.update(size=1)),
            f"media {m}: size says 1 but the history says {len(original)}",
        ),
        "kind in the history too": (
            _forge(sample, _kind_everywhere),
            f'media {m}: kind says "video" but the original says "image"',
        ),
        "verdict rating": (
            _edit_records(lambda r: r["verdicts"][0].update(rating="OriginalMediaContent")),
            f"{case_id} verdict 1: rating differs from the history (edited)",
        ),
        "note text": (
            _edit_records(lambda r: r["notes"][0].update(text="TinEye: nothing found")),
            f"{case_id} note 1: text differs from the history (edited)",
        ),
        "non-picture": (
            _replace_derived(lambda d: b"#!/bin/sh\nrm -rf ~\n"),
            f"{derived}: not a JPEG or PNG picture",
        ),
        "huge picture": (
            _replace_derived(lambda d: png_bomb(folder / "huge.png", 8000, 8000).read_bytes()),
            f"{derived}: 8000x8000 pixels, more than a derived picture has (50000000)",
        ),
        "bomb picture": (
            _replace_derived(lambda d: png_bomb(folder / "bomb.png").read_bytes()),
            f"{derived}: a decompression bomb, far more pixels than a derived picture has",
        ),
        "broken picture": (
            _replace_derived(lambda d: d[: len(d) // 2]),
            f"{derived}: the picture does not decode: ",
        ),
        "unnamed picture": (
            _extra_picture,
            f"{derived.rsplit('/', 1)[0]}/extra.png: no row of the case refers to this picture",
        ),
    }


@pytest.fixture(scope="module")
def forged_bundles(sample_bundle, tmp_path_factory) -> dict[str, tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("forged")
    found = {}
    for i, (attack, (change, message)) in enumerate(forgeries(sample_bundle, folder).items()):
        path = rebag(sample_bundle, folder / f"forged-{i}.zip", change)
        found[attack] = (path, f"bundle {path}: {message}")
    return found


ATTACKS = (
    "title",
    "claim",
    "created at",
    "status",
    "original name",
    "capture time",
    "gps",
    "make",
    "metadata",
    "added metadata",
    "sha1",
    "md5",
    "perceptual hash",
    "fingerprint",
    "kind",
    "mime",
    "size",
    "kind in the history too",
    "verdict rating",
    "note text",
    "non-picture",
    "huge picture",
    "bomb picture",
    "broken picture",
    "unnamed picture",
)


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_rows_and_pictures_are_refused_whole(attack, forged_bundles, target_store):
    path, message = forged_bundles[attack]

    with pytest.raises(BundleError) as refused:
        bundle.import_bundle(target_store, path, "carol")

    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
    assert_nothing_added(target_store)


def test_every_forgery_has_its_test(sample_bundle, tmp_path):
    assert tuple(forgeries(sample_bundle, tmp_path)) == ATTACKS


def test_the_forgeries_fail_through_the_cli_with_one_line(forged_bundles, target):
    path, message = forged_bundles["gps"]

    refused = target("import", path, expect=1)

    assert refused.stderr == f"Error: {message}\n"
    assert target.json("cases") == []


def test_forged_findings_never_enter_they_are_worked_out_again(
    sample_bundle, tmp_path, target, target_store
):
    def forged(records: dict) -> None:
        for row in records["findings"]:
            row.update(severity="warning", message="Pixels were edited")

    path = rebag(sample_bundle, tmp_path / "findings.zip", _edit_records(forged))
    genuine = _records(sample_bundle)["findings"]

    case_id = target.json("import", path)["case_id"]

    [media] = target.json("show", case_id)["media"]
    assert genuine and all(f["message"] != "Pixels were edited" for f in genuine)
    assert [(f["code"], f["severity"], f["message"]) for f in media["findings"]] == [
        (f["code"], f["severity"], f["message"]) for f in genuine
    ]


def test_a_forged_keyframe_is_refused(tmp_path, cli, target_store):
    [result] = cli.json("intake", write_clip(tmp_path / "clip.mp4", cut_at=1.5))
    path = tmp_path / "clip.zip"
    cli("export", result["case_id"], "-o", path)
    [frame] = _records(path)["keyframes"][:1]
    forged = rebag(
        path,
        tmp_path / "forged.zip",
        _edit_records(lambda r: r["keyframes"][0]["hashes"].update(phash="0" * 16)),
    )

    with pytest.raises(BundleError) as refused:
        bundle.import_bundle(target_store, forged, "carol")

    assert str(refused.value) == (
        f"bundle {forged}: media {result['media_id']}: keyframe 1.hashes.phash says "
        f'"{"0" * 16}" but the original gives "{frame["hashes"]["phash"]}"'
    )
    assert_nothing_added(target_store)


# Sizes: what the bag declares bounds what it may unpack to, checked while it unpacks


def _unchanged(name: str, data: bytes):
    return [(name, data)]


def _declared_payload(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        info = zf.read("bag-info.txt").decode()
    return int(re.search(r"Payload-Oxum: (\d+)\.", info).group(1))


def bomb(source: Path, out: Path, size: int, honest: bool) -> Path:
    """``source`` with data/case.json replaced by ``size`` zero bytes: a tiny zip of a huge file.

    The manifests are recomputed; ``honest`` declares the true payload size in bag-info.txt.
    """
    zeros, digest = bytes(1024**2), hashlib.sha256()
    with zipfile.ZipFile(source) as src:
        entries = {n: src.read(n) for n in src.namelist() if n != "data/case.json"}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        with dst.open("data/case.json", "w", force_zip64=True) as huge:
            for _ in range(size // len(zeros)):
                huge.write(zeros)
                digest.update(zeros)
        digests = {n: hashlib.sha256(d).hexdigest() for n, d in entries.items() if n[:5] == "data/"}
        digests["data/case.json"] = digest.hexdigest()
        payload = sum(len(d) for n, d in entries.items() if n.startswith("data/")) + size
        info = entries["bag-info.txt"].decode()
        if honest:
            info = re.sub(r"Payload-Oxum: \d+", f"Payload-Oxum: {payload}", info)
        entries["bag-info.txt"] = info.encode()
        manifest = "".join(f"{d}  {n}\n" for n, d in sorted(digests.items()))
        entries["manifest-sha256.txt"] = manifest.encode()
        tags = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")
        entries["tagmanifest-sha256.txt"] = "".join(
            f"{hashlib.sha256(entries[n]).hexdigest()}  {n}\n" for n in tags
        ).encode()
        for name, data in entries.items():
            dst.writestr(name, data)
    return out


BOMB_SIZE = 100 * 1024**2


def test_a_zip_bomb_is_refused_before_it_unpacks(sample_bundle, tmp_path, target_store):
    honest = bomb(sample_bundle, tmp_path / "honest.zip", BOMB_SIZE, honest=True)
    quiet = bomb(sample_bundle, tmp_path / "quiet.zip", BOMB_SIZE, honest=False)

    with pytest.raises(BundleError) as declared:
        bundle.import_bundle(target_store, honest, "carol")
    with pytest.raises(BundleError) as undeclared:
        bundle.import_bundle(target_store, quiet, "carol")

    octets, size = _declared_payload(honest), honest.stat().st_size
    assert size < 1024**2 < BOMB_SIZE < octets
    assert str(declared.value) == (
        f"bag-info.txt declares {octets} bytes of payload, more than a {size}-byte zip holds: "
        "refused as a zip bomb"
    )
    with zipfile.ZipFile(quiet) as zf:
        unpacked = sum(i.file_size for i in zf.infolist() if i.filename.startswith("data/"))
    limit = 2 * _declared_payload(quiet) + 16 * 1024**2
    assert str(undeclared.value) == f"too large: {unpacked} bytes unpacked (the limit is {limit})"
    assert_nothing_added(target_store)


def _patch_declared_size(path: Path, name: str, size: int) -> None:
    """Make the central directory say ``name`` unpacks to ``size`` bytes, whatever it holds."""
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02" + bytes(24)[:0])
    while data[entry + 46 : entry + 46 + len(name)] != name.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["data/records.json", "data/originals/"])
def test_an_entry_larger_than_its_header_stops_at_the_header(
    name, sample_bundle, tmp_path, target_store
):
    path = rewrite(sample_bundle, tmp_path / "liar.zip", _unchanged)
    with zipfile.ZipFile(path) as zf:
        [info] = [i for i in zf.infolist() if i.filename.startswith(name)]
    _patch_declared_size(path, info.filename, info.file_size // 2)

    with pytest.raises(BundleError) as refused:
        bundle.import_bundle(target_store, path, "carol")

    assert str(refused.value) == (
        f"{info.filename} cannot be unpacked: Bad CRC-32 for file {info.filename!r}"
    )
    assert_nothing_added(target_store)


def test_a_derived_file_too_large_for_a_picture_is_refused_before_it_unpacks(
    sample_bundle, tmp_path, target_store
):
    big = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (21 * 4096)
    path = rebag(sample_bundle, tmp_path / "big.zip", _replace_derived(lambda d: big))
    with zipfile.ZipFile(path) as zf:
        [derived] = [n for n in zf.namelist() if n.startswith("data/derived/")]

    with pytest.raises(BundleError) as refused:
        bundle.import_bundle(target_store, path, "carol")

    assert str(refused.value) == (
        f"{derived}: {len(big)} bytes, more than a derived picture may be (20971520)"
    )
    assert_nothing_added(target_store)


PAYLOAD_DECLARATIONS = {
    "no oxum": ("", "bag-info.txt has no valid Payload-Oxum: the payload size is unknown"),
    "bad oxum": ("lots", "bag-info.txt has no valid Payload-Oxum: the payload size is unknown"),
    "files": (
        "1000.99",
        "bag-info.txt declares 99 payload files but manifest-sha256.txt lists 6",
    ),
    "octets": ("1000.6", "the payload is {real} bytes but bag-info.txt declares 1000: altered"),
}


@pytest.mark.parametrize("declaration", list(PAYLOAD_DECLARATIONS))
def test_the_payload_must_be_what_bag_info_declares(
    declaration, sample_bundle, tmp_path, target_store
):
    oxum, message = PAYLOAD_DECLARATIONS[declaration]
    path = rebag(sample_bundle, tmp_path / "declared.zip", _unchanged, oxum=oxum)

    with pytest.raises(BundleError) as refused:
        bundle.import_bundle(target_store, path, "carol")

    assert str(refused.value) == message.format(real=_declared_payload(sample_bundle))
    assert_nothing_added(target_store)


def test_an_explicit_max_size_caps_the_cli_import(tmp_path, cli, target):
    noise = Image.frombytes("RGB", (800, 800), random.Random(0).randbytes(800 * 800 * 3))
    [result] = cli.json("intake", photo(tmp_path / "small.png"), "--quick")
    noise.save(tmp_path / "noise.png")
    [big] = cli.json("intake", tmp_path / "noise.png", "--case", result["case_id"], "--quick")
    path = tmp_path / "big.zip"
    cli("export", result["case_id"], "-o", path)
    with zipfile.ZipFile(path) as zf:
        size = sum(i.file_size for i in zf.infolist())

    refused = target("import", "--max-size", "1", path, expect=1)

    assert size > 1024**2
    assert refused.stderr == f"Error: too large: {size} bytes unpacked (the limit is 1048576)\n"
    imported = target.json("import", path)["media_added"]
    assert imported == sorted([result["media_id"], big["media_id"]])


def test_another_cases_pictures_stay_behind(tmp_path, cli, target):
    [first] = cli.json("intake", photo(tmp_path / "a.jpg"))
    [second] = cli.json("intake", tmp_path / "a.jpg", "--quick", "--new-case")
    path = tmp_path / "quick.zip"
    [media] = cli.json("show", first["case_id"])["media"]
    first_pictures = [f["image"] for f in media["findings"] if f["image"]]

    cli("export", second["case_id"], "-o", path)

    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    assert first_pictures and not any(n.startswith("data/derived/") for n in names)
    assert target.json("import", path)["case_id"] == second["case_id"]
    assert target("verify").stdout.endswith("all intact\n")


def test_oversized_and_crowded_bundles_are_refused(sample_bundle, target_store):
    path = sample_bundle
    with zipfile.ZipFile(path) as zf:
        size = sum(i.file_size for i in zf.infolist())
        count = len(zf.infolist())

    with pytest.raises(BundleError) as big:
        bundle.import_bundle(target_store, path, "carol", bundle.Limits(max_bytes=size - 1))
    with pytest.raises(BundleError) as many:
        bundle.import_bundle(target_store, path, "carol", bundle.Limits(max_entries=count - 1))

    assert str(big.value) == f"too large: {size} bytes unpacked (the limit is {size - 1})"
    assert str(many.value) == f"too many entries: {count} (the limit is {count - 1})"
    assert_nothing_added(target_store)


def test_import_cli_refuses_with_one_line(tmp_path, target):
    not_zip = tmp_path / "case.zip"
    not_zip.write_bytes(b"PK\x03\x04 not really")

    result = target("import", not_zip, expect=1)

    assert result.stderr == f"Error: {not_zip}: not a readable zip file (File is not a zip file)\n"
    big = target("import", "--max-size", "0", not_zip, expect=2)
    assert "0 is not in the range x>=1" in big.stderr


def test_case_exists_is_refused_inside_the_transaction_too(exported, target_store):
    bundle.import_bundle(target_store, exported[1], "carol")
    records = target_store.case_records(exported[0])

    with pytest.raises(CaseExists):
        target_store.import_case(records, "carol", {})


def assert_nothing_added(store: Store) -> None:
    assert store.list_cases() == []
    assert store.all_media() == []
    originals = store.blobs.originals
    assert [p for p in originals.rglob("*") if p.is_file()] == []
    assert list(store.root.glob(".import-*")) == []


@given(st.text(min_size=1, max_size=40))
def test_every_accepted_entry_name_stays_inside_the_bundle(name):
    info = zipfile.ZipInfo(name)
    try:
        bundle.check_entries([info], bundle.Limits())
    except BundleError:
        return
    root = Path("/bag")
    resolved = (root / info.filename).resolve()
    assert resolved.is_relative_to(root) and resolved != root
    assert ".." not in info.filename.split("/")
