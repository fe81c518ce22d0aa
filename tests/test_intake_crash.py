"""An intake killed at any moment, or stopped by a full disk, leaves a store that holds.

Each intake is a real ``mediacheck`` process (killed with SIGKILL) or a real
full file system (a small tmpfs, mounted where this runs as root).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mediacheck import config
from mediacheck.history import chain as history
from mediacheck.match.search import RECORD_KIND
from mediacheck.store.database import Store
from mediacheck.store.models import Media
from tests.conftest import Cli
from tests.media import QUICK, photo
from tests.video_clips import write_clip

pytestmark = pytest.mark.slow


def desk_env(store_dir: Path, db_url: str) -> dict[str, str]:
    return dict(
        os.environ,
        MEDIACHECK_HOME=str(store_dir),
        MEDIACHECK_DATABASE_URL=db_url,
        MEDIACHECK_USER="alice",
        PYTHONUNBUFFERED="1",
    )


def intake_killed_after(env: dict[str, str], folder: Path, lines: int, delay: float) -> None:
    """Start an intake, let it record ``lines`` files, wait ``delay`` s more, then SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediacheck", "intake", str(folder), "--jobs", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(lines):
        proc.stdout.readline()
    time.sleep(delay)
    proc.kill()
    proc.wait()
    proc.stdout.close()


def stored_originals(store_dir: Path) -> list[str]:
    originals = store_dir / "originals"
    return sorted(p.name for p in originals.rglob("*") if p.is_file() and p.parent.name != "tmp")


def assert_store_holds(store: Store, store_dir: Path, files: list[Path]) -> None:
    """Every file stored once, every original held by a row, every case's chain whole."""
    shas = sorted({hashlib.sha256(f.read_bytes()).hexdigest() for f in files})
    assert sorted(m.sha256 for m in store.all_media()) == shas
    assert stored_originals(store_dir) == shas
    for listing in store.list_cases():
        events = store.events(listing.case.id)
        assert events[0].action == "case-created"
        assert history.verify_chain(listing.case.id, [e.model_dump() for e in events]) == []
        assert listing.media_count >= 1


def batch(folder: Path) -> list[Path]:
    folder.mkdir()
    files = [photo(folder / f"p{i}.jpg", size=(800, 600), seed=i) for i in range(7)]
    return [*files, write_clip(folder / "clip.mp4", seconds=2)]


def test_kill_9_at_any_moment_then_the_same_intake_completes(store_dir, db_url, tmp_path):
    files = batch(tmp_path / "incoming")
    env = desk_env(store_dir, db_url)
    cli = Cli(store_dir, db_url=db_url)
    # The desk's store exists: a kill before the first intake made it leaves nothing to verify.
    Store.open(config.resolve(store=store_dir, db_url=db_url, user="alice")).engine.dispose()
    rng = random.Random(11)
    for lines in (0, 1, 3, 5):
        intake_killed_after(env, tmp_path / "incoming", lines, rng.uniform(0.0, 1.5))
        cli("verify")
    done = subprocess.run(
        [sys.executable, "-m", "mediacheck", "intake", str(tmp_path / "incoming"), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["path"] for r in results] == sorted(str(f) for f in files)
    assert {r["status"] for r in results} <= {"added", "already-stored"}
    store = Store.open(config.resolve(store=store_dir, db_url=db_url, user="alice"))
    assert_store_holds(store, store_dir, files)
    assert cli("verify").exit_code == 0


def noise_png(path: Path, seed: int) -> Path:
    """About a megabyte that does not compress."""
    pixels = np.random.default_rng(seed).integers(0, 256, (600, 600, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MB file system of its own, grown on demand with ``grow``."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def grow(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)


def test_a_full_disk_stops_the_batch_with_one_line_naming_the_store(small_disk, db_url, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    files = [noise_png(folder / f"n{i}.png", seed=i) for i in range(5)]
    store_dir = small_disk / "cases"
    cli = Cli(store_dir, db_url=db_url)
    result = cli("intake", folder, "--json", "--jobs", "1", expect=1)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("Error: ")
    assert str(store_dir) in errors[0]
    assert "No space left on device" in errors[0] or "disk is full" in errors[0]
    assert not any(str(f) in errors[0] for f in files)
    reported = json.loads(result.stdout)
    assert 0 < len(reported) < len(files)
    assert {r["status"] for r in reported} == {"added"}
    grow(small_disk)
    store = Store.open(config.resolve(store=store_dir, db_url=db_url, user="alice"))
    # No case half-reported: every case in the store is in the output.
    assert sorted(c.case.id for c in store.list_cases()) == sorted(r["case_id"] for r in reported)
    again = cli.json("intake", folder, "--jobs", "1")
    assert [r["status"] for r in again[len(reported) :]] == ["added"] * (len(files) - len(reported))
    assert_store_holds(store, store_dir, files)
    assert cli("verify").exit_code == 0


def test_a_batch_killed_inside_a_group_of_commits_leaves_whole_files(store_dir, db_url, tmp_path):
    """Quick intakes of small photos commit in groups: a kill inside a group leaves whole files.

    Every file reported is stored; every file stored has its original, its case membership,
    its ``media-added`` event and (the clip) its keyframes with their fingerprints.
    """
    folder = tmp_path / "incoming"
    folder.mkdir()
    files = [photo(folder / f"q{i:02d}.jpg", size=QUICK, seed=i) for i in range(20)]
    files.append(write_clip(folder / "r-clip.mp4", seconds=2))
    env = desk_env(store_dir, db_url)
    settings = config.resolve(store=store_dir, db_url=db_url, user="alice")
    Store.open(settings).engine.dispose()
    for lines in (2, 9, 15):
        reported = intake_lines_then_kill(env, folder, lines)
        store = Store.open(settings)
        stored = {m.id: m for m in store.all_media()}
        assert set(reported) <= set(stored)
        assert_whole(store, store_dir, stored)
        store.engine.dispose()
    done = Cli(store_dir, db_url=db_url).json("intake", folder, "--quick")
    assert {r["status"] for r in done} <= {"added", "already-stored"}
    store = Store.open(settings)
    assert_store_holds(store, store_dir, files)
    assert_whole(store, store_dir, {m.id: m for m in store.all_media()})


def intake_lines_then_kill(env: dict[str, str], folder: Path, lines: int) -> list[str]:
    """The media ids of the first ``lines`` files an intake reports; then it is SIGKILLed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediacheck", "intake", str(folder), "--quick", "--jobs", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    reported = []
    for _ in range(lines):
        words = proc.stdout.readline().split()
        if words and words[0] == "added":
            reported.append(words[2])
    proc.kill()
    proc.wait()
    proc.stdout.close()
    return reported


def assert_whole(store: Store, store_dir: Path, stored: dict[str, Media]) -> None:
    members: dict[str, list[str]] = {}
    for listing in store.list_cases():
        case_id = listing.case.id
        events = store.events(case_id)
        added = [json.loads(e.details)["media_id"] for e in events if e.action == "media-added"]
        held = [media.id for _, media in store.case_media(case_id)]
        assert sorted(added) == sorted(held)
        for media_id in held:
            members.setdefault(media_id, []).append(case_id)
    for media in stored.values():
        assert members.get(media.id), media.id
        original = store_dir / media.blob_path
        assert hashlib.sha256(original.read_bytes()).hexdigest() == media.sha256
        if media.kind == "video":
            frames = store.keyframes(media.id)
            times = {t for _, m, t, _ in store.fingerprint_rows(RECORD_KIND, 0) if m == media.id}
            assert frames and {f.time_s for f in frames} == times
