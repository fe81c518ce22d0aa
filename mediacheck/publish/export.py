"""The whole archive in portable files, so a desk can leave or merge with other tools.

JSON Lines: one case a line, the same document as ``report --format json``.
CSV: one row a media item (a case without media still gets one row), with the
case's fields repeated on each row. Every case is checked as it is written: its
integrity goes with it, and the cases that fail are named in the result.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediacheck.publish import reports
from mediacheck.store.database import Store

CASE_COLUMNS = (
    "case_id",
    "title",
    "claim",
    "source_url",
    "platform",
    "posted_at",
    "status",
    "tags",
    "assignee",
    "claimed_latitude",
    "claimed_longitude",
    "created_by",
    "created_at",
    "verdict",
    "verdict_state",
    "final_verdict",
    "integrity_ok",
    "integrity_problems",
)
MEDIA_COLUMNS = (
    "media_id",
    "sha256",
    "sha1",
    "md5",
    "kind",
    "mime",
    "size",
    "width",
    "height",
    "original_name",
    "added_by",
    "added_at",
    "media_final_verdict",  # the item's own approved rating; final_verdict is the case's
)
SUMMARY_COLUMNS = ("captured_at", "make", "model", "software", "gps_latitude", "gps_longitude")
COLUMNS = CASE_COLUMNS + MEDIA_COLUMNS + SUMMARY_COLUMNS
# A spreadsheet runs a cell that starts with these as a formula: hostile metadata must not.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Written:
    count: int = 0  # lines or rows
    # The cases that fail their check, with their problems as verify names them.
    unverifiable: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def problems(self) -> list[dict[str, Any]]:
        return [problem for found in self.unverifiable.values() for problem in found]


def write_archive(store: Store, out: Path, fmt: str) -> Written:
    """Write every case to ``out``: how many lines or rows, and which cases fail their check."""
    written = Written()
    documents = _checked(
        (reports.report_document(store, c.case.id) for c in store.list_cases()), written
    )
    out = Path(out)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=".archive-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write = _write_jsonl if fmt == "jsonl" else _write_csv
            written.count = write(handle, documents)
        os.replace(tmp_name, out)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return written


def _checked(documents: Iterator[dict[str, Any]], written: Written) -> Iterator[dict[str, Any]]:
    for doc in documents:
        if not doc["integrity"]["ok"]:
            written.unverifiable[doc["case_id"]] = doc["integrity"]["problems"]
        yield doc


def _write_jsonl(handle, documents: Iterator[dict[str, Any]]) -> int:
    count = 0
    for doc in documents:
        handle.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
        count += 1
    return count


def _write_csv(handle, documents: Iterator[dict[str, Any]]) -> int:
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
    writer.writeheader()
    count = 0
    for doc in documents:
        for row in csv_rows(doc):
            writer.writerow({k: cell(v) for k, v in row.items()})
            count += 1
    return count


def csv_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The CSV rows of one case document: one per media item, at least one."""
    case = _case_row(doc)
    rows = []
    for media in doc.get("media") or []:
        summary = media.get("summary") or {}
        row = dict(case)
        row.update({k: media.get(k) for k in MEDIA_COLUMNS})
        row.update({k: summary.get(k) for k in SUMMARY_COLUMNS})
        row["media_final_verdict"] = media.get("final_verdict")
        rows.append(row)
    return rows or [case]


def _case_row(doc: dict[str, Any]) -> dict[str, Any]:
    location = doc.get("claimed_location") or {}
    verdict = doc.get("verdict") or {}
    integrity = doc.get("integrity") or {}
    row = {k: doc.get(k) for k in CASE_COLUMNS}
    row.update(
        tags=";".join(doc.get("tags") or []),
        claimed_latitude=location.get("latitude"),
        claimed_longitude=location.get("longitude"),
        verdict=verdict.get("rating"),
        verdict_state=verdict.get("state"),
        integrity_ok=integrity.get("ok"),
        integrity_problems=len(integrity["problems"]) if integrity else None,
    )
    return row


def cell(value: Any) -> Any:
    """A CSV cell: text that would start a formula is quoted with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
