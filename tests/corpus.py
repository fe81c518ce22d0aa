"""Where the shared corpus of real media lives (beside the repository, never copied into it)."""

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# MEDIACHECK_CORPUS points the tests at a corpus somewhere else (or, set to a missing
# folder, runs the suite as a machine without one would).
CORPUS = Path(os.environ.get("MEDIACHECK_CORPUS") or REPO.parent / "shared" / "corpus")
FILES = CORPUS / "files"
TRUTH = CORPUS / "truth"
C2PA = CORPUS / "c2pa"
HAVE_CORPUS = FILES.is_dir()

needs_corpus = pytest.mark.skipif(
    not HAVE_CORPUS, reason=f"no media corpus at {CORPUS} (set MEDIACHECK_CORPUS)"
)


def corpus_file(rel: str) -> Path:
    return FILES / rel


def exiftool_truth(rel: str) -> dict:
    """ExifTool's view of a corpus file (``exiftool -j -n -G1``)."""
    return json.loads((TRUTH / f"{rel}.exiftool.json").read_text())[0]


def manifest(folder: Path = CORPUS) -> list[dict[str, str]]:
    """The rows of a corpus MANIFEST.tsv; none without a corpus (its tests then skip)."""
    if not HAVE_CORPUS:
        return []
    lines = (folder / "MANIFEST.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line]
