"""Several desks at once on one store and one database, on SQLite and PostgreSQL.

Each desk is a real ``mediacheck`` process; they start together on an empty
database, so building the schema is raced too.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from mediacheck.history import chain as history
from mediacheck.review import service as review
from mediacheck.store.cases import CaseFields
from mediacheck.store.database import Store
from tests.backends import postgres_schema
from tests.conftest import Cli
from tests.media import photo
from tests.video_clips import write_clip

DESKS = 4
FILES = 8

pytestmark = pytest.mark.slow


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "incoming"
    folder.mkdir()
    return [photo(folder / f"p{i}.jpg", size=(320, 240), seed=i) for i in range(FILES)]


def overlapping(files: list[Path], desk: int) -> list[Path]:
    """Five files per desk, each shared with the desks beside it, in a different order."""
    picked = [files[(desk * 2 + k) % len(files)] for k in range(5)]
    return picked if desk % 2 else picked[::-1]


def run_desks(
    store_dir: Path, db_url: str, commands: list[list[str]]
) -> list[subprocess.CompletedProcess]:
    """Start every command at once, each as its own process, and wait for all."""
    procs = []
    for i, args in enumerate(commands):
        env = dict(
            os.environ,
            MEDIACHECK_HOME=str(store_dir),
            MEDIACHECK_DATABASE_URL=db_url,
            MEDIACHECK_USER=f"desk{i}",
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "mediacheck", *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def stored_originals(store_dir: Path) -> list[Path]:
    originals = store_dir / "originals"
    return sorted(p for p in originals.rglob("*") if p.is_file() and p.parent.name != "tmp")


def assert_store_is_whole(store: Store, store_dir: Path, files: list[Path]) -> None:
    """One media row and one complete original per distinct file; nothing half-written."""
    shas = sorted(hashlib.sha256(f.read_bytes()).hexdigest() for f in files)
    assert sorted(m.sha256 for m in store.all_media()) == shas
    originals = stored_originals(store_dir)
    assert sorted(p.name for p in originals) == shas
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() == p.name for p in originals)
    assert list((store_dir / "originals" / "tmp").iterdir()) == []


def assert_chains_hold(store: Store) -> None:
    for listing in store.list_cases():
        events = store.events(listing.case.id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert history.verify_chain(listing.case.id, [e.model_dump() for e in events]) == []
        assert listing.case.head_hash == events[-1].hash


def test_four_desks_taking_in_overlapping_files_as_new_cases(settings, store_dir, db_url, files):
    commands = [["intake", *map(str, overlapping(files, d)), "--json"] for d in range(DESKS)]
    desks = run_desks(store_dir, db_url, commands)
    assert [d.returncode for d in desks] == [0] * DESKS, [d.stderr for d in desks]
    results = [r for d in desks for r in json.loads(d.stdout)]
    assert len(results) == DESKS * 5
    assert {r["status"] for r in results} <= {"added", "already-stored"}
    # Each distinct file was "added" by exactly one desk, whoever came first.
    added = sorted(r["sha256"] for r in results if r["status"] == "added")
    assert added == sorted({r["sha256"] for r in results})
    store = Store.open(settings)
    # A file another desk stored first joins no new case: one case per distinct file.
    assert all(r["case_id"] is None for r in results if r["status"] == "already-stored")
    case_ids = [r["case_id"] for r in results if r["case_id"]]
    assert len(case_ids) == len(set(case_ids)) == len(added)
    assert sorted(c.case.id for c in store.list_cases()) == sorted(case_ids)
    assert sorted(c.case.seq for c in store.list_cases()) == list(range(1, len(added) + 1))
    assert_store_is_whole(store, store_dir, files)
    assert_chains_hold(store)


def test_four_desks_adding_overlapping_files_to_one_case(settings, store_dir, db_url, files):
    store = Store.open(settings)
    case_id = new_case(store)
    commands = [
        ["intake", *map(str, overlapping(files, d)), "--case", case_id, "--json"]
        for d in range(DESKS)
    ]
    desks = run_desks(store_dir, db_url, commands)
    assert [d.returncode for d in desks] == [0] * DESKS, [d.stderr for d in desks]
    events = store.events(case_id)
    added = [json.loads(e.details)["sha256"] for e in events if e.action == "media-added"]
    assert sorted(added) == sorted({hashlib.sha256(f.read_bytes()).hexdigest() for f in files})
    assert len(store.case_media(case_id)) == FILES
    assert_store_is_whole(store, store_dir, files)
    assert_chains_hold(store)


def test_two_reviewers_approving_at_once_exactly_one_wins(settings, store_dir, db_url, tmp_path):
    [taken] = Cli(store_dir, db_url=db_url).json("intake", photo(tmp_path / "contested.jpg"))
    case_id, media_id = taken["case_id"], taken["media_id"]
    store = Store.open(settings)
    review.propose(store, case_id, "alice", review.Proposal("StagedContent", "Actors"))
    desks = run_desks(store_dir, db_url, [["verdict", "approve", case_id]] * 2)
    [winner] = [f"desk{i}" for i, d in enumerate(desks) if d.returncode == 0]
    [loser] = [d for d in desks if d.returncode != 0]
    assert loser.returncode == 1
    assert loser.stderr == (
        f"Error: {case_id} media {media_id}: the verdict StagedContent was already approved "
        f"by {winner}; nothing awaits review\n"
    )
    [verdict] = store.verdicts(case_id)
    assert (verdict.state, verdict.decided_by) == ("approved", winner)
    assert [(e.user, e.action) for e in store.events(case_id)] == [
        ("alice", "case-created"),
        ("alice", "media-added"),
        ("alice", "verdict-proposed"),
        (winner, "verdict-approved"),
    ]
    assert_chains_hold(store)


def new_case(store: Store) -> str:
    return store.create_case(CaseFields(title="Shared"), "alice").id


@pytest.fixture
def mixed_batch(tmp_path: Path) -> Path:
    """Photos, a re-encoded copy, the same bytes twice, a video and files that fail."""
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    photos = [photo(folder / f"p{i}.jpg", seed=i) for i in range(4)]
    photo(folder / "sub" / "p0-copy.png", seed=0)
    (folder / "sub" / "p1-again.jpg").write_bytes(photos[1].read_bytes())
    write_clip(folder / "clip.mp4", seconds=2)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not a picture\n")
    (folder / "cut.jpg").write_bytes(photos[2].read_bytes()[:4000])
    return folder


def without_times(value):
    """A document minus the moments it was written: those differ between two runs."""
    if isinstance(value, dict):
        return {
            k: without_times(v) for k, v in value.items() if k != "at" and not k.endswith("_at")
        }
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def test_parallel_intake_gives_what_serial_intake_gives(tmp_path, db_url, backend, mixed_batch):
    runs = {}
    for jobs in (1, 3):
        with ExitStack() as stack:
            url = (
                db_url
                if jobs == 1 or backend == "sqlite"
                else stack.enter_context(postgres_schema())
            )
            cli = Cli(tmp_path / f"cases-{jobs}", db_url=url)
            result = cli(
                "intake", mixed_batch, "--tag", "batch", "--json", "--jobs", jobs, expect=1
            )
            intake = json.loads(result.stdout)
            shown = [without_times(cli.json("show", r["case_id"])) for r in intake if r["case_id"]]
            runs[jobs] = (intake, result.stderr, shown)
    assert runs[3] == runs[1]
    intake, stderr, shown = runs[1]
    statuses = [(Path(r["path"]).name, r["status"]) for r in intake]
    assert statuses == [
        ("clip.mp4", "added"),
        ("cut.jpg", "error"),
        ("empty.jpg", "error"),
        ("notes.txt", "error"),
        ("p0.jpg", "added"),
        ("p1.jpg", "added"),
        ("p2.jpg", "added"),
        ("p3.jpg", "added"),
        ("p0-copy.png", "added"),
        ("p1-again.jpg", "already-stored"),
    ]
    errors = {Path(r["path"]).name: r["error"].split(": ", 1)[1] for r in intake if r["error"]}
    assert errors == {
        "cut.jpg": "picture is truncated: hashed the part that decodes",
        "empty.jpg": "file is empty (0 bytes)",
        "notes.txt": (
            "content is text, not a picture or video: kept as evidence with its hashes only"
        ),
    }
    assert stderr == ""
    # One new case per file that could be read, but the bytes taken in twice, in input order.
    assert [int(c["case_id"][-4:]) for c in shown] == list(range(1, 9))
    again = next(r for r in intake if r["path"].endswith("p1-again.jpg"))
    p1 = next(r for r in intake if r["path"].endswith("p1.jpg"))
    assert (again["case_id"], again["cases"]) == (None, [p1["case_id"]])


def test_jobs_must_be_at_least_one(cli, tmp_path):
    result = cli("intake", photo(tmp_path / "p.jpg"), "--jobs", "0", expect=2)
    assert "Invalid value for '--jobs': 0 is not in the range x>=1." in result.stderr
    assert "no case store at" in cli("cases", expect=1).stderr  # not even a store was made
