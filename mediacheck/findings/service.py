"""Findings of media in a case: computed against the case's claims, stored, recomputed.

The same picture can be in two cases with different claims (posted on another
day, said to show another place), so findings are kept per case and media.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mediacheck.errors import StoreError
from mediacheck.findings import CHECKS, FindingContext, compute_findings
from mediacheck.findings.base import Finding, analysis_failed
from mediacheck.history import chain as history
from mediacheck.store.blobs import BlobStore
from mediacheck.store.database import Store
from mediacheck.store.models import Case, CaseMedia, FindingRow, Media

ANALYSIS_FAILED = "analysis-failed"


@dataclass(frozen=True)
class AnalyzeResult:
    case_id: str
    findings: dict[str, list[FindingRow]]  # media_id -> its new findings


def finding_rows(
    blobs: BlobStore, case: Case, link: CaseMedia, media: Media, skip: tuple[str, ...] = ()
) -> list[FindingRow]:
    """Compute the findings of one media in one case, as rows ready to store.

    Needs no database: intake computes them in its worker processes. Checks
    named in ``skip`` are left out.
    """
    with blobs.local_original(media.sha256) as path:
        ctx = _context(blobs, case, link, media, path)
        at = history.now()
        rows = [
            finding_row(
                found,
                case.id,
                media.id,
                image=blobs.relative(ctx.derived_dir / found.image) if found.image else None,
                at=at,
            )
            for found in compute_findings(ctx, skip)
        ]
    blobs.save_derived(media.sha256)
    return rows


def finding_row(
    found: Finding | FindingRow,
    case_id: str = "",
    media_id: str = "",
    image: str | None = None,
    at: str | None = None,
) -> FindingRow:
    """A finding as a row to store; intake sets the case and media ids once it knows them."""
    return FindingRow(
        case_id=case_id,
        media_id=media_id,
        code=found.code,
        severity=found.severity,
        message=found.message,
        evidence=dict(found.evidence),
        image=image,
        computed_at=at or history.now(),
    )


def analyze_case(store: Store, case_id: str, user: str) -> AnalyzeResult:
    """Recompute the findings of every media in the case and replace the stored ones."""
    case = store.get_case(case_id)
    findings = {
        media.id: _recomputed(store, case, link, media) for link, media in store.case_media(case_id)
    }
    details = {"findings": {media_id: len(rows) for media_id, rows in findings.items()}}
    store.replace_findings(case_id, findings, (user, "analyze", details))
    return AnalyzeResult(case_id=case_id, findings=findings)


def _recomputed(store: Store, case: Case, link: CaseMedia, media: Media) -> list[FindingRow]:
    """The media's new findings, and the failures of intake steps that analyze does not redo."""
    try:
        rows = finding_rows(store.blobs, case, link, media)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - one hostile file must not stop the case
        rows = [finding_row(analysis_failed("findings", exc), case.id, media.id)]
    redone = {name for name, _ in CHECKS} | {"findings"}
    kept = [
        finding_row(row, case.id, media.id)
        for row in store.findings(case.id, media.id)
        if row.code == ANALYSIS_FAILED and row.evidence.get("check") not in redone
    ]
    return rows + kept


def _context(
    blobs: BlobStore, case: Case, link: CaseMedia, media: Media, path: Path
) -> FindingContext:
    location = None
    if case.claimed_lat is not None and case.claimed_lon is not None:
        location = (case.claimed_lat, case.claimed_lon)
    return FindingContext(
        path=path,
        original_name=link.original_name,
        kind=media.kind,
        mime=media.mime,
        summary=dict(media.summary),
        metadata=dict(media.meta),
        posted_at=_posted_at(case.posted_at),
        claimed_location=location,
        derived_dir=blobs.derived_dir(media.sha256),
    )


def _posted_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
