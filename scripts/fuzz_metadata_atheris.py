"""Coverage-guided fuzzing of the metadata readers with atheris (libFuzzer for Python).

    pip install atheris
    python scripts/fuzz_metadata_atheris.py --out fuzz-atheris -- -max_total_time=900

Seeds are the first 64 KB of every corpus file. Each input is written to a
file and read with ``extract_metadata``, which promises never to raise and to
return what the store can keep: JSON without NaN (PostgreSQL refuses it).
Anything else is a crash; libFuzzer saves the input as ``OUT/crash-*`` (and
``timeout-*`` for an input that takes over ten seconds). Arguments after
``--`` go to libFuzzer.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.corpus import FILES  # noqa: E402
from tests.mutate import HEAD, corpus_files  # noqa: E402

with atheris.instrument_imports():
    import defusedxml.ElementTree  # noqa: F401 - instrumented for coverage
    import exifread  # noqa: F401 - instrumented for coverage

    from mediacheck.media.metadata import extract_metadata

SCRATCH = Path(tempfile.mkdtemp(prefix="atheris-")) / "input"


def one_input(data: bytes) -> None:
    SCRATCH.write_bytes(data)
    extracted = extract_metadata(SCRATCH, None, None)
    json.dumps([extracted.summary, extracted.metadata, extracted.errors], allow_nan=False)


def _seeds(out: Path) -> Path:
    seeds = out / "corpus"
    seeds.mkdir(parents=True, exist_ok=True)
    for n, path in enumerate(corpus_files(FILES)):
        with path.open("rb") as fh:
            (seeds / f"{n:03d}-{path.name}").write_bytes(fh.read(HEAD))
    return seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("fuzz-atheris"))
    args, libfuzzer = parser.parse_known_args()
    seeds = _seeds(args.out)
    defaults = [f"-artifact_prefix={args.out}/", "-timeout=10", "-rss_limit_mb=3072"]
    atheris.Setup([sys.argv[0], *defaults, *libfuzzer, str(seeds)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
