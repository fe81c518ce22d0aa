"""The MediaReview ratings, which verdict of a media item stands, and a case's summary.

Kept apart from the rest of the review rules so that the archive search can
name a case's rating without depending on the store's tables.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from mediacheck.errors import InvalidValue

# https://schema.org/MediaManipulationRatingEnumeration, in schema.org's order.
RATINGS = (
    "OriginalMediaContent",
    "DecontextualizedContent",
    "EditedOrCroppedContent",
    "TransformedContent",
    "StagedContent",
    "SatireOrParodyContent",
)
UNVERIFIED = "Unverified"
CONFIDENCES = ("low", "medium", "high")
PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"


class Rated(Protocol):
    """What these rules read of a verdict."""

    @property
    def rating(self) -> str: ...

    @property
    def state(self) -> str: ...


V = TypeVar("V", bound=Rated)


def normalize_rating(text: str, allow_unverified: bool = False) -> str:
    """The MediaReview rating named by ``text``, whatever its case.

    ``allow_unverified`` also accepts Unverified, the rating of a case without an
    approved verdict, which is never proposed.
    """
    names = (*RATINGS, UNVERIFIED) if allow_unverified else RATINGS
    by_lower = {r.lower(): r for r in names}
    key = text.strip().lower()
    if key in by_lower:
        return by_lower[key]
    close = difflib.get_close_matches(key, list(by_lower), n=1, cutoff=0.6)
    hint = f"did you mean {by_lower[close[0]]}? " if close else ""
    raise InvalidValue(f"{text!r} is not a MediaReview rating: {hint}use one of {', '.join(names)}")


def current_verdict(verdicts: Sequence[V]) -> V | None:
    """The newest verdict, whatever its state (``verdicts`` oldest first)."""
    return verdicts[-1] if verdicts else None


def final_verdict(verdicts: Sequence[V]) -> V | None:
    return next((v for v in reversed(verdicts) if v.state == APPROVED), None)


def final_rating(verdicts: Sequence[Rated]) -> str:
    final = final_verdict(verdicts)
    return final.rating if final else UNVERIFIED


MIXED = "Mixed"


def case_rating(item_ratings: Iterable[str]) -> str:
    """A case's rating from the final ratings of its items.

    Unverified until every item has an approved verdict (and for a case without
    media); the rating when all items share it; otherwise ``Mixed:`` and the
    ratings found, in schema.org's order, e.g.
    ``Mixed: OriginalMediaContent, TransformedContent``.
    """
    found = set(item_ratings)
    if not found or UNVERIFIED in found:
        return UNVERIFIED
    # A rating schema.org does not name (an edited row, which verify reports) comes last.
    ordered = [rating for rating in RATINGS if rating in found] + sorted(found - set(RATINGS))
    return ordered[0] if len(ordered) == 1 else f"{MIXED}: {', '.join(ordered)}"
