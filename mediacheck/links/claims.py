"""The case's claims against what the post at the link says: gaps to fill, disagreements to flag.

Pure: the case's values and the post's in, case changes and findings out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mediacheck.findings.base import NOTICE, WARNING, Finding

# Two times this close are the same posting time (platforms round, desks type minutes).
SAME_TIME_S = 60


@dataclass(frozen=True)
class Claims:
    source_url: str | None = None
    platform: str | None = None
    posted_at: str | None = None


def post_claims(url: str, platform: str | None, posted_at: str | None) -> Claims:
    return Claims(source_url=url, platform=platform, posted_at=normal_time(posted_at))


def gaps(case: Claims, post: Claims) -> Claims:
    """The post's values for the fields the case leaves empty (a posting time, not a date)."""
    time = isinstance(_parse(post.posted_at), datetime)
    return Claims(
        source_url=post.source_url if not case.source_url else None,
        platform=post.platform if not case.platform else None,
        posted_at=post.posted_at if not case.posted_at and time else None,
    )


def disagreements(case: Claims, post: Claims, post_urls: tuple[str, ...]) -> list[Finding]:
    """A finding for each field the case gives and the post contradicts."""
    found = []
    if case.source_url and post_urls and _url(case.source_url) not in map(_url, post_urls):
        found.append(_differs("source_url", "source URL", case.source_url, post.source_url, NOTICE))
    if case.platform and post.platform and case.platform.lower() != post.platform.lower():
        found.append(_differs("platform", "platform", case.platform, post.platform, NOTICE))
    if case.posted_at and post.posted_at and not _same_time(case.posted_at, post.posted_at):
        found.append(_differs("posted_at", "posting time", case.posted_at, post.posted_at, WARNING))
    return found


def _differs(field: str, name: str, claimed: str, found: str | None, severity: str) -> Finding:
    return Finding(
        code="source-disagrees",
        severity=severity,
        message=(
            f"The case gives the {name} as {claimed}; the post at the link says {found}. "
            "Either the case was filled in from another copy of the post, or the post is "
            "not the one the case is about: check which is right."
        ),
        evidence={"field": field, "case": claimed, "post": found},
    )


def normal_time(text: str | None) -> str | None:
    """An ISO 8601 time in UTC, or a bare date as it is; None for anything else."""
    parsed = _parse(text)
    if parsed is None:
        return None
    if isinstance(parsed, str):
        return parsed
    return parsed.isoformat(timespec="seconds")


def _parse(text: str | None) -> datetime | str | None:
    if not text:
        return None
    value = text.strip()
    if len(value) == 10:
        try:
            return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _same_time(a: str, b: str) -> bool:
    first, second = _parse(a), _parse(b)
    if isinstance(first, datetime) and isinstance(second, datetime):
        return abs((first - second).total_seconds()) <= SAME_TIME_S
    if first is None or second is None:
        return True  # not a time: nothing to compare
    return str(first)[:10] == str(second)[:10]  # a date against a date or a time


def _url(url: str) -> str:
    return url.strip().rstrip("/").lower()
