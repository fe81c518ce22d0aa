"""What an editor reads first: a case in a few lines, worked out from its document.

How many items, how many of them the archive held before and in which cases
(with the verdict that stands there), the case's own verdict and whether the
case passed its integrity check. A case that failed it has no verdict to
trust: the summary says Unverifiable, whatever rating was recorded.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from mediacheck.review.ratings import UNVERIFIED

UNVERIFIABLE = "Unverifiable"


@dataclass(frozen=True)
class EarlierCase:
    """A case of the archive that already held some of this case's items."""

    case_id: str
    title: str | None
    verdict: str  # the approved rating there, or Unverified
    items: int  # how many of this case's items it held


@dataclass(frozen=True)
class Summary:
    items: int
    pictures: int
    videos: int
    seen_before: int  # items the archive held before, in another case
    earlier_cases: list[EarlierCase] = field(default_factory=list)
    verdict: str = UNVERIFIED  # the case's final verdict, or Unverifiable
    integrity_ok: bool = True
    problems: list[str] = field(default_factory=list)  # what the check found, as messages

    @property
    def verdict_label(self) -> str:
        return verdict_label(self.verdict)

    @property
    def kinds(self) -> str:
        """ "2 pictures, 1 video": the kinds the case holds, none of them zero."""
        others = self.items - self.pictures - self.videos
        counts = ((self.pictures, "picture"), (self.videos, "video"), (others, "other file"))
        return ", ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in counts if n)


def verdict_label(rating: str) -> str:
    """A rating as the summary states it: an approved rating says so."""
    return rating if rating in (UNVERIFIED, UNVERIFIABLE) else f"{rating}, approved"


def earlier_matches(doc: dict[str, Any], media: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``seen_before`` entries of one media item that point into another case."""
    return [s for s in media.get("seen_before") or [] if s.get("case_id") != doc.get("case_id")]


def cited_verdict(match: dict[str, Any], untrusted: Collection[str] = ()) -> str:
    """The verdict a ``seen_before`` entry cites: Unverifiable if its case was altered."""
    if match.get("case_id") in untrusted:
        return UNVERIFIABLE
    return str(match.get("verdict") or UNVERIFIED)


def summarise(doc: dict[str, Any], untrusted: Collection[str] = ()) -> Summary:
    """The summary of a case document (``show --json``); ``untrusted``: earlier cases
    whose history or rows were altered, whose verdicts are not to be cited."""
    media = doc.get("media") or []
    integrity = doc.get("integrity") or {"ok": True, "problems": []}
    cases: dict[str, dict[str, Any]] = {}
    items: dict[str, set[str]] = {}
    seen = 0
    for item in media:
        matches = earlier_matches(doc, item)
        seen += bool(matches)
        for match in matches:
            case_id = str(match.get("case_id"))
            cases.setdefault(case_id, match)
            items.setdefault(case_id, set()).add(str(item.get("media_id")))
    earlier = [
        EarlierCase(
            case_id,
            match.get("case_title"),
            cited_verdict(match, untrusted),
            len(items[case_id]),
        )
        for case_id, match in sorted(cases.items())
    ]
    ok = bool(integrity.get("ok"))
    return Summary(
        items=len(media),
        pictures=sum(1 for m in media if m.get("kind") == "image"),
        videos=sum(1 for m in media if m.get("kind") == "video"),
        seen_before=seen,
        earlier_cases=earlier,
        verdict=str(doc.get("final_verdict") or UNVERIFIED) if ok else UNVERIFIABLE,
        integrity_ok=ok,
        problems=[str(p.get("message")) for p in integrity.get("problems") or []],
    )
