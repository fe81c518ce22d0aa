"""Measure the copy-move finding: detections on forgeries, false alarms on real photos, cost.

    python scripts/bench_copy_move.py            # both halves, 4 forgeries per photo
    python scripts/bench_copy_move.py --per 2 --half held

The photos (``scripts/copy_move_sets.py``: the corpus's real photos and, with ``pip install
'.[bench]'``, scikit-image's) are split by the hashes of their names into a tuning half,
on which the thresholds were chosen, and a held-out half. Each photo gives ``--per``
forgeries (patch 2-10% of the area, rectangle or blob, scaled 0.8-1.2, rotated up to 15
degrees, JPEG quality 70-95), each seeded by the photo's name and its number. A forgery
counts as detected only when a reported pair of areas overlaps both the true source and
the true copy. The untouched photos (the corpus files themselves) and the repetitive set
(brick, coins, text, tiled floors, crowds) must give nothing.

Every picture goes through ``check_copy_move`` as intake runs it, from a file on disk. The
cost is timed on the corpus's 12 MP photos: the check, and for scale the decode alone and
the ELA check, in one run (the machine is shared: compare the ratios).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mediacheck.findings import copy_move, ela  # noqa: E402
from mediacheck.findings.base import Finding, FindingContext  # noqa: E402
from mediacheck.findings.pixels import decode  # noqa: E402
from scripts.copy_move_sets import (  # noqa: E402
    CORPUS,
    Forgery,
    Photo,
    forge,
    halves,
    real_photos,
    repetitive_photos,
)

TWELVE_MP = ("files/exifr/IMG_20180725_163423.jpg", "files/exifr/heic-iphone.heic")


@dataclass
class Tally:
    label: str
    hits: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, hit: bool, what: str) -> None:
        self.hits += hit
        self.total += 1
        if not hit:
            self.misses.append(what)

    def row(self) -> str:
        rate = self.hits / self.total if self.total else 0.0
        return f"{self.label:<44} {self.hits:>4} / {self.total:<4} {rate:6.1%}"


def context(path: Path, derived: Path) -> FindingContext:
    return FindingContext(path, path.name, "image", "image/jpeg", {}, {}, None, None, derived)


def check_file(path: Path, derived: Path) -> list[Finding]:
    return copy_move.check_copy_move(context(path, derived))


def forgery_seed(photo: Photo, number: int) -> random.Random:
    digest = hashlib.sha256(f"{photo.name}/{number}".encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def overlaps(box: list[int], truth: tuple[int, int, int, int]) -> bool:
    return min(box[0] + box[2], truth[0] + truth[2]) > max(box[0], truth[0]) and min(
        box[1] + box[3], truth[1] + truth[3]
    ) > max(box[1], truth[1])


def located(finding: Finding, forgery: Forgery) -> bool:
    """Whether one reported pair of areas covers the true source and the true copy."""
    for region in finding.evidence["regions"]:
        first, second = region["first"], region["second"]
        if (overlaps(first, forgery.source) and overlaps(second, forgery.target)) or (
            overlaps(first, forgery.target) and overlaps(second, forgery.source)
        ):
            return True
    return False


def detections(photos: list[Photo], per: int, content: bool, work: Path, label: str) -> Tally:
    tally = Tally(label)
    for photo in photos:
        for number in range(per):
            forgery = forge(photo, forgery_seed(photo, number), content=content)
            path = work / "forged.jpg"
            path.write_bytes(forgery.jpeg)
            found = check_file(path, work / "derived")
            hit = any(located(f, forgery) for f in found)
            tally.add(hit, f"{photo.name} #{number} {forgery.params}")
    return tally


def false_alarms(photos: list[Photo], work: Path, label: str) -> Tally:
    """Photos with no copy-move finding count as hits here (the row reads 'clean')."""
    tally = Tally(label)
    for photo in photos:
        path = _original(photo, work)
        found = check_file(path, work / "derived")
        tally.add(not found, f"{photo.name} {[f.evidence['regions'] for f in found]}")
    return tally


def _original(photo: Photo, work: Path) -> Path:
    """The corpus file itself; other photos saved once as a JPEG at quality 90."""
    source = CORPUS / photo.name
    if source.is_file():
        return source
    path = work / "photo.jpg"
    photo.image.save(path, "JPEG", quality=90)
    return path


def timed(run: Callable[[], object], rounds: int = 3) -> tuple[float, float]:
    """Median wall and CPU seconds of ``rounds`` runs."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def cost(work: Path) -> list[str]:
    lines = []
    for rel in TWELVE_MP:
        path = CORPUS / rel
        if not path.is_file():
            continue
        ctx = context(path, work / "derived")
        check = timed(lambda ctx=ctx: copy_move.check_copy_move(ctx))
        decoded = timed(lambda path=path: decode(path, "RGB", copy_move.WORK_SIDE))
        full = timed(lambda ctx=ctx: ela.check_ela(ctx))
        lines.append(
            f"{rel}: copy-move {check[0]:.2f} s wall, {check[1]:.2f} s CPU "
            f"(of which the reduced decode {decoded[1]:.2f} s CPU); "
            f"ELA on the same file {full[0]:.2f} s wall, {full[1]:.2f} s CPU"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per", type=int, default=4, help="forgeries per photo")
    parser.add_argument("--half", choices=("tune", "held", "both"), default="both")
    parser.add_argument("--misses", action="store_true", help="list every miss and alarm")
    args = parser.parse_args()
    photos = real_photos()
    tune, held = halves(photos)
    chosen = {"tune": [("tuning", tune)], "held": [("held-out", held)]}
    runs = chosen.get(args.half, [("tuning", tune), ("held-out", held)])
    tallies = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name, half in runs:
            print(f"{name} half: {len(half)} photos", file=sys.stderr)
            tallies.append(detections(half, args.per, True, work, f"{name}: forgeries detected"))
            tallies.append(detections(half, args.per, False, work, f"{name}: forgeries, any patch"))
            tallies.append(false_alarms(half, work, f"{name}: untouched photos clean"))
        tallies.append(false_alarms(repetitive_photos(), work, "repetitive pictures clean"))
        timing = cost(work)
    print(f"{len(photos)} real photos ({len(tune)} tuning, {len(held)} held out)\n")
    for tally in tallies:
        print(tally.row())
        if args.misses:
            for miss in tally.misses:
                print(f"    {miss}")
    print()
    for line in timing:
        print(line)


if __name__ == "__main__":
    main()
