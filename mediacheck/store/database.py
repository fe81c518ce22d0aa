"""The case database: the only module that opens sessions or builds queries.

SQLite (the default, inside the store) and PostgreSQL are driven through the
same SQLModel code. Every change to a case and the history event that records
it are written in one transaction, with the case row locked, so concurrent
desks can neither lose an event nor fork the chain.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, create_engine, select

from mediacheck.config import Settings
from mediacheck.errors import CaseExists, CaseNotFound, InvalidValue, MediaNotFound, StoreError
from mediacheck.history import chain as history
from mediacheck.review import service as review
from mediacheck.store import revisions as schema
from mediacheck.store.blobs import BlobStore
from mediacheck.store.models import (
    Case,
    CaseMedia,
    Event,
    Finding,
    Fingerprint,
    Keyframe,
    Media,
    Note,
    SeenBefore,
    Verdict,
)

CASE_PREFIX = "MC"
MEDIA_ID_LENGTH = 16
RETRIES = 20
NUL_REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class CaseFields:
    title: str | None = None
    claim: str | None = None
    source_url: str | None = None
    platform: str | None = None
    posted_at: str | None = None
    tags: tuple[str, ...] = ()
    claimed_lat: float | None = None
    claimed_lon: float | None = None


@dataclass(frozen=True)
class CaseChanges:
    """New values for ``case set``; None (or empty) leaves a field as it is."""

    title: str | None = None
    claim: str | None = None
    status: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    claimed_location: tuple[float, float] | None = None
    assignee: str | None = None


@dataclass(frozen=True)
class CaseListing:
    case: Case
    media_count: int


@dataclass(frozen=True)
class CaseRecords:
    """Every row of one case and of its media: what a bundle carries between stores."""

    case: Case
    media: list[Media]
    links: list[CaseMedia]
    events: list[Event]
    notes: list[Note]
    verdicts: list[Verdict]
    keyframes: list[Keyframe]
    findings: list[Finding]
    fingerprints: list[Fingerprint]


class Store:
    """A case store: the evidence folder and the database that describes it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.store
        self.blobs = BlobStore(settings.store)
        self.engine = _make_engine(settings)

    @classmethod
    def open(cls, settings: Settings, check_schema: bool = True) -> Store:
        """The store, its database built if empty; ``check_schema=False`` is for ``db`` commands.

        A missing or empty database beside stored originals is refused, not rebuilt.
        """
        try:
            settings.store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the case store {settings.store}: {exc}") from exc
        store = cls(settings)
        if check_schema:
            with store._database_errors():
                found = _existing_schema(settings.db_url, store.engine)
                if found is None:
                    _refuse_beside_originals(store.blobs)
                if found is None or found.current != found.head:
                    schema.ensure(store.engine)
        return store

    def schema_state(self) -> schema.SchemaState:
        with self._database_errors():
            return schema.state(self.engine)

    def upgrade_schema(self) -> tuple[str | None, str]:
        with self._database_errors():
            return schema.upgrade(self.engine)

    @contextmanager
    def _database_errors(self, verb: str = "open") -> Iterator[None]:
        """A damaged database, an unreachable server or a lost connection: one line.

        A unique-key race (``_retrying`` runs it again) and SQL mediacheck got
        wrong (a bug) keep their exceptions.
        """
        try:
            yield
        except IntegrityError:
            raise
        except (DBAPIError, *UNDECODABLE) as exc:
            error = _database_error(self.settings.db_url, verb, exc)
            if error is None:
                raise
            raise error from exc

    @property
    def safe_url(self) -> str:
        return make_url(self.settings.db_url).render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._database_errors("use"), Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _retrying(self, work):
        """Run ``work(session)`` in a transaction, again if a concurrent writer won a race."""
        for attempt in range(RETRIES):
            try:
                with self.session() as session:
                    return work(session)
            except IntegrityError:
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    # Cases

    def create_case(self, fields: CaseFields, user: str) -> Case:
        return self._retrying(lambda session: _insert_case(session, fields, user))

    def get_case(self, case_id: str) -> Case:
        with self.session() as session:
            case = session.get(Case, case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return case

    def list_cases(self) -> list[CaseListing]:
        with self.session() as session:
            counts = dict(
                session.exec(
                    select(CaseMedia.case_id, func.count()).group_by(CaseMedia.case_id)
                ).all()
            )
            cases = session.exec(select(Case).order_by(Case.year, Case.seq)).all()
        return [CaseListing(case=c, media_count=counts.get(c.id, 0)) for c in cases]

    def update_case(self, case_id: str, changes: CaseChanges, user: str) -> list[Event]:
        """Apply every change that alters the case, one history event each."""
        if changes.status is not None and changes.status not in review.CASE_STATUSES:
            raise InvalidValue(
                f"{changes.status!r} is not a case status: use {', '.join(review.CASE_STATUSES)}"
            )

        def work(session: Session) -> list[Event]:
            case = _lock_case(session, case_id)
            events = []
            for action, values, details in list(_case_updates(case, changes)):
                for name, value in values.items():
                    setattr(case, name, value)
                events.append(append_event(session, case_id, user, action, details))
            return events

        return self._retrying(work)

    # Media

    def media_by_sha256(self, sha256: str) -> Media | None:
        with self.session() as session:
            return session.exec(select(Media).where(Media.sha256 == sha256)).first()

    def get_media(self, media_id: str) -> Media:
        """Media by its id, its full SHA-256 or an unambiguous prefix of either."""
        key = media_id.lower()
        with self.session() as session:
            found = session.exec(
                select(Media).where(Media.sha256.startswith(key[:64])).limit(2)
            ).all()
        if len(found) == 1:
            return found[0]
        detail = ": the prefix is ambiguous" if found else " in this store"
        raise MediaNotFound(media_id, detail)

    def add_media_to_case(
        self,
        case_id: str | None,
        media: Media,
        link: CaseMedia,
        details: dict[str, Any],
        new_case: CaseFields | None = None,
        keyframes: Sequence[Keyframe] = (),
        fingerprints: Sequence[Fingerprint] = (),
        seen_before: Sequence[SeenBefore] = (),
        findings: Sequence[Finding] = (),
    ) -> tuple[str, Media, bool]:
        """Store ``media`` unless its bytes are known, link it to the case, log the event.

        With ``case_id`` None a case is made from ``new_case`` in the same
        transaction; a video's ``keyframes`` and the ``fingerprints`` of its
        pictures are stored with its media row. ``seen_before`` (archive media
        it was found to be a copy of) is recorded with a ``seen-before`` event,
        and the ``findings`` worked out against this case's claims with the link.
        Returns the case id, the stored media and whether the link is new.
        """

        def work(session: Session) -> tuple[str, Media, bool]:
            if case_id is None:
                target = _insert_case(session, new_case or CaseFields(), link.added_by).id
            else:
                target = _lock_case(session, case_id).id
            stored = session.exec(select(Media).where(Media.sha256 == media.sha256)).first()
            if stored is None:
                session.add(media)
                session.flush()
                session.add_all(keyframes)
                session.add_all(fingerprints)
                stored = media
            exists = session.exec(
                select(CaseMedia).where(
                    CaseMedia.case_id == target, CaseMedia.media_id == stored.id
                )
            ).first()
            if exists is not None:
                return target, stored, False
            link.case_id, link.media_id = target, stored.id
            session.add(link)
            for row in findings:
                row.case_id, row.media_id = target, stored.id
            session.add_all(findings)
            append_event(session, target, link.added_by, "media-added", details)
            if seen_before:
                for row in seen_before:
                    row.media_id, row.case_id = stored.id, target
                session.add_all(seen_before)
                seen = _seen_event(stored.id, seen_before)
                append_event(session, target, link.added_by, "seen-before", seen)
            return target, stored, True

        return self._retrying(work)

    def case_media(self, case_id: str) -> list[tuple[CaseMedia, Media]]:
        with self.session() as session:
            rows = session.exec(
                select(CaseMedia, Media)
                .join(Media, CaseMedia.media_id == Media.id)
                .where(CaseMedia.case_id == case_id)
                .order_by(CaseMedia.id)
            ).all()
        return [(link, media) for link, media in rows]

    def keyframes(self, media_id: str) -> list[Keyframe]:
        with self.session() as session:
            return list(
                session.exec(
                    select(Keyframe).where(Keyframe.media_id == media_id).order_by(Keyframe.idx)
                )
            )

    # Fingerprints and matches (recycled media)

    def fingerprint_rows(
        self, kind: str, after_id: int = 0
    ) -> list[tuple[int, str, float | None, bytes]]:
        """(id, media_id, frame_time_s, bits) of every ``kind`` row after ``after_id``.

        One plain query without ORM objects: the match index loads millions of rows.
        """
        query = (
            select(Fingerprint.id, Fingerprint.media_id, Fingerprint.frame_time_s, Fingerprint.bits)
            .where(Fingerprint.kind == kind, Fingerprint.id > after_id)
            .order_by(Fingerprint.id)
        )
        with self.session() as session:
            return [tuple(row) for row in session.execute(query)]

    def fingerprint_count(self, kind: str, up_to_id: int) -> int:
        query = select(func.count()).where(Fingerprint.kind == kind, Fingerprint.id <= up_to_id)
        with self.session() as session:
            return session.execute(query).scalar_one()

    def insert_fingerprints(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk-insert fingerprint rows (re-fingerprinting an archive, benchmarks)."""
        with self.session() as session:
            session.execute(insert(Fingerprint), list(rows))

    def sibling_fingerprints(self, ids: Sequence[int], kind: str) -> dict[int, bytes]:
        """The ``kind`` row of the same picture (media and frame) as each of the rows ``ids``."""
        sibling = aliased(Fingerprint)
        query = (
            select(Fingerprint.id, sibling.bits)
            .join(
                sibling,
                (sibling.media_id == Fingerprint.media_id)
                & sibling.frame_time_s.is_not_distinct_from(Fingerprint.frame_time_s),
            )
            .where(Fingerprint.id.in_(list(ids)), sibling.kind == kind)
        )
        with self.session() as session:
            return {row_id: bytes(bits) for row_id, bits in session.execute(query)}

    def seen_before(self, media_ids: Sequence[str]) -> list[tuple[SeenBefore, Media]]:
        """Matches recorded at intake for ``media_ids``, with the archive media they point to."""
        query = (
            select(SeenBefore, Media)
            .join(Media, SeenBefore.matched_media_id == Media.id)
            .where(SeenBefore.media_id.in_(list(media_ids)))
            .order_by(SeenBefore.id)
        )
        with self.session() as session:
            return [(row, media) for row, media in session.exec(query)]

    def first_cases(self, media_ids: Sequence[str]) -> dict[str, tuple[Media, Case | None]]:
        """Each media item with the case it was first taken into."""
        with self.session() as session:
            media = session.exec(select(Media).where(Media.id.in_(list(media_ids)))).all()
            links = session.exec(
                select(CaseMedia, Case)
                .join(Case, CaseMedia.case_id == Case.id)
                .where(CaseMedia.media_id.in_(list(media_ids)))
                .order_by(CaseMedia.id.desc())
            ).all()
        # Newest link first, so the oldest one is written last and stays.
        first = {link.media_id: case for link, case in links}
        return {m.id: (m, first.get(m.id)) for m in media}

    def all_media(self) -> list[Media]:
        with self.session() as session:
            return list(session.exec(select(Media).order_by(Media.id)))

    # Findings

    def findings(self, case_id: str, media_id: str) -> list[Finding]:
        with self.session() as session:
            query = select(Finding).where(Finding.case_id == case_id, Finding.media_id == media_id)
            return list(session.exec(query.order_by(Finding.id)))

    def replace_findings(
        self,
        case_id: str,
        by_media: dict[str, list[Finding]],
        event: tuple[str, str, dict[str, Any]] | None = None,
    ) -> None:
        """Swap the findings of each media in the case, with an optional (user, action, details)."""

        def work(session: Session) -> None:
            for media_id, rows in by_media.items():
                session.execute(
                    delete(Finding).where(Finding.case_id == case_id, Finding.media_id == media_id)
                )
                session.add_all(rows)
            if event is not None:
                append_event(session, case_id, *event)

        self._retrying(work)

    # Notes and verdicts

    def add_note(self, note: Note) -> Note:
        def work(session: Session) -> Note:
            _lock_case(session, note.case_id)
            if note.corrects is not None:
                corrected = session.get(Note, note.corrects)
                if corrected is None or corrected.case_id != note.case_id:
                    raise InvalidValue(f"no note {note.corrects} in case {note.case_id} to correct")
            session.add(note)
            session.flush()
            append_event(session, note.case_id, note.author, "note-added", review.note_event(note))
            return note

        return self._retrying(work)

    def notes(self, case_id: str) -> list[Note]:
        with self.session() as session:
            return list(session.exec(select(Note).where(Note.case_id == case_id).order_by(Note.id)))

    def verdicts(self, case_id: str | None = None) -> list[Verdict]:
        """A case's verdicts (every case's without ``case_id``), oldest first."""
        query = select(Verdict).order_by(Verdict.id)
        if case_id is not None:
            query = query.where(Verdict.case_id == case_id)
        with self.session() as session:
            return list(session.exec(query))

    def propose_verdict(self, verdict: Verdict) -> Verdict:
        def work(session: Session) -> Verdict:
            case = _lock_case(session, verdict.case_id)
            review.check_can_propose(review.current_verdict(_case_verdicts(session, case.id)))
            session.add(verdict)
            session.flush()
            case.status = review.status_after(_case_verdicts(session, case.id))
            details = review.verdict_event(verdict, case.status)
            append_event(session, case.id, verdict.proposed_by, "verdict-proposed", details)
            return verdict

        return self._retrying(work)

    def decide_verdict(self, case_id: str, user: str, state: str, text: str | None) -> Verdict:
        """Approve or reject the pending proposal; the case lock makes one decision win."""

        def work(session: Session) -> Verdict:
            case = _lock_case(session, case_id)
            verdicts = _case_verdicts(session, case_id)
            current = review.current_verdict(verdicts)
            verdict = review.check_can_decide(current, case_id, user, state)
            verdict.state, verdict.decided_by, verdict.decided_at = state, user, history.now()
            verdict.decision_comment = text
            session.add(verdict)
            case.status = review.status_after(verdicts)
            details = review.verdict_event(verdict, case.status)
            append_event(session, case_id, user, f"verdict-{state}", details)
            return verdict

        return self._retrying(work)

    # History

    def append_event(self, case_id: str, user: str, action: str, details: dict[str, Any]) -> Event:
        return self._retrying(lambda s: append_event(s, case_id, user, action, details))

    def events(self, case_id: str) -> list[Event]:
        with self.session() as session:
            return list(
                session.exec(select(Event).where(Event.case_id == case_id).order_by(Event.seq))
            )

    # Bundles

    def case_records(self, case_id: str) -> CaseRecords:
        case = self.get_case(case_id)
        pairs = self.case_media(case_id)
        ids = [media.id for _, media in pairs]
        with self.session() as session:
            keyframes = session.exec(
                select(Keyframe).where(Keyframe.media_id.in_(ids)).order_by(Keyframe.id)
            ).all()
            findings = session.exec(
                select(Finding).where(Finding.case_id == case_id).order_by(Finding.id)
            ).all()
            fingerprints = session.exec(
                select(Fingerprint).where(Fingerprint.media_id.in_(ids)).order_by(Fingerprint.id)
            ).all()
        return CaseRecords(
            case=case,
            media=[media for _, media in pairs],
            links=[link for link, _ in pairs],
            events=self.events(case_id),
            notes=self.notes(case_id),
            verdicts=self.verdicts(case_id),
            keyframes=list(keyframes),
            findings=list(findings),
            fingerprints=list(fingerprints),
        )

    def import_case(self, records: CaseRecords, user: str, details: dict[str, Any]) -> list[str]:
        """Add a bundle's case in one transaction and end its history with an import event.

        Media whose bytes the store already holds keep their rows as they are (with
        their keyframes and fingerprints). Returns the ids of the media new to the store.
        """

        def work(session: Session) -> list[str]:
            if session.get(Case, records.case.id) is not None:
                raise CaseExists(records.case.id)
            session.add(_fresh(records.case, keep_id=True))
            known = session.exec(
                select(Media.sha256).where(Media.sha256.in_([m.sha256 for m in records.media]))
            ).all()
            new_ids = {m.id for m in records.media if m.sha256 not in set(known)}
            session.add_all(_fresh(m, keep_id=True) for m in records.media if m.id in new_ids)
            session.flush()
            # Findings belong to the case (they weigh its claims); keyframes and
            # fingerprints to the media, which a store already holding it keeps.
            media_rows = (*records.keyframes, *records.fingerprints)
            of_new_media = [r for r in media_rows if r.media_id in new_ids]
            rows = [*records.links, *records.events, *records.verdicts, *of_new_media]
            rows += records.findings
            session.add_all(_fresh(row) for row in rows)
            _import_notes(session, records.notes)
            added = sorted(new_ids)
            details_added = details | {"media_added": added}
            append_event(session, records.case.id, user, "case-imported", details_added)
            return added

        return self._retrying(work)


def _seen_event(media_id: str, rows: Sequence[SeenBefore]) -> dict[str, Any]:
    matches = [
        {
            "media_id": row.matched_media_id,
            "case_id": row.matched_case_id,
            "method": row.method,
            "distance": row.distance,
            "frame_time_s": row.frame_time_s,
        }
        for row in rows
    ]
    return {"media_id": media_id, "matches": matches}


def _fresh(row, keep_id: bool = False):
    """A new, unattached copy of a row; without ``keep_id`` the database numbers it."""
    return type(row).model_validate(row.model_dump(exclude=None if keep_id else {"id"}))


def _import_notes(session: Session, notes: list[Note]) -> None:
    # Notes are renumbered in the new store: a correction must follow its note.
    new_ids: dict[int | None, int | None] = {}
    for note in notes:
        copy = _fresh(note)
        copy.corrects = new_ids.get(note.corrects)
        session.add(copy)
        session.flush()
        new_ids[note.id] = copy.id


def _insert_case(session: Session, fields: CaseFields, user: str) -> Case:
    year = datetime.now(UTC).year
    last = session.exec(select(func.max(Case.seq)).where(Case.year == year)).one()
    seq = (last or 0) + 1
    case = Case(
        id=f"{CASE_PREFIX}-{year}-{seq:04d}",
        year=year,
        seq=seq,
        title=fields.title,
        claim=fields.claim,
        source_url=fields.source_url,
        platform=fields.platform,
        posted_at=fields.posted_at,
        tags=list(dict.fromkeys(fields.tags)),
        claimed_lat=fields.claimed_lat,
        claimed_lon=fields.claimed_lon,
        created_by=user,
        created_at=history.now(),
    )
    session.add(case)
    session.flush()
    details = {k: v for k, v in vars(fields).items() if v not in (None, ())}
    details["tags"] = case.tags
    append_event(session, case.id, user, "case-created", details)
    return case


def new_media_id(sha256: str) -> str:
    return sha256[:MEDIA_ID_LENGTH]


def append_event(
    session: Session, case_id: str, user: str, action: str, details: dict[str, Any]
) -> Event:
    """Chain one event onto a case's history inside the caller's transaction."""
    case = _lock_case(session, case_id)
    content = {
        "case_id": case_id,
        "seq": case.event_count + 1,
        "at": history.now(),
        "user": user,
        "action": action,
        "details": history.canonical_json(details),
        "prev_hash": case.head_hash,
    }
    event = Event(**content, hash=history.event_hash(**content))
    session.add(event)
    case.event_count, case.head_hash = event.seq, event.hash
    session.add(case)
    session.flush()
    return event


def _case_verdicts(session: Session, case_id: str) -> list[Verdict]:
    return list(
        session.exec(select(Verdict).where(Verdict.case_id == case_id).order_by(Verdict.id))
    )


def _case_updates(case: Case, changes: CaseChanges):
    """(action, new column values, event details) for every change that alters ``case``."""
    for name in ("title", "claim", "status", "assignee"):
        old, new = getattr(case, name), getattr(changes, name)
        if new is not None and new != old:
            yield f"{name}-changed", {name: new}, {"from": old, "to": new}
    removed = set(changes.remove_tags)
    tags = [t for t in dict.fromkeys([*case.tags, *changes.add_tags]) if t not in removed]
    if tags != list(case.tags):
        added = [t for t in tags if t not in case.tags]
        dropped = [t for t in case.tags if t not in tags]
        yield "tags-changed", {"tags": tags}, {"added": added, "removed": dropped, "tags": tags}
    old_location = (case.claimed_lat, case.claimed_lon)
    if changes.claimed_location is not None and tuple(changes.claimed_location) != old_location:
        lat, lon = changes.claimed_location
        details = {"from": _location(old_location), "to": _location((lat, lon))}
        yield "location-changed", {"claimed_lat": lat, "claimed_lon": lon}, details


def _location(pair: tuple[float | None, float | None]) -> list[float] | None:
    return None if pair[0] is None else [pair[0], pair[1]]


def _lock_case(session: Session, case_id: str) -> Case:
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).first()
    if case is None:
        raise CaseNotFound(case_id)
    return case


def _make_engine(settings: Settings) -> Engine:
    try:
        url = make_url(settings.db_url)
    except (ArgumentError, ValueError) as exc:
        # The text may hold a password: name the expected shape, not what was given.
        raise StoreError(
            "malformed database URL: expected dialect+driver://user:password@host:port/database, "
            "e.g. postgresql+psycopg://desk@db.example.org/mediacheck"
        ) from exc
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings.db_url)
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # noqa: BLE001 - a missing driver or bad option is a user error
        raise StoreError(
            f"cannot use database {url.render_as_string(hide_password=True)}: {_first_line(exc)}"
        ) from exc


def _sqlite_engine(db_url: str) -> Engine:
    engine = create_engine(db_url, connect_args={"timeout": 60})

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" below decide when transactions start.
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute("PRAGMA busy_timeout=60000")

    @sa_event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Take the write lock up front: two desks never both read then both write.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@sa_event.listens_for(Session, "before_flush")
def _replace_nul(session: Session, _flush_context, _instances) -> None:
    # PostgreSQL text columns reject NUL (JSON columns keep it escaped). Hostile
    # metadata carries it; replace it on every backend so both read back the same.
    for row in (*session.new, *session.dirty):
        for attr in sa_inspect(row).mapper.column_attrs:
            value = getattr(row, attr.key)
            if isinstance(value, str) and "\x00" in value:
                setattr(row, attr.key, value.replace("\x00", NUL_REPLACEMENT))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# SQLite's result codes for a file that is not, or no longer, a whole database
# (SQLITE_CORRUPT, SQLITE_NOTADB), its words for a schema missing parts, and
# PostgreSQL's SQLSTATEs for the same: undefined table or column, corrupted data or index.
SQLITE_DAMAGE_CODES = {11, 26}
SQLITE_DAMAGE_WORDS = ("no such table", "no such column", "malformed database schema")
POSTGRES_DAMAGE_STATES = {"42P01", "42703", "XX001", "XX002"}
# A server that answers but will not serve this desk: no privilege, no such schema, read-only.
POSTGRES_REFUSAL_STATES = {"42501", "3F000", "25006"}
# SQLite hands back whatever bytes a damaged page holds: decoding them fails.
UNDECODABLE = (UnicodeDecodeError, json.JSONDecodeError)
NOT_UTF8 = re.compile(r"Could not decode to UTF-8 column '(\w+)'")


def _database_error(db_url: str, verb: str, exc: Exception) -> StoreError | None:
    """The one line for an error of the database, never its password; None for a bug."""
    url = make_url(db_url)
    line = _first_line(exc)
    if url.password:
        line = line.replace(str(url.password), "***")
    if isinstance(exc, UNDECODABLE):
        return _damaged(url, f"a stored value cannot be decoded: {line}")
    if found := NOT_UTF8.match(line):
        # Not the text itself: it holds whatever bytes the damage left, escapes included.
        return _damaged(url, f"a stored value cannot be decoded: column {found[1]} is not UTF-8")
    if isinstance(exc, DBAPIError) and _is_damage(exc):
        return _damaged(url, line)
    if isinstance(exc, OperationalError | InterfaceError) or _is_refusal(exc):
        shown = url.render_as_string(hide_password=True)
        return StoreError(f"cannot {verb} database {shown}: {line}")
    return None


def _damaged(url: URL, cause: str) -> StoreError:
    # The SQLite file is what the user can restore; a server is named by its URL.
    if url.get_backend_name() == "sqlite" and url.database:
        where = url.database
    else:
        where = url.render_as_string(hide_password=True)
    return StoreError(f"the case database at {where} is damaged: {cause}")


def _is_damage(exc: DBAPIError) -> bool:
    """The database answers, but its file or its tables are not what mediacheck wrote."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in POSTGRES_DAMAGE_STATES
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in SQLITE_DAMAGE_CODES:
        return True
    return str(exc.orig).startswith(SQLITE_DAMAGE_WORDS)


def _is_refusal(exc: Exception) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in POSTGRES_REFUSAL_STATES


def _refuse_beside_originals(blobs: BlobStore) -> None:
    """Never build a new, empty database beside originals: the old one was lost or moved."""
    held = blobs.count_originals()
    if held:
        raise StoreError(f"the store holds {held} originals but its database is empty or missing")


def _existing_schema(db_url: str, engine: Engine) -> schema.SchemaState | None:
    """The database's schema state; None if the database is missing or empty."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        # Checked before connecting: a connection would create the missing file.
        if not path.exists() or path.stat().st_size == 0:
            return None
    found = schema.state(engine)
    return None if found.current is None and found.empty else found
