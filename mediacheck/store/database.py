"""The case store: the evidence folder, the database engine and its transactions.

``Store`` is what the rest of mediacheck calls. Each method is one transaction
over the functions of the store module named for its concern: ``cases``,
``media``, ``findings``, ``fingerprints``, ``review`` (notes and verdicts),
``events`` (the history chain) and ``transfer`` (bundle rows). Only this package
opens sessions or builds queries.

SQLite (the default, inside the store) and PostgreSQL are driven through the
same SQLModel code. Every change to a case and the history event that records
it are written in one transaction, with the case row locked, so concurrent
desks can neither lose an event nor fork the chain.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlmodel import Session, create_engine

from mediacheck.config import Settings
from mediacheck.errors import ConcurrentUpdate, StoreError, StoreMissing
from mediacheck.store import (
    accounts,
    cases,
    events,
    findings,
    fingerprints,
    ids,
    lookups,
    media,
    privileges,
    review,
    transfer,
)
from mediacheck.store import revisions as schema
from mediacheck.store import sources as source_rows
from mediacheck.store import timestamps as stamp_rows
from mediacheck.store.accounts import AccountChange, SessionIdentity
from mediacheck.store.blobs import BlobStore
from mediacheck.store.cases import CaseChanges, CaseFields, CaseListing, ChangeCheck
from mediacheck.store.findings import EventSpec
from mediacheck.store.fingerprints import IndexRow
from mediacheck.store.media import MediaIntake
from mediacheck.store.models import (
    AccountRow,
    ApiToken,
    Case,
    CaseMedia,
    Event,
    FindingRow,
    FingerprintRow,
    KeyframeRow,
    Media,
    Note,
    SeenBefore,
    Source,
    TimestampRow,
    Verdict,
)
from mediacheck.store.objects import open_blobs
from mediacheck.store.privileges import Grants
from mediacheck.store.review import VerdictStep
from mediacheck.store.transfer import CaseRecords

RETRIES = 20
NUL_REPLACEMENT = "\ufffd"
# How often to ask PostgreSQL whether its WAL writer has flushed the late commits.
FLUSH_POLL_S = 0.005

T = TypeVar("T")
P = ParamSpec("P")


class Store:
    """A case store: the evidence folder and the database that describes it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.store
        self.blobs: BlobStore = open_blobs(settings.store, settings.blobs)
        self.engine = _make_engine(settings)
        # Commits made with ``durable=False`` that no later flush has made durable yet.
        self.unflushed = False

    @classmethod
    def open(cls, settings: Settings, check_schema: bool = True, create: bool = True) -> Store:
        """The store, its database built if empty; ``check_schema=False`` is for ``db`` commands.

        Without ``create`` a missing store folder or an empty database is refused
        (``StoreMissing``) rather than made. A missing or empty database beside stored
        originals is refused, never rebuilt.
        """
        if create:
            try:
                settings.store.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the case store {settings.store}: {exc}") from exc
        store = cls(settings)
        if check_schema or not create:
            with store._database_errors():
                found = _existing_schema(settings.db_url, store.engine)
                if not settings.store.is_dir():
                    raise StoreMissing(str(settings.store))
                if found is None:
                    _refuse_beside_originals(store.blobs)
                    if not create:
                        raise StoreMissing(_where(settings))
                if check_schema and (found is None or found.current != found.head):
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
    def session(self, read_only: bool = False, durable: bool = True) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error.

        ``read_only``: on SQLite it does not take the write lock (see ``_sqlite_engine``).
        ``durable=False``: the commit is atomic but does not wait for the disk (SQLite
        ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``): a crash of the
        machine, not of the process, may lose it until the next durable commit or
        ``flush``, which make every commit before them durable too.
        """
        bind = self.engine
        if read_only or not durable:
            bind = self.engine.execution_options(read_only=read_only, durable=durable)
        with self._database_errors("use"), Session(bind, expire_on_commit=False) as session:
            try:
                if not durable and self.engine.dialect.name == "postgresql":
                    session.connection().exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
        if not durable:
            self.unflushed = True
        elif session.info.get("wrote"):
            self.unflushed = False  # a durable commit that wrote synced every commit before it

    def flush(self) -> None:
        """Make every commit of this store made with ``durable=False`` durable (see ``session``).

        SQLite: one fsync of the write-ahead log, where those commits wrote their pages.
        PostgreSQL: wait until the server's WAL writer has flushed past them, which it
        does within ``wal_writer_delay`` (200 ms by default).
        """
        if not self.unflushed:
            return
        with self._database_errors("use"):
            if self.engine.dialect.name == "postgresql":
                self._wait_for_wal_flush()
            else:
                _fsync_wal(self.engine)
        self.unflushed = False

    def _wait_for_wal_flush(self) -> None:
        with self.engine.connect() as conn:
            written = conn.exec_driver_sql("SELECT pg_current_wal_insert_lsn()").scalar()
            check = text("SELECT pg_current_wal_flush_lsn() >= CAST(:lsn AS pg_lsn)")
            while not conn.execute(check, {"lsn": written}).scalar():
                conn.rollback()
                time.sleep(FLUSH_POLL_S)

    def _retrying(self, work: Callable[[Session], T], durable: bool = True) -> T:
        """Run ``work(session)`` in a transaction, again while another desk wins an id race.

        For the writes that take a new case number or a new media id: only the
        races of ``ids.RACES`` are run again; any other integrity error is a bug
        and keeps its traceback.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.session(durable=durable) as session:
                    return work(session)
            except IntegrityError as exc:
                race = ids.race_of(exc)
                if race is None:
                    raise
                if attempt == RETRIES:
                    raise ConcurrentUpdate(
                        f"other desks took the same new {race.what} {RETRIES} times in a row: "
                        "nothing was written, try again"
                    ) from exc
            time.sleep(0.01 * attempt)

    def _once(
        self, query: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``query(session, ...)`` in one transaction: reads, and writes no desk races."""
        with self.session() as session:
            return query(session, *args, **kwargs)

    def _read(
        self, query: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``query(session, ...)`` in a transaction that only reads."""
        with self.session(read_only=True) as session:
            return query(session, *args, **kwargs)

    # Cases

    def create_case(self, fields: CaseFields, user: str) -> Case:
        desk = self.settings.desk
        return self._retrying(lambda session: cases.insert_case(session, fields, user, desk))

    def get_case(self, case_id: str) -> Case:
        return self._read(cases.get_case, case_id)

    def list_cases(self) -> list[CaseListing]:
        return self._read(cases.list_cases)

    def update_case(
        self, case_id: str, changes: CaseChanges, user: str, check: ChangeCheck | None = None
    ) -> list[Event]:
        """Apply every change that alters the case, one history event each.

        ``check`` (the review rules for a new status) may refuse the changes, under the case lock.
        """
        cases.check_changes(changes)
        return self._once(cases.update_case, case_id, changes, user, check)

    # Media

    def media_by_sha256(self, sha256: str) -> Media | None:
        return self._read(media.by_sha256, sha256)

    def get_media(self, media_id: str) -> Media:
        """Media by its id, its full SHA-256 or an unambiguous prefix of either."""
        return self._read(media.get_media, media_id)

    def add_media_to_case(
        self, intake: MediaIntake, durable: bool = True
    ) -> tuple[str | None, Media, bool]:
        """Store one file's intake, add it to its case and log it (see ``MediaIntake``).

        One transaction, so one atomic record; ``durable=False`` for all but the last of a
        group of files whose results wait for the group's last commit (see ``session``).
        Returns the case id (None: known bytes that make no case), the stored media and
        whether it is new to the case.
        """
        desk = self.settings.desk
        return self._retrying(
            lambda session: media.add_media_to_case(session, intake, desk), durable
        )

    def case_media(self, case_id: str) -> list[tuple[CaseMedia, Media]]:
        return self._read(media.case_media, case_id)

    def find_link(self, media_id: str, original_path: str, added_at: str) -> CaseMedia | None:
        return self._once(media.find_link, media_id, original_path, added_at)

    def keyframes(self, media_id: str) -> list[KeyframeRow]:
        return self._read(media.keyframes, media_id)

    def all_media(self) -> list[Media]:
        return self._read(media.all_media)

    def cases_holding(self, media_ids: Sequence[str]) -> dict[str, list[str]]:
        """The ids of the cases that hold each of ``media_ids``, sorted."""
        return self._read(media.cases_holding, media_ids)

    # Fingerprints and matches (recycled media)

    def fingerprint_rows(self, kind: str, after_id: int = 0) -> list[IndexRow]:
        """(id, media_id, frame_time_s, bits) of every ``kind`` row after ``after_id``."""
        return self._read(fingerprints.fingerprint_rows, kind, after_id)

    def fingerprint_count(self, kind: str, up_to_id: int) -> int:
        return self._read(fingerprints.fingerprint_count, kind, up_to_id)

    def insert_fingerprints(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk-insert fingerprint rows (re-fingerprinting an archive, benchmarks)."""
        self._once(fingerprints.insert_fingerprints, rows)

    def fingerprint_heads(self, kind: str, offset: int) -> list[tuple[str, bytes]]:
        """(media_id, four bytes from ``offset``) of every ``kind`` row, oldest first."""
        return self._read(fingerprints.fingerprint_heads, kind, offset)

    def replace_fingerprints(self, media_id: str, rows: Sequence[FingerprintRow]) -> None:
        """A media item's fingerprint rows swapped for ``rows`` in one transaction (fingerprints
        made again: the index loads the new rows, and a snapshot holding the old is stale)."""
        self._once(fingerprints.replace_fingerprints, media_id, rows)

    def sibling_fingerprints(self, ids: Sequence[int], kind: str) -> dict[int, bytes]:
        """The ``kind`` row of the same picture (media and frame) as each of the rows ``ids``."""
        return self._read(fingerprints.sibling_fingerprints, ids, kind)

    def seen_before(self, media_ids: Sequence[str]) -> list[tuple[SeenBefore, Media, Case | None]]:
        """Matches recorded at intake for ``media_ids``, with the archive media and case named."""
        return self._read(fingerprints.seen_before, media_ids)

    def media_cases(self, media_ids: Sequence[str]) -> dict[str, tuple[Media, list[Case]]]:
        """Each media item with every case that holds it, oldest membership first."""
        return self._read(fingerprints.media_cases, media_ids)

    # Findings

    def findings(self, case_id: str, media_id: str) -> list[FindingRow]:
        return self._read(findings.findings, case_id, media_id)

    def replace_findings(
        self,
        case_id: str,
        by_media: dict[str, list[FindingRow]],
        event: EventSpec | None = None,
    ) -> None:
        """Swap the findings of each media in the case, with an optional (user, action, details)."""
        self._once(findings.replace_findings, case_id, by_media, event)

    # Notes and verdicts

    def add_note(self, note: Note, describe: Callable[[Note], dict[str, Any]]) -> Note:
        """Store ``note`` with a ``note-added`` event whose details ``describe`` gives."""
        return self._once(review.add_note, note, describe)

    def notes(self, case_id: str) -> list[Note]:
        return self._read(review.notes, case_id)

    def verdicts(self, case_id: str | None = None) -> list[Verdict]:
        """A case's verdicts (every case's without ``case_id``), oldest first."""
        return self._read(review.verdicts, case_id)

    def final_verdicts(self, case_ids: Collection[str]) -> dict[tuple[str, str], Verdict]:
        """(case id, media id) to the approved verdict that stands; absent: Unverified."""
        return self._read(review.final_verdicts, case_ids)

    def record_verdict(self, case_id: str, step: VerdictStep) -> Verdict:
        """Propose, approve or reject under the case lock: one decision wins."""
        return self._once(review.record_verdict, case_id, step)

    # History

    def events(self, case_id: str) -> list[Event]:
        return self._read(events.events, case_id)

    # Bundles

    def case_records(self, case_id: str) -> CaseRecords:
        return self._read(lambda s: transfer.case_records(s, cases.get_case(s, case_id)))

    def import_case(self, records: CaseRecords, user: str, details: dict[str, Any]) -> list[str]:
        """Add a bundle's case in one transaction and end its history with an import event.

        Media whose bytes the store already holds keep their rows as they are (with
        their keyframes and fingerprints). Returns the ids of the media new to the store.
        """
        return self._retrying(lambda s: transfer.import_case(s, records, user, details))

    # Accounts (the web desk's identities, MEDIACHECK_IDENTITY=database)

    def add_account(self, row: AccountRow) -> AccountRow:
        return self._once(accounts.insert_account, row)

    def find_account(self, name: str) -> AccountRow | None:
        return self._read(accounts.find_account, name)

    def get_account(self, name: str) -> AccountRow:
        return self._read(accounts.get_account, name)

    def list_accounts(self) -> list[AccountRow]:
        return self._read(accounts.list_accounts)

    def count_accounts(self) -> int:
        return self._read(accounts.count_accounts)

    def change_account(self, name: str, change: AccountChange) -> AccountRow:
        return self._once(accounts.change_account, name, change)

    def login_failed(self, name: str, locked_until: Callable[[int], str | None]) -> AccountRow:
        """Count a failed login under the account's lock; ``locked_until(failures)``."""
        return self._once(accounts.login_failed, name, locked_until)

    def login_succeeded(self, name: str, rehashed: str | None = None) -> AccountRow:
        return self._once(accounts.login_succeeded, name, rehashed)

    def add_token(self, token: ApiToken) -> ApiToken:
        return self._once(accounts.insert_token, token)

    def use_token(self, secret_hash: str, at: str) -> tuple[ApiToken, AccountRow] | None:
        return self._once(accounts.use_token, secret_hash, at)

    def list_tokens(self, name: str | None = None) -> list[ApiToken]:
        return self._read(accounts.list_tokens, name)

    def revoke_token(self, token_id: int) -> ApiToken:
        return self._once(accounts.revoke_token, token_id)

    def grant(self, role: str, personal: bool = False, accounts: bool = False) -> Grants:
        """Give the PostgreSQL role ``role`` a desk's rights: no rewriting the history.

        ``personal``: one person's login, which may record only its own name;
        ``accounts``: the role may add and change accounts and API tokens.
        """
        with self._database_errors("use"), self.engine.begin() as conn:
            return privileges.grant(conn, role, personal, accounts)

    def session_identity(self) -> SessionIdentity:
        """The PostgreSQL user this store connects as, and its account (user None on SQLite)."""
        return self._read(accounts.session_identity)

    # The web desk's look-ups

    def verdict_by_id(self, verdict_id: int) -> Verdict | None:
        return self._read(lookups.verdict_by_id, verdict_id)

    def cases_noting(self, text: str) -> set[str]:
        """The ids of the cases with a note holding ``text`` (any letter case)."""
        return self._read(lookups.cases_noting, text)

    # Trusted time: RFC 3161 time-stamp tokens

    def add_timestamp(self, row: TimestampRow) -> TimestampRow:
        return self._once(stamp_rows.add_timestamp, row)

    def case_timestamps(self, case_id: str) -> list[TimestampRow]:
        """The tokens of a case's own subjects (its history), oldest first."""
        return self._read(stamp_rows.case_timestamps, case_id)

    def subject_timestamps(
        self, subject_kind: str, subject_ids: Sequence[str]
    ) -> list[TimestampRow]:
        """The tokens of the named subjects of one kind (WARC digests, ...), oldest first."""
        return self._read(stamp_rows.subject_timestamps, subject_kind, subject_ids)

    # Sources (links taken in)

    def add_source(
        self,
        source: Source,
        media_ids: Sequence[str],
        findings: Sequence[FindingRow],
        details: dict[str, Any],
    ) -> Source:
        """Store a link's capture with its media and findings and a ``source-added`` event."""
        return self._once(source_rows.add_source, source, media_ids, findings, details)

    def sources(self, case_id: str | None = None) -> list[tuple[Source, list[str]]]:
        """A case's sources (every case's without ``case_id``) with their media ids."""
        return self._read(source_rows.sources, case_id)

    def warc_digests(self) -> set[str]:
        return self._read(source_rows.warc_digests)


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
        # A transaction that only reads needs no lock: WAL gives it a snapshot.
        options = conn.get_execution_options()
        if options.get("read_only"):
            conn.exec_driver_sql("BEGIN")
            return
        # FULL syncs the log at each commit; NORMAL leaves it to the next FULL commit or
        # checkpoint, or to ``Store.flush``. Set on every write: pooled connections are reused.
        durable = options.get("durable", True)
        conn.exec_driver_sql(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _fsync_wal(engine: Engine) -> None:
    """fsync the SQLite database's write-ahead log: the commits written to it are then durable.

    SQLite keeps the log while a connection is open (the engine's pool holds one); a log
    already gone was checkpointed into the database, and checkpoints sync.
    """
    database = engine.url.database
    if not database:
        return
    try:
        fd = os.open(f"{database}-wal", os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


@sa_event.listens_for(Session, "before_flush")
def _replace_nul(session: Session, _flush_context, _instances) -> None:
    # PostgreSQL text columns reject NUL (JSON columns keep it escaped). Hostile
    # metadata carries it; replace it on every backend so both read back the same.
    for row in (*session.new, *session.dirty):
        for attr in sa_inspect(row).mapper.column_attrs:
            value = getattr(row, attr.key)
            if isinstance(value, str) and "\x00" in value:
                setattr(row, attr.key, value.replace("\x00", NUL_REPLACEMENT))


@sa_event.listens_for(Session, "after_flush")
def _note_write(session: Session, _flush_context) -> None:
    # Whether the transaction wrote: one that did not commits without a sync (see ``flush``).
    session.info["wrote"] = True


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


def _where(settings: Settings) -> str:
    """The store a user would name: its folder, or the server whose database is empty."""
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        return str(settings.store)
    return url.render_as_string(hide_password=True)


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
