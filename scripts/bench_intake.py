"""Intake speed against a naive loop and against the floor, and peak memory on a huge file.

    python scripts/bench_intake.py [--files N] [--huge-gb 2]

Generates 12 MP and 2 MP JPEGs, then times in one run:
- naive: what a script using the same libraries would do (three separate reads
  for SHA-256/SHA-1/MD5, full decode, five imagehash hashes and PDQ on the
  full picture, exifread);
- mediacheck: the real intake into a fresh store, in one process (copy + hashes
  in one read, reduced decode, all hashes, metadata, fingerprints, archive
  search, forensic findings, database writes);
- --quick: the same without the pixel forensics (ELA, double JPEG);
- floor: reduced decode plus SHA-256 of the same files, the least any intake must do.
Then takes in one huge file (a JPEG with gigabytes appended) in a child
process and reports its peak memory. Last, parallel intake: the same 2 MP
files with ``jobs=1`` and with ``jobs=N`` (``--jobs``, default the number of
cores), alternating rounds, best of each (``--jobs-only`` runs just this part).
Pixel bombs (``--bombs-only`` runs just this part): files from ``tests/bombs.py``
declaring 196 MP in PNG, JPEG, GIF, TIFF, BMP and HEIC, most of them tiny, and an
ordinary 12 MP iPhone HEIC from the corpus where it is beside the repository, each
taken in alone by a child process: its peak resident memory and what intake said.
And the cost of describing each file in a worker process rather than in this one
(``--worker-only``: the same 2 MP files, a fresh worker each round).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import exifread
import imagehash
import numpy as np
import pdqhash
from PIL import Image

from mediacheck import config
from mediacheck.intake.describe import describe
from mediacheck.intake.pipeline import IntakeRequest, intake
from mediacheck.intake.workers import Pool
from mediacheck.media.pictures import open_picture
from mediacheck.store.database import Store
from mediacheck.store.models import Case, CaseMedia

SIZES = {"12MP": (4000, 3000), "2MP": (1600, 1200)}


def make_jpegs(folder: Path, size: tuple[int, int], count: int) -> list[Path]:
    rng = np.random.default_rng(42)
    paths = []
    w, h = size
    base = np.linspace(0, 255, w, dtype=np.float32)[None, :, None].repeat(h, 0).repeat(3, 2)
    for i in range(count):
        noise = rng.normal(0, 25, (h // 8, w // 8, 3)).astype(np.float32)
        texture = np.kron(noise, np.ones((8, 8, 1), np.float32))[:h, :w]
        pixels = np.clip(base * (0.5 + 0.1 * i) + texture, 0, 255).astype(np.uint8)
        path = folder / f"photo-{size[0]}x{size[1]}-{i}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def naive(paths: list[Path]) -> None:
    for path in paths:
        for algo in ("sha256", "sha1", "md5"):
            hashlib.new(algo, path.read_bytes()).hexdigest()
        with Image.open(path) as img:
            rgb = img.convert("RGB")
        for fn in (
            imagehash.phash,
            imagehash.dhash,
            imagehash.average_hash,
            imagehash.whash,
            imagehash.colorhash,
        ):
            fn(rgb)
        pdqhash.compute(np.asarray(rgb))
        with open(path, "rb") as fh:
            exifread.process_file(fh, details=False)


def mediacheck_intake(paths: list[Path], quick: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(config.resolve(store=Path(tmp) / "cases", user="bench"))
        results = intake(store, paths, IntakeRequest(user="bench", quick=quick))
        assert all(r.status == "added" for r in results), results


def floor(paths: list[Path]) -> None:
    for path in paths:
        hashlib.sha256(path.read_bytes()).hexdigest()
        open_picture(path)


def timed(fn, paths) -> float:
    start = time.perf_counter()
    fn(paths)
    return time.perf_counter() - start


def huge_file_peak_mb(folder: Path, gigabytes: float) -> float:
    huge = folder / "huge.jpg"
    head = make_jpegs(folder, (1600, 1200), 1)[0].read_bytes()
    with open(huge, "wb") as out:
        out.write(head)
        block = os.urandom(1024 * 1024)
        for _ in range(int(gigabytes * 1024)):
            out.write(block)
    code = (
        "import sys; from pathlib import Path; from mediacheck import config;"
        "from mediacheck.intake.pipeline import IntakeRequest, intake;"
        "from mediacheck.store.database import Store;"
        "s = Store.open(config.resolve(store=Path(sys.argv[2]), user='bench'));"
        "r = intake(s, [Path(sys.argv[1])], IntakeRequest(user='bench'));"
        "assert r[0].status == 'added', r;"
        # VmHWM belongs to this process image; ru_maxrss would count the forked parent.
        "own = int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')));"
        # The file is analysed in a worker forked from it: its peak counts too.
        "import resource; print(max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))"
    )
    args = [sys.executable, "-c", code, str(huge), str(folder / "huge-store")]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


BOMB_INTAKE = (
    "import sys; from pathlib import Path; from mediacheck import config;"
    "from mediacheck.intake.pipeline import IntakeRequest, intake;"
    "from mediacheck.store.database import Store;"
    "s = Store.open(config.resolve(store=Path(sys.argv[2]), user='bench'));"
    "r = intake(s, [Path(sys.argv[1])], IntakeRequest(user='bench'))[0];"
    "print(r.error or r.status);"
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
)
ORDINARY_HEIC = Path(__file__).resolve().parents[2] / "shared/corpus/files/exifr/heic-iphone.heic"


def pixel_bombs(folder: Path) -> None:
    """Peak memory of taking in each pixel bomb alone (see the module docstring)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.bombs import BOMBS

    folder.mkdir(exist_ok=True)
    files = [make(folder / name) for name, make in BOMBS.items()]
    files += [ORDINARY_HEIC] if ORDINARY_HEIC.is_file() else []
    print(f"\n{'file':<32} {'bytes':>8} {'peak MB':>8}  intake says")
    for i, path in enumerate(files):
        args = [sys.executable, "-c", BOMB_INTAKE, str(path), str(folder / f"store-{i}")]
        said, peak = subprocess.run(args, capture_output=True, text=True).stdout.splitlines()[-2:]
        said = said.removeprefix(f"{path}: ")
        print(f"{path.name:<32} {path.stat().st_size:>8} {int(peak) / 1024:>8.0f}  {said}")


