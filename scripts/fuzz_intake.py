"""Long fuzz campaigns: mutated corpus files through the real intake, in batches.

    python scripts/fuzz_intake.py --mutants 5000 --seed 1 --out fuzz-out [--batch 10]

Each batch is a folder of mutants (``tests/mutate.py``) plus a few unmutated
corpus files, taken in by ``mediacheck intake FOLDER --json`` in a child
process with a fresh store, and checked as the fuzz test checks it
(``tests/batches.py``). When a batch fails, each of its mutants is taken in
alone to find the ones that fail. For each distinct failure (same kind,
exception type and place) OUT gets the first mutant that showed it and a
one-line description beside it; ``OUT/summary.json`` holds the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.batches import CLEAN_ORIGINALS, BatchOutcome, Problem, run_intake, run_singly  # noqa: E402
from tests.corpus import FILES  # noqa: E402
from tests.mutate import Mutant, corpus_files, mutants  # noqa: E402


def main() -> int:
    args = _arguments()
    files = corpus_files(args.corpus)
    if not files:
        print(f"no corpus files under {args.corpus}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    campaign = Campaign(args.out, args.timeout)
    started = time.monotonic()
    for first in range(args.start, args.start + args.mutants, args.batch):
        count = min(args.batch, args.start + args.mutants - first)
        batch = list(mutants(args.corpus, args.seed, count, start=first))
        picks = random.Random(f"{args.seed}:originals:{first}").sample(
            CLEAN_ORIGINALS, args.originals
        )
        originals = [args.corpus / rel for rel in picks]
        campaign.run(batch, originals)
        campaign.save(time.monotonic() - started, args)
    print(json.dumps(campaign.figures(time.monotonic() - started, args), indent=2))
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=1000, help="how many mutants to run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="index of the first mutant")
    parser.add_argument("--batch", type=int, default=10, help="mutants per intake")
    parser.add_argument("--originals", type=int, default=2, help="unmutated files per batch")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per intake")
    parser.add_argument("--corpus", type=Path, default=FILES)
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"))
    return parser.parse_args()


class Campaign:
    def __init__(self, out: Path, timeout: float):
        self.out = out
        self.timeout = timeout
        self.found: dict[str, dict] = {}  # signature -> first reproducer and how often seen
        self.mutants_run = 0
        self.batches = 0
        self.failed_batches = 0
        self.slowest_batch = 0.0

    def run(self, batch: list[Mutant], originals: list[Path]) -> None:
        outcome = self._intake(batch, originals)
        self.mutants_run += len(batch)
        self.batches += 1
        self.slowest_batch = max(self.slowest_batch, outcome.seconds)
        if not outcome.problems:
            return
        self.failed_batches += 1
        culprits = 0
        for mutant, alone in self._singly(batch):
            for problem in alone.problems:
                culprits += 1
                self._record(problem, mutant)
        if not culprits:  # the batch failed only as a whole: keep what it said
            for problem in outcome.problems:
                self._record(problem, None)

    def _intake(self, batch: list[Mutant], originals: list[Path]) -> BatchOutcome:
        with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
            folder = _folder(Path(tmp), batch)
            names = set()
            for n, original in enumerate(originals):
                name = f"original-{n}-{original.name}"
                shutil.copyfile(original, folder / name)
                names.add(name)
            return run_intake(folder, Path(tmp) / "store", names, self.timeout)

    def _singly(self, batch: list[Mutant]) -> list[tuple[Mutant, BatchOutcome]]:
        with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
            outcomes = run_singly(_folder(Path(tmp), batch), Path(tmp), self.timeout)
        by_name = {_mutant_name(m): m for m in batch}
        return [(by_name[name], outcome) for name, outcome in outcomes.items()]

    def _record(self, problem: Problem, mutant: Mutant | None) -> None:
        key = f"{problem.kind}: {problem.signature}"
        seen = self.found.get(key)
        if seen is not None:
            seen["count"] += 1
            return
        slug = f"{len(self.found) + 1:03d}-{_slug(key)}"
        line = f"{problem.message} | {mutant.description if mutant else 'whole batch'}"
        if mutant is not None:
            (self.out / f"{slug}{Path(mutant.source).suffix}").write_bytes(mutant.data)
        (self.out / f"{slug}.txt").write_text(line.replace("\n", " ") + "\n")
        self.found[key] = {"count": 1, "reproducer": slug, "first": line}
        print(f"new failure {slug}: {line}", file=sys.stderr, flush=True)

    def figures(self, seconds: float, args: argparse.Namespace) -> dict:
        return {
            "seed": args.seed,
            "first_mutant": args.start,
            "mutants_run": self.mutants_run,
            "batches": self.batches,
            "failed_batches": self.failed_batches,
            "distinct_failures": len(self.found),
            "slowest_batch_s": round(self.slowest_batch, 1),
            "seconds": round(seconds),
            "failures": self.found,
        }

    def save(self, seconds: float, args: argparse.Namespace) -> None:
        summary = json.dumps(self.figures(seconds, args), indent=2)
        (self.out / "summary.json").write_text(summary + "\n")


def _folder(tmp: Path, batch: list[Mutant]) -> Path:
    folder = tmp / "in"
    folder.mkdir()
    for mutant in batch:
        (folder / _mutant_name(mutant)).write_bytes(mutant.data)
    return folder


def _mutant_name(mutant: Mutant) -> str:
    return f"m{mutant.index:06d}-{mutant.mutator}{Path(mutant.source).suffix}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80]


if __name__ == "__main__":
    sys.exit(main())
