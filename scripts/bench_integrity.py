"""What checking a case costs `show`, `report` and `export`: re-reading its originals.

    python scripts/bench_integrity.py                 # originals of 16, 64 and 256 MB
    python scripts/bench_integrity.py --sizes 32 512 --runs 5

Each command checks the case as `verify CASE` does before it renders: the chain
and the rows cost milliseconds, re-hashing the originals (SHA-256, SHA-1 and MD5
in one read) costs their size. For each size, one file of random bytes is taken
into a case of its own in a temporary store; then, in this process (start-up
left out: see bench_startup.py), the case's document (`show --json`, integrity
included) and its check alone are timed, median of --runs with the file in the
page cache, beside the bare hashing loop. The bundled samples (three small
pictures) give the floor.
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
from collections.abc import Callable
from pathlib import Path

from mediacheck import config
from mediacheck.digests import hash_stream
from mediacheck.integrity.verify import verify
from mediacheck.publish.document import case_document
from mediacheck.store.database import Store

SAMPLES = Path(__file__).resolve().parent.parent / "mediacheck" / "samples"
MEDIACHECK = [sys.executable, "-m", "mediacheck"]
MEGABYTE = 1024 * 1024


def timed(work: Callable[[], object], runs: int) -> float:
    def once() -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    once()  # the file into the page cache
    return statistics.median(once() for _ in range(runs))


def intake(paths: list[Path], env: dict[str, str]) -> str:
    argv = [*MEDIACHECK, "intake", *map(str, paths), "--one-case", "--quick", "--json"]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=False).stdout
    return json.loads(out)[0]["case_id"]


def hash_file(path: Path) -> None:
    with open(path, "rb") as handle:
        hash_stream(handle, ("sha256", "sha1", "md5"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 64, 256], metavar="MB")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env = os.environ | {"MEDIACHECK_HOME": str(root / "cases"), "MEDIACHECK_USER": "bench"}
        cases = [("samples", intake(sorted(SAMPLES.iterdir()), env), None)]
        for size in args.sizes:
            path = root / f"random-{size}.bin"
            path.write_bytes(os.urandom(size * MEGABYTE))
            cases.append((f"{size} MB", intake([path], env), path))
        store = Store.open(config.resolve(store=root / "cases", db_url="", user="bench"))
        print(f"{'case':>9} {'hash loop':>10} {'check':>8} {'document':>9} {'check share':>12}")
        for label, case_id, path in cases:
            loop = timed(lambda p=path: hash_file(p), args.runs) if path else 0.0
            check = timed(lambda c=case_id: verify(store, c), args.runs)
            document = timed(lambda c=case_id: case_document(store, c), args.runs)
            print(
                f"{label:>9} {loop:>9.3f}s {check:>7.3f}s {document:>8.3f}s "
                f"{check / document:>11.0%}"
            )


if __name__ == "__main__":
    main()
