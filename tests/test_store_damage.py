"""A damaged, lost or full store: one line naming it, never a traceback, nothing rebuilt.

The SQLite files are damaged the ways disks and people damage them: cut short,
a bad header, garbage over one page, another file in their place, deleted or
emptied beside the originals they described.
"""

from __future__ import annotations

import errno
import gc
import os
import random
import re
import secrets
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from mediacheck.errors import StoreError
from mediacheck.store.blobs import FolderBlobs
from mediacheck.store.models import CaseMedia
from tests.backends import POSTGRES_URL, admin_engine, postgres_schema
from tests.conftest import Cli
from tests.media import photo

PAGE = 4096  # SQLite's default page size, which mediacheck keeps


@pytest.fixture
def case(cli, tmp_path: Path) -> dict:
    [result] = cli.json("intake", photo(tmp_path / "strike.jpg"), "--title", "IVIC")
    cli("note", result["case_id"], "--engine", "tineye", "Nothing older")
    return result


def _commands(case_id: str, tmp_path: Path) -> list[list[str]]:
    """Commands that read or write every part of the database."""
    extra = photo(tmp_path / "extra.jpg", seed=3)
    return [
        ["cases"],
        ["show", case_id],
        ["show", case_id, "--json"],
        ["history", case_id],
        ["verify"],
        ["verify", case_id, "--json"],
        ["report", case_id, "--format", "json"],
        ["note", case_id, "another note"],
        ["match", extra],
        ["intake", extra, "--case", case_id],
        ["intake", extra, "--title", "new case"],
    ]


def _settled(db: Path) -> bytearray:
    """The SQLite file's bytes once every commit is folded in from the write-ahead log."""
    gc.collect()  # close the connections the in-process commands left in their pools
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for side in db.parent.glob(db.name + "-*"):
        side.unlink()
    return bytearray(db.read_bytes())


