"""The case database: the only module that opens sessions or builds queries.

SQLite (the default, inside the store) and PostgreSQL are driven through the
same SQLModel code. Every change to a case and the history event that records
it are written in one transaction, with the case row locked, so concurrent
desks can neither lose an event nor fork the chain.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, create_engine, select

from mediacheck import history
from mediacheck.blobstore import BlobStore
from mediacheck.config import Settings
from mediacheck.errors import CaseNotFound, MediaNotFound, StoreError
from mediacheck.models import Case, CaseMedia, Event, Media

CASE_PREFIX = "MC"
MEDIA_ID_LENGTH = 16
RETRIES = 20


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
class CaseListing:
    case: Case
    media_count: int


class Store:
    """A case store: the evidence folder and the database that describes it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.store
        self.blobs = BlobStore(settings.store)
        self.engine = _make_engine(settings)

    @classmethod
    def open(cls, settings: Settings) -> Store:
        try:
            settings.store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the case store {settings.store}: {exc}") from exc
        store = cls(settings)
        store._ensure_schema()
        return store

    def _ensure_schema(self) -> None:
        try:
            SQLModel.metadata.create_all(self.engine)
        except OperationalError as exc:
            raise StoreError(f"cannot open database {self.safe_url}: {_first_line(exc)}") from exc

    @property
    def safe_url(self) -> str:
        return make_url(self.settings.db_url).render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
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
        def work(session: Session) -> Case:
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

        return self._retrying(work)

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
        self, case_id: str, media: Media, link: CaseMedia, details: dict[str, Any]
    ) -> tuple[Media, bool]:
        """Store ``media`` unless its bytes are known, link it to the case, log the event.

        Returns the stored media and whether the link is new.
        """

        def work(session: Session) -> tuple[Media, bool]:
            _lock_case(session, case_id)
            stored = session.exec(select(Media).where(Media.sha256 == media.sha256)).first()
            if stored is None:
                session.add(media)
                session.flush()
                stored = media
            exists = session.exec(
                select(CaseMedia).where(
                    CaseMedia.case_id == case_id, CaseMedia.media_id == stored.id
                )
            ).first()
            if exists is not None:
                return stored, False
            link.case_id, link.media_id = case_id, stored.id
            session.add(link)
            append_event(session, case_id, link.added_by, "media-added", details)
            return stored, True

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

    # History

    def append_event(self, case_id: str, user: str, action: str, details: dict[str, Any]) -> Event:
        return self._retrying(lambda s: append_event(s, case_id, user, action, details))

    def events(self, case_id: str) -> list[Event]:
        with self.session() as session:
            return list(
                session.exec(select(Event).where(Event.case_id == case_id).order_by(Event.seq))
            )


def new_media_id(sha256: str) -> str:
    return sha256[:MEDIA_ID_LENGTH]


def append_event(
    session: Session, case_id: str, user: str, action: str, details: dict[str, Any]
) -> Event:
    """Chain one event onto a case's history inside the caller's transaction."""
    case = _lock_case(session, case_id)
    seq = case.event_count + 1
    at = history.now()
    text = history.canonical_json(details)
    digest = history.event_hash(
        case_id=case_id,
        seq=seq,
        at=at,
        user=user,
        action=action,
        details=text,
        prev_hash=case.head_hash,
    )
    event = Event(
        case_id=case_id,
        seq=seq,
        at=at,
        user=user,
        action=action,
        details=text,
        prev_hash=case.head_hash,
        hash=digest,
    )
    session.add(event)
    case.event_count, case.head_hash = seq, digest
    session.add(case)
    session.flush()
    return event


def _lock_case(session: Session, case_id: str) -> Case:
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).first()
    if case is None:
        raise CaseNotFound(case_id)
    return case


def _make_engine(settings: Settings) -> Engine:
    try:
        url = make_url(settings.db_url)
    except ArgumentError as exc:
        raise StoreError(f"malformed database URL: {_first_line(exc)}") from exc
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


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
