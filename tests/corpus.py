"""Where the shared corpus of real media lives (beside the repository, never copied into it)."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
FILES = CORPUS / "files"
TRUTH = CORPUS / "truth"
C2PA = CORPUS / "c2pa"

needs_corpus = pytest.mark.skipif(
    not FILES.is_dir(), reason="../shared/corpus is not beside the repo"
)


def corpus_file(rel: str) -> Path:
    return FILES / rel


def exiftool_truth(rel: str) -> dict:
    """ExifTool's view of a corpus file (``exiftool -j -n -G1``)."""
    return json.loads((TRUTH / f"{rel}.exiftool.json").read_text())[0]


def manifest() -> list[dict[str, str]]:
    lines = (CORPUS / "MANIFEST.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line]
