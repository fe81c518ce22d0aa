"""Intake speed against a naive loop and against the floor, and peak memory on a huge file.

    python scripts/bench_intake.py [--files N] [--huge-gb 2] [--mixed-files 200]

Generates 12 MP and 2 MP JPEGs, then times in one run:
- naive: what a script using the same libraries would do (three separate reads
  for SHA-256/SHA-1/MD5, full decode, five imagehash hashes and PDQ on the
  full picture, exifread);
- mediacheck: the real intake into a fresh store, one worker process (copy +
  hashes in one read, reduced decode, all hashes, metadata, fingerprints, archive
  search, forensic findings, database writes);
- --jobs N: the same with ``--jobs`` at its default, the number of cores;
- --quick: one worker, without the pixel forensics (ELA, double JPEG);
- floor: reduced decode plus SHA-256 of the same files, the least any intake must do;
and prints each goal of issue 17 with the ratio measured in this run.
Then takes in one huge file (a JPEG with gigabytes appended) in a child
process and reports its peak memory. Then parallel intake: a folder of mixed
photos (2, 5, 8 and 12 MP in turn) with ``jobs=1`` and with ``jobs=N`` (``--jobs``,
default the number of cores), alternating rounds, best of each, and beside them the
same intake in one process, every file described in it (the single-process rate:
``jobs=1`` is a worker describing while this process records; ``--jobs-only``
runs just this part). ``--steps-only``: the cost of each step of the intake of a
12 MP photo, in this process, best of ``--files`` photos.
Pixel bombs (``--bombs-only`` runs just this part): files from ``tests/bombs.py``
declaring 196 MP in PNG, JPEG, GIF, TIFF, BMP and HEIC, most of them tiny, and an
ordinary 12 MP iPhone HEIC from the corpus where it is beside the repository, each
taken in alone by a child process: its peak resident memory and what intake said.
And the cost of describing each file in a worker process rather than in this one
(``--worker-only``: 2 MP files, a fresh worker each round).
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
from typing import Any
from unittest import mock

import exifread
import imagehash
import numpy as np
import pdqhash
from PIL import Image

from mediacheck import config
from mediacheck.intake import pipeline
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


def mediacheck_intake(paths: list[Path], quick: bool = False, jobs: int = 1) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(config.resolve(store=Path(tmp) / "cases", user="bench"))
        results = intake(store, paths, IntakeRequest(user="bench", quick=quick), jobs=jobs)
        assert all(r.status == "added" for r in results), results
        store.engine.dispose()


def floor(paths: list[Path]) -> None:
    for path in paths:
        hashlib.sha256(path.read_bytes()).hexdigest()
        open_picture(path)


def timed_cpu(fn, paths) -> tuple[float, float]:
    """Wall and CPU seconds, this process and its finished workers (``os.times``)."""
    before, start = os.times(), time.perf_counter()
    fn(paths)
    wall, after = time.perf_counter() - start, os.times()
    return wall, sum(after[:4]) - sum(before[:4])


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
    "own = int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')));"
    # The file is described in a worker forked from this process: its peak counts too.
    "import resource; print(max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))"
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


MIXED = ((1600, 1200), (2592, 1944), (3264, 2448), (4000, 3000))  # 2, 5, 8 and 12 MP


def make_mixed(folder: Path, files: int) -> list[Path]:
    """``files`` photos, 2, 5, 8 and 12 MP in turn."""
    paths = []
    for i, size in enumerate(MIXED):
        sub = folder / f"mixed-{i}"
        sub.mkdir(parents=True, exist_ok=True)
        paths += make_jpegs(sub, size, len(range(i, files, len(MIXED))))
    return paths


def jobs_speedup(folder: Path, files: int, jobs: int, rounds: int) -> float:
    """The speed-up of ``jobs`` worker processes over one on a folder of mixed photos."""
    folder.mkdir(exist_ok=True)
    paths = make_mixed(folder, files)
    megapixels = sum(_pixels(p) for p in paths) / 1e6
    best: dict[int, tuple[float, float]] = {}
    for _ in range(rounds):
        for n in (1, jobs):
            wall, cpu = intake_with_jobs(paths, n)
            best[n] = min(best.get(n, (wall, cpu)), (wall, cpu))
    alone = min(intake_in_process(paths) for _ in range(rounds))
    load = os.getloadavg()[0]
    print(
        f"\nparallel intake, {files} photos of 2-12 MP ({megapixels:.0f} MP), best of {rounds} "
        f"(load average {load:.1f}):"
    )
    for n, (wall, cpu) in best.items():
        print(f"  jobs={n}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, {files / wall:5.2f} files/s")
    wall, cpu = alone
    print(f"  one process: {wall:6.2f} s wall, {cpu:6.2f} s CPU, {files / wall:5.2f} files/s")
    speedup = best[1][0] / best[jobs][0]
    print(f"  speed-up: {speedup:.2f}x over jobs=1, {wall / best[jobs][0]:.2f}x over one process")
    return speedup


class InProcessPool:
    """``workers.Pool`` without workers: each task runs in this process when submitted.

    Only for the single-process baseline: no time or memory bound holds, so intake
    never runs this way on files it did not make.
    """

    def __init__(self, *_args: object):
        self._done: dict[int, tuple[bool, Any]] = {}
        self._tickets = 0

    def __enter__(self) -> InProcessPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.clear()

    def submit(self, fn, *args) -> int:
        self._tickets += 1
        ticket = self._tickets
        try:
            self._done[ticket] = (True, fn(*args))
        except Exception as exc:  # noqa: BLE001 - raised by result, as a worker's would be
            self._done[ticket] = (False, exc)
        return ticket

    def ready(self, _ticket: int, _timeout: float = 0.0) -> bool:
        return True

    def result(self, ticket: int) -> Any:
        ok, value = self._done.pop(ticket)
        if ok:
            return value
        raise value


def intake_in_process(paths: list[Path]) -> tuple[float, float]:
    """``intake_with_jobs`` with every file described in this process: one process in all."""
    with mock.patch.object(pipeline, "Pool", InProcessPool):
        return intake_with_jobs(paths, 1)


def _pixels(path: Path) -> int:
    with Image.open(path) as img:
        return img.width * img.height


def intake_with_jobs(paths: list[Path], jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds (workers included) of one intake into a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(config.resolve(store=Path(tmp) / "cases", user="bench"))
        before, start = os.times(), time.perf_counter()
        results = intake(store, paths, IntakeRequest(user="bench"), jobs=jobs)
        wall, after = time.perf_counter() - start, os.times()
        store.engine.dispose()
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


METHODS = ("naive", "mediacheck", "--jobs N", "--quick", "floor")


def speed_table(folder: Path, files: int, jobs: int) -> dict[str, dict[str, float]]:
    """Seconds of each method on each set, every figure of a set measured in the same minute."""
    print(
        f"{'set':<6} {'method':<11} {'files/s':>8} {'MB/s':>8} {'vs naive':>9} {'vs floor':>9}"
        f" {'CPU ms/file':>12} {'CPU vs naive':>13}"
    )
    table = {}
    for label, size in SIZES.items():
        paths = make_jpegs(folder, size, files)
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        work = dict(
            zip(
                METHODS,
                (
                    naive,
                    mediacheck_intake,
                    partial(mediacheck_intake, jobs=jobs),
                    partial(mediacheck_intake, quick=True),
                    floor,
                ),
                strict=True,
            )
        )
        measured = {name: timed_cpu(fn, paths) for name, fn in work.items()}
        times = {name: wall for name, (wall, _) in measured.items()}
        cpus = {name: cpu for name, (_, cpu) in measured.items()}
        for name, seconds in times.items():
            rates = f"{len(paths) / seconds:>8.2f} {megabytes / seconds:>8.1f}"
            ratios = f"{times['naive'] / seconds:>8.1f}x {seconds / times['floor']:>8.2f}x"
            cpu = f"{1000 * cpus[name] / len(paths):>12.0f} {cpus['naive'] / cpus[name]:>12.1f}x"
            shown = name.replace("N", str(jobs))
            print(f"{label:<6} {shown:<11} {rates} {ratios} {cpu}")
        table[label] = times
    print(f"(load average {os.getloadavg()[0]:.1f} at the end)")
    return table


def goals(table: dict[str, dict[str, float]], speedup: float | None, peak: float | None) -> None:
    """Each goal of issue 17 against this run's ratios (one worker, then ``--jobs`` default)."""
    big, small = table["12MP"], table["2MP"]
    rows = [
        ("12 MP full intake vs naive", big["naive"] / big["mediacheck"], ">=", 20.0),
        ("  with --jobs at its default", big["naive"] / big["--jobs N"], ">=", 20.0),
        ("12 MP full intake vs floor", big["mediacheck"] / big["floor"], "<=", 4.0),
        ("  with --jobs at its default", big["--jobs N"] / big["floor"], "<=", 4.0),
        ("12 MP --quick vs floor", big["--quick"] / big["floor"], "<=", 2.0),
        ("2 MP full intake vs naive", small["naive"] / small["mediacheck"], ">=", 10.0),
        ("  with --jobs at its default", small["naive"] / small["--jobs N"], ">=", 10.0),
    ]
    if speedup is not None:
        rows.append(("mixed folder, --jobs default vs 1", speedup, ">=", 1.7))
    if peak is not None:
        rows.append(("peak MB taking in the huge file", peak, "<=", 300.0))
    print("\ngoal                                  measured   goal   met")
    for name, value, sense, goal in rows:
        met = value >= goal if sense == ">=" else value <= goal
        print(f"{name:<37} {value:>8.2f}  {sense}{goal:<5g} {'yes' if met else 'NO'}")


