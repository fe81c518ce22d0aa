"""export / import: BagIt bundles that round-trip, and hostile bundles that are refused whole."""

from __future__ import annotations

import hashlib
import json
import stat
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediacheck import bundle, config
from mediacheck.errors import BundleError, CaseExists
from mediacheck.storage import Store
from tests.backends import postgres_schema
from tests.conftest import Cli
from tests.media import photo


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


def make_case(tmp_path: Path, cli: Cli) -> str:
    """A case with a note, a correction and an approved verdict; returns its id."""
    [result] = cli.json("intake", photo(tmp_path / "strike.jpg"), "--title", "Strike")
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


def test_a_case_already_in_the_store_is_never_replaced(exported, target):
    case_id, path = exported
    target("import", path)
    before = target.json("history", case_id)

    refused = target("import", path, expect=1)

    assert refused.stderr == (
        f"Error: case '{case_id}' already exists in this store: import refused, nothing was added\n"
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


def rebag(source: Path, out: Path, change) -> Path:
    """Like ``rewrite`` but with both manifests recomputed: a forger's careful edit."""
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as src:
        for name in src.namelist():
            entries.update(dict(change(name, src.read(name))))
    payload = {n: d for n, d in entries.items() if n.startswith("data/")}
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
    "no manifest": (
        lambda n, d: [] if n == "manifest-sha256.txt" else [(n, d)],
        "manifest-sha256.txt is missing: not a mediacheck bundle",
    ),
}


@pytest.mark.parametrize("attack", list(HOSTILE))
def test_hostile_bundles_are_refused_before_anything_is_added(
    attack, exported, tmp_path, target_store
):
    change, message = HOSTILE[attack]
    path = rewrite(exported[1], tmp_path / "hostile.zip", change)

    with pytest.raises(BundleError) as refused:
        bundle.import_bundle(target_store, path, "carol")

    assert str(refused.value) == message
    assert_nothing_added(target_store)


REBAGGED = {
    "edited history": (_edit_history, "history chain is broken"),
    "truncated history": (_drop_last_event, "the last events were deleted"),
    "swapped original": (_swap_original, "is missing or altered"),
    "planted picture": (
        lambda n, d: _plus(n, d, "data/derived/00/" + "0" * 64 + "/k.jpg", b"x"),
        "unexpected file 'data/derived/00/" + "0" * 64 + "/k.jpg': it belongs to no media",
    ),
}


@pytest.mark.parametrize("attack", list(REBAGGED))
def test_forged_bundles_with_valid_manifests_are_refused(attack, exported, tmp_path, target_store):
    change, message = REBAGGED[attack]
    path = rebag(exported[1], tmp_path / "forged.zip", change)

    with pytest.raises(BundleError, match=message):
        bundle.import_bundle(target_store, path, "carol")
    assert_nothing_added(target_store)


def test_oversized_and_crowded_bundles_are_refused(exported, target_store):
    path = exported[1]
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
