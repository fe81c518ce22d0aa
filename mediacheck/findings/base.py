"""What every check returns and what it is given."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

INFO = "info"
NOTICE = "notice"
WARNING = "warning"
SEVERITIES = (INFO, NOTICE, WARNING)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    image: str | None = None  # file name inside FindingContext.derived_dir


@dataclass
class FindingContext:
    path: Path  # the stored original: read, never written
    original_name: str  # the user's file name: hostile, never used in a path
    kind: str  # image, video, audio or other
    mime: str
    summary: dict[str, Any]
    metadata: dict[str, Any]
    posted_at: datetime | None
    claimed_location: tuple[float, float] | None
    derived_dir: Path  # where pictures made for the report are written
    # The picture decoded once for every pixel check: findings.pixels.decoded_picture(ctx).
    decoded: Any = field(default=None, repr=False, compare=False)


# What people call the checks and intake steps that can fail ("ela" is jargon).
CHECK_NAMES = {
    "ela": "error level analysis",
    "double-jpeg": "double JPEG compression",
    "jpeg-quality": "JPEG quality",
    "gps": "GPS position",
    "c2pa": "Content Credentials (C2PA)",
    "extension": "file name extension",
    "capture-time": "capture time",
    "video-reencoded": "video re-encoding",
    "metadata-stripped": "missing metadata",
    "editing-software": "editing software",
    "dimension-mismatch": "picture size",
    "copy-move": "copied area (copy-move)",
    "sniff": "file type",
    "decode": "picture decoding",
    "findings": "forensic",
}


def analysis_failed(check: str, exc: BaseException) -> Finding:
    detail = str(exc).strip().splitlines()
    error = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    return Finding(
        code="analysis-failed",
        severity=NOTICE,
        message=(
            f"The {CHECK_NAMES.get(check, check)} check could not be completed on this file. "
            "This says nothing about whether the media is authentic; "
            "the other checks still ran."
        ),
        evidence={"check": check, "error": error[:500]},
    )


def string_tags(metadata: Any, keys: Collection[str], path: str = "") -> Iterator[tuple[str, str]]:
    """Every string tag named in ``keys`` (lower case) in nested metadata, keyed by where it is."""
    if isinstance(metadata, dict):
        for key, value in metadata.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and str(key).lower() in keys:
                yield where, value
            else:
                yield from string_tags(value, keys, where)
    elif isinstance(metadata, list):
        for index, value in enumerate(metadata):
            yield from string_tags(value, keys, f"{path}[{index}]")
