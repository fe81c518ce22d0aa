"""Start-up time of the CLI: what every command a fact-checker types costs before it works.

    python scripts/bench_startup.py            # median of 10 runs of each command
    python scripts/bench_startup.py --runs 20

Times, each in a fresh interpreter, ``mediacheck --help``, ``mediacheck cases`` and
``mediacheck show CASE`` on a small SQLite store (the bundled samples taken in as one
case, in a temporary folder) beside ``python -c "import click"``, the floor of any
click command.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "mediacheck" / "samples"
MEDIACHECK = [sys.executable, "-m", "mediacheck"]


def run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def median_time(argv: list[str], env: dict[str, str], runs: int) -> float:
    run(argv, env)  # warm the file cache and the .pyc files
    return statistics.median(run(argv, env) for _ in range(runs))


def make_store(env: dict[str, str]) -> str:
    intake = [*MEDIACHECK, "intake", str(SAMPLES), "--one-case", "--quick", "--json"]
    out = subprocess.run(intake, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]["case_id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "MEDIACHECK_HOME": str(Path(scratch) / "cases")}
        env.pop("MEDIACHECK_DATABASE_URL", None)
        case_id = make_store(env)
        floor = median_time([sys.executable, "-c", "import click"], env, args.runs)
        rows = [("python -c 'import click'", floor)]
        for label, argv in (
            ("mediacheck --help", ["--help"]),
            ("mediacheck cases", ["cases"]),
            (f"mediacheck show {case_id}", ["show", case_id]),
        ):
            rows.append((label, median_time([*MEDIACHECK, *argv], env, args.runs)))
    load = os.getloadavg()[0]
    print(f"median of {args.runs} runs, load average {load:.1f}")
    print("| command | median | vs import click |")
    print("|---|---|---|")
    for label, seconds in rows:
        print(f"| `{label}` | {seconds:.3f} s | {seconds / floor:.1f}x |")


if __name__ == "__main__":
    main()
