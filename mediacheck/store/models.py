"""The database tables.

Times are stored as ISO 8601 text in UTC so that they survive every backend
unchanged: the history chain hashes them, and a re-read must hash the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Any table row, for code outside the store that handles rows of several tables.
TableRow = SQLModel

# The values of Case.status.
CASE_STATUSES = ("open", "in-review", "closed")


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    # DESK-YEAR-SEQ (MC-2026-0001): numbered within the desk's prefix, so only the id is
    # unique; two desks' cases of one year share sequence numbers.
    id: str = Field(primary_key=True, max_length=32)
    year: int
    seq: int
    title: str | None = None
    claim: str | None = Field(default=None, sa_column=Column(Text))
    source_url: str | None = Field(default=None, sa_column=Column(Text))
    platform: str | None = None
    posted_at: str | None = None
    created_by: str
    created_at: str
    status: str = "open"
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    assignee: str | None = None
    claimed_lat: float | None = None
    claimed_lon: float | None = None
    # The newest event of the history chain: deleting the last event shows here.
    event_count: int = 0
    head_hash: str = Field(default="0" * 64, max_length=64)


class Media(SQLModel, table=True):
    __tablename__ = "media"

    id: str = Field(primary_key=True, max_length=32)  # media_id: the start of the SHA-256
    sha256: str = Field(unique=True, max_length=64)
    sha1: str = Field(max_length=40)
    md5: str = Field(max_length=32)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str
    mime: str
    width: int | None = None
    height: int | None = None
    hashes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pdq_quality: int | None = None
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    meta: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSON, nullable=False)
    )
    video: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    errors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    blob_path: str = Field(sa_column=Column(Text, nullable=False))
    first_name: str = Field(sa_column=Column(Text, nullable=False))
    created_at: str


class CaseMedia(SQLModel, table=True):
    """A membership: one intake of one file into one case, the chain of custody's first link."""

    __tablename__ = "case_media"
    __table_args__ = (UniqueConstraint("case_id", "media_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32)
    media_id: str = Field(foreign_key="media.id", index=True, max_length=32)
    original_name: str = Field(sa_column=Column(Text, nullable=False))
    original_path: str = Field(sa_column=Column(Text, nullable=False))
    file_mtime: str | None = None
    was_symlink: bool = False
    added_by: str
    added_at: str


class Event(SQLModel, table=True):
    """An append-only, hash-chained history entry of a case."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32)
    seq: int
    at: str
    user: str
    action: str
    # Canonical JSON text, hashed as stored: a JSON column could reorder keys.
    details: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class KeyframeRow(SQLModel, table=True):
    __tablename__ = "keyframes"

    id: int | None = Field(default=None, primary_key=True)
    media_id: str = Field(foreign_key="media.id", index=True, max_length=32)
    idx: int
    time_s: float
    path: str = Field(sa_column=Column(Text, nullable=False))  # relative to the store
    hashes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pdq_quality: int | None = None


class FindingRow(SQLModel, table=True):
    """A forensic signal about media in one case: some depend on the case's claims."""

    __tablename__ = "findings"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32)
    media_id: str = Field(foreign_key="media.id", index=True, max_length=32)
    code: str
    severity: str
    message: str = Field(sa_column=Column(Text, nullable=False))
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    image: str | None = Field(default=None, sa_column=Column(Text))  # relative to the store
    computed_at: str


class Note(SQLModel, table=True):
    """A reverse-search finding or a plain note; never edited, corrected by a new one."""

    __tablename__ = "notes"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32)
    media_id: str | None = Field(default=None, foreign_key="media.id", max_length=32)
    engine: str | None = None
    url: str | None = Field(default=None, sa_column=Column(Text))
    earliest_date: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str
    at: str
    corrects: int | None = Field(default=None, foreign_key="notes.id")


class Verdict(SQLModel, table=True):
    """A MediaReview rating of one media item in one case, under four-eyes review.

    ``media_id`` is None only for a verdict of the time when a verdict rated a
    whole case, proposed before the case held any media (migration 0002).
    """

    __tablename__ = "verdicts"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32)
    media_id: str | None = Field(default=None, foreign_key="media.id", index=True, max_length=32)
    rating: str
    state: str  # proposed, approved, rejected
    rationale: str = Field(sa_column=Column(Text, nullable=False))
    original_url: str | None = Field(default=None, sa_column=Column(Text))
    original_context: str | None = Field(default=None, sa_column=Column(Text))
    confidence: str | None = None
    proposed_by: str
    proposed_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    decision_comment: str | None = Field(default=None, sa_column=Column(Text))


class SeenBefore(SQLModel, table=True):
    """A match found at intake between new media and media already in the archive."""

    __tablename__ = "seen_before"

    id: int | None = Field(default=None, primary_key=True)
    media_id: str = Field(foreign_key="media.id", index=True, max_length=32)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32)
    matched_media_id: str = Field(foreign_key="media.id", max_length=32)
    matched_case_id: str | None = Field(default=None, max_length=32)
    method: str
    distance: float | None = None
    score: float | None = None
    frame_time_s: float | None = None
    at: str
    # The stretch of the matched video that the new video shows (migration 0007).
    stored_start_s: float | None = None
    stored_end_s: float | None = None
    query_start_s: float | None = None
    query_end_s: float | None = None


