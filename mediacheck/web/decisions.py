"""Approving and rejecting a verdict named by its id, on proven identities.

The review service decides the pending proposal of a case's item; here the verdict
the request names is found first, so that a verdict of another case, one already
decided, the proposer's own and a role that may not review are each refused with
their own answer (404, 409, 403, 403) before the service is called.
"""

from __future__ import annotations

from mediacheck.errors import NotPermitted, ReviewError, VerdictNotFound
from mediacheck.review import service as review
from mediacheck.review.ratings import PROPOSED
from mediacheck.store.database import Store
from mediacheck.store.models import Verdict
from mediacheck.web.auth import Identity, require


def pending(store: Store, verdict_id: int, case_id: str | None = None) -> Verdict:
    """The proposed verdict ``verdict_id`` (of ``case_id``, when the route names one)."""
    verdict = store.verdict_by_id(verdict_id)
    if verdict is None or (case_id is not None and verdict.case_id != case_id):
        where = f" in case {case_id}" if case_id else ""
        raise VerdictNotFound(f"no verdict {verdict_id}{where}")
    if verdict.state != PROPOSED or verdict.media_id is None:
        raise ReviewError(f"verdict {verdict_id} is {verdict.state}: nothing awaits review")
    return verdict


def decide(
    store: Store,
    user: Identity,
    verdict_id: int,
    approve: bool,
    text: str | None,
    case_id: str | None = None,
) -> Verdict:
    """Approve (``text`` a comment) or reject (``text`` the reason) verdict ``verdict_id``."""
    verdict = pending(store, verdict_id, case_id)
    require(user, "approve" if approve else "reject")
    if verdict.proposed_by == user.name:
        raise NotPermitted(
            f"{user.name} proposed verdict {verdict_id} and cannot "
            f"{'approve' if approve else 'reject'} it: another reviewer must (four eyes)"
        )
    if approve:
        # As on the CLI, an approval time-stamps the history head when a TSA is set; a TSA
        # that fails leaves the approval standing (`mediacheck stamp CASE` asks again).
        approval = review.approve_and_stamp(
            store, verdict.case_id, user.name, text or None, verdict.media_id
        )
        return approval.verdict
    return review.reject(store, verdict.case_id, user.name, text or "", verdict.media_id)
