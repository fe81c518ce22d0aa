"""Time-stamp tokens of a case's subjects: asked for, stored, and checked by ``verify``.

A subject is something whose SHA-256 a token covers: ``history`` (one event of a
case's chain, named ``CASE/SEQ``: the head when it was stamped, which chains to
every event before it) or ``warc`` (a capture's WARC file, named by its SHA-256).
Approving a verdict stamps the history head right after the approval event, and
a link's intake stamps its capture's WARC right after the WARC and its source
row are stored; a TSA that is down or answers badly never undoes either:
``stamp_head`` and ``stamp_warc`` report the failure and ``mediacheck stamp
CASE`` asks again. Nothing is asked without ``MEDIACHECK_TSA_URL``.

A WARC's token belongs to every case with a source kept in that WARC (the same
bytes are stored once), whichever case it was asked for.

A token is checked against the subject's current digest (an event edited since
no longer has the hash the token covers) and, with ``MEDIACHECK_TSA_CA``, its
signature and certificate chain; without a trust anchor it is ``verified: null``.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mediacheck.config import Settings
from mediacheck.errors import TimestampError
from mediacheck.history import chain as history
from mediacheck.store.database import Store
from mediacheck.store.models import Event, TimestampRow

# ``tsa`` (HTTP, ASN.1 and X.509 libraries) is imported where a token is asked for or
# checked: ``show`` of a case without tokens does not pay for it.

HISTORY = "history"
WARC = "warc"
SUBJECT_KINDS = (HISTORY, WARC)
STAMPED, ALREADY_STAMPED, FAILED = "stamped", "already-stamped", "failed"


@dataclass(frozen=True)
class StampOutcome:
    """What asking for one subject's token came to (``status``: stamped, already-stamped,
    failed with ``error``)."""

    subject: str
    digest: str
    tsa_url: str
    status: str
    gen_time: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class TokenCheck:
    """A stored token checked: ``verified`` None when no trust anchor is configured."""

    row: TimestampRow
    verified: bool | None
    problem: str | None = None


def subject_name(subject_kind: str, subject_id: str) -> str:
    """``history:MC-2026-0001/7``, ``warc:<sha256>``: how show and verify name a subject."""
    return f"{subject_kind}:{subject_id}"


def history_subject(case_id: str, seq: int) -> str:
    return f"{case_id}/{seq}"


def stamp(
    store: Store,
    settings: Settings,
    subject_kind: str,
    subject_id: str,
    sha256_hex: str,
    case_id: str | None = None,
) -> TimestampRow | None:
    """The stored token of ``sha256_hex``, asked of the TSA if it has none; None without a TSA.

    The subject's token from the same TSA for the same digest is returned as it is, so
    calling this twice asks once. Raises TimestampError when the TSA gives no valid token
    (nothing is stored then).
    """
    if not settings.tsa_url:
        return None
    if subject_kind not in SUBJECT_KINDS:
        raise TimestampError(f"{subject_kind!r} is not a kind of time-stamped subject")
    sha256_hex = sha256_hex.lower()
    held = _held(store, settings.tsa_url, subject_kind, subject_id, sha256_hex)
    if held is not None:
        return held
    from mediacheck.timestamps import tsa

    anchors = tsa.load_anchors(settings.tsa_ca) if settings.tsa_ca else None
    token = tsa.request_token(settings.tsa_url, sha256_hex, anchors)
    row = TimestampRow(
        subject_kind=subject_kind,
        subject_id=subject_id,
        case_id=case_id,
        digest=sha256_hex,
        tsa_url=settings.tsa_url,
        gen_time=token.gen_time,
        token=token.der,
        requested_by=settings.user,
        requested_at=history.now(),
    )
    return store.add_timestamp(row)


def stamp_head(store: Store, settings: Settings, case_id: str) -> StampOutcome | None:
    """Stamp the case's history head (after an approval); a TSA failure is reported, not raised.

    None without a TSA. The head is read after the approval's transaction: if another
    desk added an event meanwhile, that later head is stamped, and it chains to the approval.
    """
    if not settings.tsa_url:
        return None
    case = store.get_case(case_id)
    subject = history_subject(case.id, case.event_count)
    return _stamp_subject(store, settings, (HISTORY, subject, case.head_hash), case.id)


def stamp_warc(
    store: Store, settings: Settings, warc_sha256: str, case_id: str
) -> StampOutcome | None:
    """Stamp a capture's WARC (after its source row is stored); a TSA failure is reported.

    None without a TSA. A WARC that already has a token from the same TSA (the same
    capture in another case) is ``already-stamped``.
    """
    if not settings.tsa_url:
        return None
    digest = warc_sha256.lower()
    return _stamp_subject(store, settings, (WARC, digest, digest), case_id)


def stamp_case(store: Store, settings: Settings, case_id: str) -> list[StampOutcome]:
    """``mediacheck stamp CASE``: a token for each of the case's subjects that lacks one."""
    if not settings.tsa_url:
        raise TimestampError("no time-stamping authority: set MEDIACHECK_TSA_URL")
    return [
        _stamp_subject(store, settings, subject, case_id)
        for subject in case_subjects(store, case_id)
    ]