class FingerprintRow(SQLModel, table=True):
    """One compact hash of a picture (or a video keyframe), for the match index."""

    __tablename__ = "fingerprints"
    # A picture's row of one kind (the keypoints of a short-listed keyframe) is found in
    # one look-up, not by reading every row of its video (migration 0008).
    __table_args__ = (Index("ix_fingerprints_picture", "media_id", "kind", "frame_time_s"),)

    id: int | None = Field(default=None, primary_key=True)
    media_id: str = Field(foreign_key="media.id", index=True, max_length=32)
    frame_time_s: float | None = None
    kind: str = Field(index=True)
    bits: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# Accounts (migration 0006): who may act on the web desk and, with MEDIACHECK_IDENTITY=database,
# on the CLI. Passwords and tokens are kept only as hashes.


class AccountRow(SQLModel, table=True):
    """A desk member: a name, a role, an argon2id password hash, the login throttle."""

    __tablename__ = "accounts"

    name: str = Field(primary_key=True, max_length=32)
    role: str = Field(max_length=16)
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    disabled: bool = False
    created_at: str
    # Bumped when the account is disabled or its password changes: older sessions end.
    session_version: int = 1
    failed_logins: int = 0  # in a row, since the last success
    locked_until: str | None = None


class ApiToken(SQLModel, table=True):
    """A script's bearer token: the SHA-256 of its secret, never the secret."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(foreign_key="accounts.name", index=True, max_length=32)
    label: str = Field(sa_column=Column(Text, nullable=False))
    secret_hash: str = Field(unique=True, max_length=64)
    created_at: str
    revoked: bool = False
    last_used_at: str | None = None


class VerdictDecision(SQLModel, table=True):
    """The approval or rejection of a proposed verdict, in a row of its own (migration 0006).

    A decision is added, never written over its verdict: verdict rows are only ever
    inserted, so a PostgreSQL desk can deny every client UPDATE on them (``db grant``).
    The store reads a verdict with its decision laid over it; verdicts decided before
    0006 (and imported ones) carry their decision in their own row.
    """

    __tablename__ = "verdict_decisions"

    id: int | None = Field(default=None, primary_key=True)
    verdict_id: int = Field(foreign_key="verdicts.id", unique=True)
    state: str  # approved, rejected
    decided_by: str
    decided_at: str
    comment: str | None = Field(default=None, sa_column=Column(Text))


# Trusted time (migration 0005)


class TimestampRow(SQLModel, table=True):
    """An RFC 3161 time-stamp token: a time-stamping authority's signed word that a
    digest existed at ``gen_time``.

    ``subject_kind`` and ``subject_id`` name what the digest is of: ``history`` and
    ``CASE/SEQ`` (the hash of that event of the case's chain, the head when it was
    stamped), or ``warc`` and the WARC file's SHA-256. ``case_id`` is the case the
    subject belongs to (a capture's WARC may have none).
    """

    __tablename__ = "timestamps"

    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=16)
    subject_id: str = Field(sa_column=Column(Text, nullable=False, index=True))
    case_id: str | None = Field(default=None, index=True, max_length=32)
    digest: str = Field(max_length=64)  # the SHA-256 the token covers, in hex
    tsa_url: str = Field(sa_column=Column(Text, nullable=False))
    gen_time: str  # the TSA's genTime, ISO 8601 UTC
    token: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # TimeStampToken, DER
    requested_by: str
    requested_at: str


# Sources: posts and pages taken in from a link (migration 0004).


class Source(SQLModel, table=True):
    """One capture of a link: what was fetched, when, what the post said, and its WARC."""

    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32)
    url: str = Field(sa_column=Column(Text, nullable=False))  # as given
    final_url: str = Field(sa_column=Column(Text, nullable=False))  # after redirects
    fetched_at: str
    fetched_by: str
    status: int
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    extractor: str | None = None
    uploader: str | None = Field(default=None, sa_column=Column(Text))
    uploader_id: str | None = Field(default=None, sa_column=Column(Text))
    title: str | None = Field(default=None, sa_column=Column(Text))
    description: str | None = Field(default=None, sa_column=Column(Text))
    posted_at: str | None = None
    view_count: int | None = Field(default=None, sa_column=Column(BigInteger))
    like_count: int | None = Field(default=None, sa_column=Column(BigInteger))
    comment_count: int | None = Field(default=None, sa_column=Column(BigInteger))
    webpage_url: str | None = Field(default=None, sa_column=Column(Text))
    thumbnails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    warc_sha256: str = Field(index=True, max_length=64)
    warc_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    warc_path: str = Field(sa_column=Column(Text, nullable=False))  # its key in the blob store


class SourceMedia(SQLModel, table=True):
    """A media item taken in from a source."""

    __tablename__ = "source_media"
    __table_args__ = (UniqueConstraint("source_id", "media_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    media_id: str = Field(foreign_key="media.id", index=True, max_length=32)
