"""Start-up time of the CLI: what every command a fact-checker types costs before it works.

    python scripts/bench_startup.py            # median of 10 runs of each command
    python scripts/bench_startup.py --runs 20

Times, each in a fresh interpreter, ``mediacheck --help``, ``mediacheck cases`` and
``mediacheck show CASE`` on a small SQLite store (the bundled samples taken in as one
case, in a temporary folder) beside ``python -c "import click"``, the floor of any
click command. CPU time (user + system) is printed beside wall time: on a machine
shared with other work it moves less than wall time does.

To time an older version, run it from another folder with that version first on the
path: ``git archive COMMIT mediacheck | tar -x -C /tmp/old``, then
``cd /tmp && PYTHONPATH=/tmp/old python /path/to/scripts/bench_startup.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "mediacheck" / "samples"
MEDIACHECK = [sys.executable, "-m", "mediacheck"]


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def median_time(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    run(argv, env)  # warm the file cache and the .pyc files
    walls, cpus = zip(*(run(argv, env) for _ in range(runs)), strict=True)
    return statistics.median(walls), statistics.median(cpus)


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
    print("| command | wall | vs import click | CPU | vs import click |")
    print("|---|---|---|---|---|")
    for label, (wall, cpu) in rows:
        print(
            f"| `{label}` | {wall:.3f} s | {wall / floor[0]:.1f}x "
            f"| {cpu:.3f} s | {cpu / floor[1]:.1f}x |"
        )


if __name__ == "__main__":
    main()
