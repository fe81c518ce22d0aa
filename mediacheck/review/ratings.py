"""The MediaReview ratings and which verdict of a case stands.

Kept apart from the rest of the review rules so that the archive search can
name a case's rating without depending on the store's tables.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
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
