"""Forensic findings: small signals a verifier weighs, each explained in plain words.

mediacheck never turns findings into a verdict: people decide. Every check is
independent; one that fails becomes an ``analysis-failed`` finding and the
others still run, so a hostile file can never block intake.
"""

from __future__ import annotations

from collections.abc import Callable

from mediacheck.findings import (
    c2pa_signals,
    copy_move,
    ela,
    filename,
    jpeg,
    location,
    metadata_signals,
    thumbnail,
    timestamps,
    video_signals,
)
from mediacheck.findings.base import (
    INFO,
    NOTICE,
    SEVERITIES,
    WARNING,
    Finding,
    FindingContext,
    analysis_failed,
)

__all__ = [
    "INFO",
    "NOTICE",
    "SEVERITIES",
    "WARNING",
    "Finding",
    "FindingContext",
    "compute_findings",
    "PIXEL_CHECKS",
]

Check = Callable[[FindingContext], list[Finding]]

CHECKS: list[tuple[str, Check]] = [
    ("metadata-stripped", metadata_signals.check_stripped),
    ("editing-software", metadata_signals.check_editing_software),
    ("dimension-mismatch", metadata_signals.check_dimensions),
    ("capture-time", timestamps.check_capture_time),
    ("thumbnail", thumbnail.check_thumbnail),
    ("jpeg-quality", jpeg.check_quality),
    ("double-jpeg", jpeg.check_double_compression),
    ("ela", ela.check_ela),
    ("copy-move", copy_move.check_copy_move),
    ("gps", location.check_location),
    ("extension", filename.check_extension),
    ("c2pa", c2pa_signals.check_c2pa),
    ("video-reencoded", video_signals.check_reencoded),
]


# The checks that decode every pixel: seconds for a large photo, so a quick
# intake can leave them to ``mediacheck analyze``.
PIXEL_CHECKS = ("double-jpeg", "ela", "copy-move")


def compute_findings(ctx: FindingContext, skip: tuple[str, ...] = ()) -> list[Finding]:
    """Run every check that applies to the media, but those named in ``skip``; never raises."""
    findings: list[Finding] = []
    try:
        for name, check in CHECKS:
            if name in skip:
                continue
            try:
                findings.extend(check(ctx))
            except Exception as exc:  # any failure is recorded, never fatal
                findings.append(analysis_failed(name, exc))
    finally:
        ctx.decoded = None  # the pixels the checks shared: tens of MB per photo
    return findings