def _rootpage(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        [(page,)] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
    return page


def _garbage_over_page(data: bytearray, page: int) -> bytes:
    start = (page - 1) * PAGE
    data[start : start + PAGE] = random.Random(page).randbytes(PAGE)
    return bytes(data)


def _damage(kind: str, db: Path) -> bytes:
    data = _settled(db)
    if kind == "truncated":
        return bytes(data[: len(data) // 2 + 100])
    if kind == "bad header":
        return b"not SQLite at all" + bytes(data[17:])
    if kind == "garbage over the cases table":
        return _garbage_over_page(data, _rootpage(db, "cases"))
    assert kind == "another file in its place"
    return random.Random(7).randbytes(len(data))


WHOLE_FILE = [["db", "current"]]  # a damaged page is met only by the commands that read it


@pytest.mark.parametrize(
    ("kind", "cause", "more"),
    [
        ("truncated", "database disk image is malformed", WHOLE_FILE),
        ("bad header", "file is not a database", WHOLE_FILE),
        ("garbage over the cases table", "database disk image is malformed", []),
        ("another file in its place", "file is not a database", WHOLE_FILE),
    ],
)
def test_a_damaged_sqlite_file_is_one_line_on_every_command(tmp_path, store_dir, kind, cause, more):
    cli = Cli(store_dir)
    case_id = cli.json("intake", photo(tmp_path / "strike.jpg"))[0]["case_id"]
    db = store_dir / "mediacheck.db"
    damaged = _damage(kind, db)
    db.write_bytes(damaged)

    for args in [*_commands(case_id, tmp_path), *more]:
        result = cli(*args, expect=1)
        assert result.stderr == f"Error: the case database at {db} is damaged: {cause}\n", args
        assert result.stdout == "", args
    assert db.read_bytes() == damaged


@pytest.mark.parametrize(
    ("table", "command"),
    [
        ("events", ["history", "{case}"]),  # finds the case, then reads its events
        ("fingerprints", ["match", "{a}", "{b}"]),  # stops at the first file, not one line each
    ],
)
def test_damage_met_in_the_middle_of_a_command_is_one_line(tmp_path, store_dir, table, command):
    cli = Cli(store_dir)
    case_id = cli.json("intake", photo(tmp_path / "strike.jpg"))[0]["case_id"]
    db = store_dir / "mediacheck.db"
    db.write_bytes(_garbage_over_page(_settled(db), _rootpage(db, table)))
    names = {"case": case_id, "a": photo(tmp_path / "a.jpg", seed=1), "b": tmp_path / "strike.jpg"}

    assert cli("cases").stdout.count(case_id) == 1  # the cases table is intact
    result = cli(*[arg.format(**names) for arg in command], expect=1)
    assert result.stderr == (
        f"Error: the case database at {db} is damaged: database disk image is malformed\n"
    )
    assert result.stdout == ""


def test_a_dropped_table_is_one_line(cli, case, store, store_dir, backend):
    cascade = " CASCADE" if backend == "postgres" else ""
    with store.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE notes{cascade}"))
    store.engine.dispose()

    result = cli("show", case["case_id"], expect=1)
    [line] = result.stderr.splitlines()
    where = store_dir / "mediacheck.db" if backend == "sqlite" else store.safe_url
    cause = "no such table: notes" if backend == "sqlite" else 'relation "notes" does not exist'
    assert line == f"Error: the case database at {where} is damaged: {cause}"
    assert cli("cases").stdout.count(case["case_id"]) == 1


@pytest.mark.parametrize(
    ("column", "value", "cause"),
    [
        ("tags", "'[\"unfinished'", "Unterminated string starting at: line 1 column 2 (char 1)"),
        # Bytes that are no text, and an escape sequence that must not reach the terminal.
        ("title", "CAST(x'1b5d303b6f776e6564ff07' AS TEXT)", "column title is not UTF-8"),
    ],
)
def test_a_stored_value_that_cannot_be_decoded_is_one_line(
    tmp_path, store_dir, column, value, cause
):
    cli = Cli(store_dir)
    case_id = cli.json("intake", photo(tmp_path / "strike.jpg"))[0]["case_id"]
    db = store_dir / "mediacheck.db"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(f"UPDATE cases SET {column} = {value}")

    for args in (["cases"], ["show", case_id], ["verify"]):
        result = cli(*args, expect=1)
        assert result.stderr == (
            f"Error: the case database at {db} is damaged: a stored value cannot be decoded: "
            f"{cause}\n"
        )


def test_garbage_anywhere_in_the_file_never_escapes_as_a_traceback(tmp_path, store_dir):
    """Every page of a real store's database, in turn, overwritten or with bytes flipped."""
    cli = Cli(store_dir)
    case_id = cli.json("intake", photo(tmp_path / "strike.jpg"))[0]["case_id"]
    cli("note", case_id, "--engine", "tineye", "Nothing older")
    db = store_dir / "mediacheck.db"
    good = _settled(db)
    failures = []
    for page in range(1, len(good) // PAGE + 1):
        for damaged in (_garbage_over_page(bytearray(good), page), _flipped(good, page)):
            db.write_bytes(damaged)
            # The JSON report reads every row of the case: show --json and the history.
            result = cli("report", case_id, "--format", "json", expect=None)
            assert result.exit_code in (0, 1), page
            failures += [(page, line) for line in result.stderr.splitlines()]
    assert len({page for page, _ in failures}) > 5  # the sweep met damage on many pages
    prefix = f"Error: the case database at {db} is damaged: "
    # Damage that still reads as rows is what the report's integrity check names.
    checked = f"warning: {case_id} fails its integrity check ("
    assert [(p, line) for p, line in failures if not line.startswith((prefix, checked))] == []


def _flipped(data: bytearray, page: int) -> bytes:
    rng = random.Random(-page)
    copy = bytearray(data)
    for _ in range(8):
        copy[(page - 1) * PAGE + rng.randrange(PAGE)] ^= 1 << rng.randrange(8)
    return bytes(copy)


@pytest.fixture
def lost_database(cli, case, store, store_dir, backend) -> Iterator[Cli]:
    """The test's store with its originals, its database gone (SQLite) or a new, empty one."""
    store.engine.dispose()
    if backend == "sqlite":
        gc.collect()
        for path in store_dir.glob("mediacheck.db*"):
            path.unlink()
        yield cli
        return
    with postgres_schema() as url:
        yield Cli(store_dir, db_url=url)


def test_a_lost_database_beside_originals_is_refused_not_rebuilt(
    lost_database, tmp_path, store_dir, backend
):
    for args in _commands("MC-2026-0001", tmp_path):
        result = lost_database(*args, expect=1)
        assert result.stderr == (
            "Error: the store holds 1 originals but its database is empty or missing\n"
        ), args
    if backend == "sqlite":
        assert not (store_dir / "mediacheck.db").exists()
    # db commands refuse it too: they never build a database beside originals.
    for args in (["db", "current"], ["db", "upgrade"]):
        assert lost_database(*args, expect=1).stderr == (
            "Error: the store holds 1 originals but its database is empty or missing\n"
        )


def test_a_zero_byte_sqlite_file_beside_originals_is_refused(tmp_path, store_dir):
    cli = Cli(store_dir)
    cli("intake", photo(tmp_path / "strike.jpg"))
    db = store_dir / "mediacheck.db"
    _settled(db)
    db.write_bytes(b"")

    result = cli("verify", expect=1)
    assert result.stderr == (
        "Error: the store holds 1 originals but its database is empty or missing\n"
    )
    assert db.read_bytes() == b""


def test_an_empty_database_of_a_store_without_originals_gets_its_schema(tmp_path, store_dir):
    # Pictures made from originals and a write that never finished are not originals.
    (store_dir / "originals" / "tmp").mkdir(parents=True)
    (store_dir / "originals" / "tmp" / "incoming-x1y2").write_bytes(b"half a file")
    (store_dir / "derived" / "ab").mkdir(parents=True)
    (store_dir / "derived" / "ab" / "ela.png").write_bytes(b"derived")
    (store_dir / "mediacheck.db").write_bytes(b"")
    cli = Cli(store_dir)

    # Only intake and import make a store: listing it says there is none yet.
    assert cli("cases", expect=1).stderr == (
        f"Error: no case store at {store_dir} (set MEDIACHECK_HOME or --store)\n"
    )
    [result] = cli.json("intake", photo(tmp_path / "strike.jpg"))
    assert result["case_id"].endswith("-0001")


def test_verify_lists_an_original_no_media_holds_without_failing(cli, case, store, tmp_path):
    # An intake stopped after copying the file and before recording it: no problem, but named.
    orphan = FolderBlobs(store.root).put(photo(tmp_path / "lost.jpg", seed=5))
    events = len(cli.json("history", case["case_id"]))
    shown = f"originals/{orphan.sha256[:2]}/{orphan.sha256[2:4]}/{orphan.sha256}"

    result = cli("verify")
    assert result.stderr == (
        "note: 1 stored original held by no media (left by an interrupted intake; "
        f"taking the file in again adopts it): {shown}\n"
    )
    assert result.stdout == f"checked 1 cases, {events} events, 1 originals: all intact\n"
    assert cli.json("verify") == {
        "ok": True,
        "cases": 1,
        "events": events,
        "originals": 1,
        "problems": [],
        "orphans": [{"sha256": orphan.sha256, "path": shown}],
        "timestamps": 0,
        "timestamps_unchecked": 0,
    }
    # One case's check is about that case's media only.
    assert cli.json("verify", case["case_id"])["orphans"] == []


def test_verify_names_a_deleted_media_row_through_its_event(cli, case, store):
    [(link, media)] = store.case_media(case["case_id"])
    with store.session() as session:
        session.delete(session.get(CaseMedia, link.id))
        session.commit()
    result = cli("verify", case["case_id"], expect=1)
    assert result.stderr == (
        f"error: {case['case_id']} media {media.id}: is in the history but its row was deleted\n"
    )


def test_taking_in_the_file_again_adopts_the_orphan(cli, case, store, tmp_path):
    lost = photo(tmp_path / "lost.jpg", seed=5)
    FolderBlobs(store.root).put(lost)

    [result] = cli.json("intake", lost, "--case", case["case_id"])
    assert result["status"] == "added"
    assert cli("verify").stdout.endswith(": all intact\n")


def test_temporary_and_derived_files_are_not_orphans(cli, case, store_dir):
    (store_dir / "originals" / "tmp" / "incoming-abc").write_bytes(b"a write in progress")
    (store_dir / "derived" / "ab" / "cd").mkdir(parents=True)
    (store_dir / "derived" / "ab" / "cd" / ("ab" + "0" * 62)).write_bytes(b"keyframe")
    assert cli("verify").stdout.endswith(": all intact\n")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system of its own, where a mount is permitted (root on Linux)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _big_file(path: Path) -> Path:
    path.write_bytes(random.Random(1).randbytes(2 * 1024 * 1024))
    return path


def test_a_full_disk_names_the_store_and_leaves_no_partial_file(small_disk, tmp_path):
    blobs = FolderBlobs(small_disk / "cases")
    with pytest.raises(StoreError) as raised:
        blobs.put(_big_file(tmp_path / "big.bin"))
    assert str(raised.value) == (
        f"cannot write to the case store {small_disk / 'cases'}: No space left on device"
    )
    assert list((small_disk / "cases" / "originals" / "tmp").iterdir()) == []
    assert list(blobs.stored_originals()) == []


def test_a_read_only_store_names_the_store(small_disk, tmp_path):
    blobs = FolderBlobs(small_disk / "cases")
    blobs.put(photo(tmp_path / "first.jpg"))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(StoreError, match=r": Read-only file system$"):
        blobs.put(photo(tmp_path / "second.jpg", seed=2))


def test_an_unreadable_input_is_still_the_inputs_fault(tmp_path):
    with pytest.raises(FileNotFoundError):
        FolderBlobs(tmp_path / "cases").put(tmp_path / "gone.jpg")
    assert not (tmp_path / "cases" / "originals" / "tmp").exists()


def test_intake_onto_a_full_disk_is_one_line_naming_the_store(small_disk, tmp_path, db_url):
    store_dir = small_disk / "cases"
    cli = Cli(store_dir, db_url=db_url)
    result = cli("intake", _big_file(tmp_path / "big.bin"), expect=1)
    assert result.stderr == (
        f"Error: cannot write to the case store {store_dir}: No space left on device\n"
    )
    assert list((store_dir / "originals" / "tmp").iterdir()) == []
    assert cli("verify").stdout.endswith(": all intact\n")


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_under_the_database_is_one_line_and_changes_nothing(small_disk, tmp_path):
    store_dir = small_disk / "cases"
    cli = Cli(store_dir)
    case_id = cli.json("intake", photo(tmp_path / "strike.jpg"))[0]["case_id"]
    events = len(cli.json("history", case_id))
    filler = _fill(small_disk)

    result = cli("note", case_id, "x" * 50_000, expect=1)
    db = store_dir / "mediacheck.db"
    # SQLite says which, depending on whether it could still map its shared-memory index.
    assert re.fullmatch(
        rf"Error: cannot (open|use) database sqlite:///{db}: "
        r"(disk I/O error|database or disk is full)\n",
        result.stderr,
    )
    filler.unlink()
    assert len(cli.json("history", case_id)) == events
    assert cli("verify").stdout.endswith(": all intact\n")


@pytest.mark.postgres
def test_a_postgres_schema_that_does_not_exist_is_one_line(tmp_path):
    url = make_url(POSTGRES_URL).update_query_dict({"options": "-csearch_path=no_such_schema"})
    shown = url.render_as_string(hide_password=True)
    cli = Cli(tmp_path / "cases", db_url=url.render_as_string(hide_password=False))
    # Intake is what would build the schema (any other command finds no case store there).
    result = cli("intake", photo(tmp_path / "p.jpg"), expect=1)
    assert result.stderr == (
        f"Error: cannot open database {shown}: no schema has been selected to create in\n"
    )


@pytest.mark.postgres
def test_a_desk_without_privileges_on_the_tables_is_one_line(tmp_path):
    role = f"desk_{secrets.token_hex(4)}"
    with postgres_schema() as owner_url:
        # The owner's first intake builds the schema.
        Cli(tmp_path / "cases", db_url=owner_url)("intake", photo(tmp_path / "p.jpg"))
        url = make_url(owner_url).set(username=role)
        schema = url.query["options"].removeprefix("-csearch_path=")
        _admin(f"CREATE ROLE {role} LOGIN", f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        try:
            result = Cli(tmp_path / "cases", db_url=url.render_as_string())("cases", expect=1)
            assert result.stderr == (
                f"Error: cannot open database {url.render_as_string()}: "
                "permission denied for table alembic_version\n"
            )
        finally:
            gc.collect()  # the connections the command left in its pool
            _admin(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'",
                f'REVOKE ALL ON SCHEMA "{schema}" FROM {role}',
                f"DROP ROLE {role}",
            )


def _admin(*statements: str) -> None:
    with admin_engine().connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
