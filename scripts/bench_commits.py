"""Disk syncs per file of a batch intake, counted with strace, on SQLite or PostgreSQL.

    python scripts/bench_commits.py                    # 40 small photos, SQLite in the store
    python scripts/bench_commits.py --postgres postgresql+psycopg://postgres@127.0.0.1/test

With --postgres the runs use a schema of their own in that database, dropped at the end.
Generates small photos (200 x 150, so the intake's own work is short and the writes show),
then runs two real ``mediacheck intake --quick`` processes under ``strace -f -y -e
trace=fsync,fdatasync`` into a fresh store: the new files, then the same files again into a
new case (``--new-case --one-case``: known media, only their membership, findings and
events are written). It prints each run's syncs by what they sync (staged originals,
their folders, the SQLite log) and the wall and CPU time of the process (user + system of
the child and its workers). PostgreSQL's own WAL flushes happen in the server, not in the
traced process: for them the "log" column is the change of ``pg_stat_wal.wal_sync`` over
the run, which counts the whole server's (other clients' too: run it on a quiet server).
``PYTHONPATH=OTHER-TREE`` measures other code.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = (200, 150)
KINDS = {
    "log": re.compile(r"-wal>"),
    "original": re.compile(r"originals/tmp/incoming-"),
    "folder": re.compile(r"originals/[0-9a-f]{2}/[0-9a-f]{2}>"),
}


def make_photos(folder: Path, count: int) -> None:
    """Distinct photos: smooth random shapes, one seed each."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(count):
        rng = np.random.default_rng(seed)
        coarse = rng.integers(0, 256, (SIZE[1] // 10, SIZE[0] // 10, 3), dtype=np.uint8)
        img = Image.fromarray(coarse).resize(SIZE, Image.Resampling.BICUBIC)
        img.save(folder / f"p{seed:03d}.jpg", quality=90)


def traced_intake(env: dict[str, str], args: list[str], trace: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one intake process run under strace."""
    command = ["strace", "-f", "-y", "-e", "trace=fsync,fdatasync", "-o", str(trace)]
    before = os.times()
    started = time.perf_counter()
    subprocess.run(
        [*command, sys.executable, "-m", "mediacheck", "intake", *args],
        env=env,
        cwd=trace.parent,  # not this checkout: PYTHONPATH chooses the code measured
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def count_syncs(trace: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in trace.read_text().splitlines():
        if "sync(" not in line:
            continue
        found["all"] += 1
        for kind, pattern in KINDS.items():
            if pattern.search(line):
                found[kind] += 1
    return found


def wal_syncs(db_url: str) -> int:
    """PostgreSQL's count of WAL syncs since its statistics were reset; 0 on SQLite."""
    if not db_url:
        return 0
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT wal_sync FROM pg_stat_wal")).scalar_one()
    engine.dispose()
    return int(count)


@contextmanager
def own_schema(url: str) -> Iterator[str]:
    """A new schema in the database of ``url``; the URL whose connections use only it."""
    from sqlalchemy import create_engine, make_url, text

    name = f"bench_commits_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={name}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty database or schema)")
    args = parser.parse_args()
    if shutil.which("strace") is None:
        sys.exit("strace is not installed")
    work = Path(tempfile.mkdtemp(prefix="bench_commits_"))
    photos = work / "photos"
    make_photos(photos, args.files)
    with own_schema(args.postgres) if args.postgres else nullcontext("") as db_url:
        run_both(work, photos, db_url, args.files)
    shutil.rmtree(work)


def run_both(work: Path, photos: Path, db_url: str, files: int) -> None:
    store = work / "store"
    env = dict(os.environ, MEDIACHECK_HOME=str(store), MEDIACHECK_USER="alice")
    if db_url:
        env["MEDIACHECK_DATABASE_URL"] = db_url
    make_store = (
        "import sys; from pathlib import Path; from mediacheck import config;"
        "from mediacheck.store.database import Store;"
        "Store.open(config.resolve(store=Path(sys.argv[1]), db_url=sys.argv[2], user='alice'))"
    )
    subprocess.run([sys.executable, "-c", make_store, str(store), db_url], cwd=work, check=True)
    runs = (
        ("new files", [str(photos), "--quick"]),
        ("known files, new case", [str(photos), "--quick", "--new-case", "--one-case"]),
    )
    print(f"{files} photos {SIZE[0]}x{SIZE[1]}, {'PostgreSQL' if db_url else 'SQLite'}")
    print(f"{'run':24} {'wall s':>7} {'CPU s':>6} {'log':>5} {'orig':>5} {'folder':>6} {'all':>5}")
    for name, run_args in runs:
        trace = work / "trace.txt"
        server_syncs = wal_syncs(db_url)
        wall, cpu = traced_intake(env, run_args, trace)
        found = count_syncs(trace)
        if db_url:
            found["log"] = wal_syncs(db_url) - server_syncs
        print(
            f"{name:24} {wall:7.2f} {cpu:6.2f} {found['log']:5} {found['original']:5} "
            f"{found['folder']:6} {found['all']:5}"
        )


if __name__ == "__main__":
    main()