def jobs_speedup(folder: Path, files: int, jobs: int, rounds: int) -> None:
    folder.mkdir(exist_ok=True)
    paths = make_jpegs(folder, SIZES["2MP"], files)
    best: dict[int, tuple[float, float]] = {}
    for _ in range(rounds):
        for n in (1, jobs):
            wall, cpu = intake_with_jobs(paths, n)
            best[n] = min(best.get(n, (wall, cpu)), (wall, cpu))
    load = os.getloadavg()[0]
    print(f"\nparallel intake, {files} files of 2 MP, best of {rounds} (load average {load:.1f}):")
    for n, (wall, cpu) in best.items():
        print(f"  jobs={n}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, {files / wall:5.2f} files/s")
    print(f"  speed-up: {best[1][0] / best[jobs][0]:.2f}x")


def intake_with_jobs(paths: list[Path], jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds (workers included) of one intake into a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(config.resolve(store=Path(tmp) / "cases", user="bench"))
        before, start = os.times(), time.perf_counter()
        results = intake(store, paths, IntakeRequest(user="bench"), jobs=jobs)
        wall, after = time.perf_counter() - start, os.times()
    assert all(r.status == "added" for r in results), results
    cpu = sum(after[:4]) - sum(before[:4])
    return wall, cpu


def worker_cost(folder: Path, files: int, rounds: int) -> None:
    """Describing 2 MP files in this process against through one worker process, best of each."""
    folder.mkdir(exist_ok=True)
    paths = make_jpegs(folder, SIZES["2MP"], files)
    best = {"in this process": float("inf"), "in a worker": float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        blobs = Store.open(config.resolve(store=Path(tmp) / "cases", user="bench")).blobs
        staged = [(blobs.stage(p), p) for p in paths]
        args = [(blobs, blob, _link(p), _claims(), ()) for blob, p in staged]
        for _ in range(rounds):
            start = time.perf_counter()
            for work in args:
                describe(*work)
            best["in this process"] = min(best["in this process"], time.perf_counter() - start)
            start = time.perf_counter()
            with Pool(1) as pool:  # a fresh worker each round: its start is part of the cost
                for ticket in [pool.submit(describe, *work) for work in args]:
                    pool.result(ticket)
            best["in a worker"] = min(best["in a worker"], time.perf_counter() - start)
    load = os.getloadavg()[0]
    print(f"\ndescribe, {files} files of 2 MP, best of {rounds} (load average {load:.1f}):")
    for where, seconds in best.items():
        print(f"  {where:<16} {seconds:6.2f} s wall, {1000 * seconds / files:6.1f} ms/file")
    extra = (best["in a worker"] - best["in this process"]) / files
    print(f"  worker cost: {1000 * extra:+.1f} ms/file (one worker start included)")


def _link(path: Path) -> CaseMedia:
    return CaseMedia(
        case_id="",
        media_id="",
        original_name=path.name,
        original_path=str(path),
        added_by="bench",
        added_at="",
    )


def _claims() -> Case:
    return Case(id="", year=0, seq=0, created_by="bench", created_at="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=6, help="files per size")
    parser.add_argument("--huge-gb", type=float, default=2.0, help="size of the huge file")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel intake jobs")
    parser.add_argument("--jobs-files", type=int, default=16, help="files for the jobs part")
    parser.add_argument("--jobs-rounds", type=int, default=3, help="rounds of the jobs part")
    parser.add_argument("--jobs-only", action="store_true", help="run only the jobs part")
    parser.add_argument("--bombs-only", action="store_true", help="run only the pixel bombs")
    parser.add_argument("--worker-only", action="store_true", help="run only the worker part")
    args = parser.parse_args()
    if args.bombs_only:
        with tempfile.TemporaryDirectory() as tmp:
            pixel_bombs(Path(tmp) / "bombs")
        return
    if args.worker_only:
        with tempfile.TemporaryDirectory() as tmp:
            worker_cost(Path(tmp), args.jobs_files, args.jobs_rounds)
        return
    if args.jobs_only:
        with tempfile.TemporaryDirectory() as tmp:
            jobs_speedup(Path(tmp), args.jobs_files, args.jobs, args.jobs_rounds)
        return
    print(f"{'set':<6} {'method':<11} {'files/s':>8} {'MB/s':>8} {'vs naive':>9} {'vs floor':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in SIZES.items():
            paths = make_jpegs(Path(tmp), size, args.files)
            megabytes = sum(p.stat().st_size for p in paths) / 1e6
            times = {
                name: timed(fn, paths)
                for name, fn in (
                    ("naive", naive),
                    ("mediacheck", mediacheck_intake),
                    ("--quick", partial(mediacheck_intake, quick=True)),
                    ("floor", floor),
                )
            }
            for name, seconds in times.items():
                rates = f"{len(paths) / seconds:>8.2f} {megabytes / seconds:>8.1f}"
                ratios = f"{times['naive'] / seconds:>8.1f}x {seconds / times['floor']:>8.2f}x"
                print(f"{label:<6} {name:<11} {rates} {ratios}")
        if args.huge_gb > 0:
            peak = huge_file_peak_mb(Path(tmp), args.huge_gb)
            print(f"\npeak memory taking in a {args.huge_gb:g} GB file: {peak:.0f} MB")
        jobs_speedup(Path(tmp) / "jobs", args.jobs_files, args.jobs, args.jobs_rounds)
        pixel_bombs(Path(tmp) / "bombs")
        worker_cost(Path(tmp) / "worker", args.jobs_files, args.jobs_rounds)


if __name__ == "__main__":
    main()