def case_subjects(store: Store, case_id: str) -> list[tuple[str, str, str]]:
    """(kind, id, SHA-256) of what ``stamp CASE`` covers: the history head now, then
    the WARC of each of the case's captures."""
    case = store.get_case(case_id)
    head = (HISTORY, history_subject(case.id, case.event_count), case.head_hash)
    return [head, *((WARC, sha256, sha256) for sha256 in case_warcs(store, case.id))]


def case_warcs(store: Store, case_id: str) -> list[str]:
    """The SHA-256 of each WARC the case's sources are kept in, oldest first."""
    return list(dict.fromkeys(source.warc_sha256 for source, _ in store.sources(case_id)))


def case_tokens(store: Store, case_id: str) -> list[TimestampRow]:
    """Every token of the case's subjects (its WARCs' whichever case asked), oldest first."""
    return store.case_timestamps(case_id)


def check_case(store: Store, case_id: str, events: list[Event]) -> list[TokenCheck]:
    """Each token of the case checked against its subject now and the desk's trust anchor."""
    rows = case_tokens(store, case_id)
    if not rows:
        return []
    from mediacheck.timestamps import tsa

    tsa_ca = store.settings.tsa_ca
    anchors = tsa.load_anchors(tsa_ca) if tsa_ca else None
    hashes = {event.seq: event.hash for event in events}
    warcs = set(case_warcs(store, case_id))
    return [check_token(row, current_digest(row, case_id, hashes, warcs), anchors) for row in rows]


def current_digest(
    row: TimestampRow, case_id: str, hashes: Mapping[int, str], warcs: Collection[str] = ()
) -> str | None:
    """What the token's subject hashes to now; None when the case has no such subject.

    ``warcs`` are the SHA-256 of the case's WARCs. A WARC is named by its SHA-256:
    re-hashing its bytes is the WARC check's work.
    """
    if row.subject_kind == HISTORY:
        owner, _, seq = row.subject_id.rpartition("/")
        return hashes.get(int(seq)) if owner == case_id and seq.isdigit() else None
    if row.subject_kind == WARC:
        return row.subject_id if row.subject_id in warcs else None
    return None


def check_token(row: TimestampRow, current: str | None, anchors: list | None) -> TokenCheck:
    """One token: it covers its subject's current digest, and (with anchors) it verifies."""
    if current is None:
        return TokenCheck(row, False, "its subject is not part of the case")
    if row.digest != current:
        return TokenCheck(row, False, f"covers {row.digest}, but the subject hashes to {current}")
    from mediacheck.timestamps import tsa

    try:
        token = tsa.read_token(row.token)
        if token.digest != row.digest:
            return TokenCheck(row, False, "the token covers another digest than its row says")
        if token.gen_time != row.gen_time:
            return TokenCheck(row, False, "the token's time differs from its row's (edited)")
        if anchors is None:
            return TokenCheck(row, None)
        tsa.verify_token(row.token, row.digest, anchors)
    except TimestampError as exc:
        return TokenCheck(row, False, str(exc))
    return TokenCheck(row, True)


def check_document(check: TokenCheck) -> dict[str, Any]:
    """One token in ``show --json`` (``timestamps``); ``token`` is its DER in base64."""
    row = check.row
    return {
        "subject": subject_name(row.subject_kind, row.subject_id),
        "digest": row.digest,
        "tsa_url": row.tsa_url,
        "gen_time": row.gen_time,
        "verified": check.verified,
        "problem": check.problem,
        "requested_by": row.requested_by,
        "token": base64.b64encode(row.token).decode("ascii"),
    }


def _stamp_subject(
    store: Store, settings: Settings, subject: tuple[str, str, str], case_id: str
) -> StampOutcome:
    kind, subject_id, digest = subject
    name = subject_name(kind, subject_id)
    held = _held(store, settings.tsa_url, kind, subject_id, digest)
    if held is not None:
        return StampOutcome(name, digest, settings.tsa_url, ALREADY_STAMPED, held.gen_time)
    try:
        row = stamp(store, settings, kind, subject_id, digest, case_id)
    except TimestampError as exc:
        return StampOutcome(name, digest, settings.tsa_url, FAILED, error=str(exc))
    assert row is not None  # a TSA is configured
    return StampOutcome(name, digest, settings.tsa_url, STAMPED, row.gen_time)


def _held(
    store: Store, tsa_url: str, subject_kind: str, subject_id: str, digest: str
) -> TimestampRow | None:
    rows = store.subject_timestamps(subject_kind, [subject_id])
    return next((r for r in rows if r.digest == digest and r.tsa_url == tsa_url), None)