def steps(folder: Path, files: int) -> None:
    """Milliseconds of each intake step for one 12 MP photo, in this process, best of ``files``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from mediacheck.findings import CHECKS
    from mediacheck.findings.pixels import decoded_picture
    from mediacheck.match import search as seen
    from mediacheck.media.hashes import compute_hashes
    from mediacheck.media.metadata import extract_metadata
    from tests.findings_helpers import make_context

    paths = make_jpegs(folder, SIZES["12MP"], files)
    best: dict[str, tuple[float, float]] = {}

    def step(name: str, work, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work(*args)
        spent = (time.perf_counter() - wall, time.process_time() - cpu)
        best[name] = min(best.get(name, spent), spent)
        return result

    def probes(image: Image.Image) -> None:
        seen.picture_probes([seen.PictureOf(None, image)])

    with tempfile.TemporaryDirectory() as tmp:
        blobs = Store.open(config.resolve(store=Path(tmp) / "cases", user="bench")).blobs
        for path in paths:
            step("copy and SHA-256/SHA-1/MD5 in one read", blobs.stage, path)
            picture = step("reduced decode (JPEG draft)", open_picture, path)
            step("perceptual hashes", compute_hashes, picture.image)
            step("metadata", extract_metadata, path, "image/jpeg", (4000, 3000))
            step("fingerprints and ORB keypoints", probes, picture.image)
            ctx = make_context(path, Path(tmp) / "derived")
            shared = decoded_picture(ctx)
            step("full decode (shared by pixel checks)", getattr, shared, "rgbx")
            step("luminance decode (double JPEG)", getattr, shared, "luma")
            for name, check in CHECKS:
                step(f"check {name}", check, ctx)
    load = os.getloadavg()[0]
    print(f"\nsteps of a 12 MP intake, best of {files} (load average {load:.1f}), ms:")
    print(f"  {'step':<40} {'wall':>7} {'CPU':>7}")
    for name, (wall, cpu) in best.items():
        print(f"  {name:<40} {1000 * wall:7.1f} {1000 * cpu:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=6, help="files per size")
    parser.add_argument("--huge-gb", type=float, default=2.0, help="size of the huge file")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel intake jobs")
    parser.add_argument("--mixed-files", type=int, default=200, help="photos for the jobs part")
    parser.add_argument("--jobs-rounds", type=int, default=1, help="rounds of the jobs part")
    parser.add_argument("--jobs-only", action="store_true", help="run only the jobs part")
    parser.add_argument("--steps-only", action="store_true", help="run only the steps part")
    parser.add_argument("--bombs-only", action="store_true", help="run only the pixel bombs")
    parser.add_argument("--worker-only", action="store_true", help="run only the worker part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.bombs_only:
            pixel_bombs(folder / "bombs")
        elif args.worker_only:
            worker_cost(folder, 16, args.jobs_rounds)
        elif args.jobs_only:
            jobs_speedup(folder, args.mixed_files, args.jobs, args.jobs_rounds)
        elif args.steps_only:
            steps(folder, args.files)
        else:
            table = speed_table(folder, args.files, args.jobs)
            peak = huge_file_peak_mb(folder, args.huge_gb) if args.huge_gb > 0 else None
            if peak is not None:
                print(f"\npeak memory taking in a {args.huge_gb:g} GB file: {peak:.0f} MB")
            speedup = None
            if args.mixed_files:
                mixed, rounds = args.mixed_files, args.jobs_rounds
                speedup = jobs_speedup(folder / "jobs", mixed, args.jobs, rounds)
            goals(table, speedup, peak)


if __name__ == "__main__":
    main()
