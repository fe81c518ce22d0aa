"""Intake: every file given becomes preserved, described media in a case.

For each file, in input order: copy and hash it into the evidence store in
one read (``prepare``, in this process), describe it in a worker process
under a time and a memory bound (``describe``, ``jobs`` files at a time),
then search the archive and record it with a history event (``record``).
Whatever a file holds, it gets a result and the batch goes on; only the store
itself failing (a full disk, a lost database) stops the batch, after every
file before it has been recorded and reported.

A kill at any moment leaves nothing half-done that a re-run cannot finish: a
new original waits in staging until just before the transaction that writes
its media row, its case (if new) and the case's first events; an original a
kill left without its row is found again by its hash and described then.

Files recorded one after the other make a group (``_Group``): each is its own
transaction, but only the group's last waits for the disk, and the group's
results are reported once it has (docs/performance.md, "Database writes").
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mediacheck.errors import MediacheckError, StoreError, one_line
from mediacheck.findings import PIXEL_CHECKS
from mediacheck.findings.base import analysis_failed
from mediacheck.findings.service import finding_row, finding_rows
from mediacheck.history import chain as history
from mediacheck.intake.bounds import Bounds
from mediacheck.intake.collect import InputFile, collect, collect_files, storable_name
from mediacheck.intake.describe import (
    STORE_ERRNOS,
    Analysis,
    Described,
    describe,
    stopped,
)
from mediacheck.intake.match_rows import fingerprint_rows, intake_look_up, seen_before_rows
from mediacheck.intake.workers import Pool, Stopped
from mediacheck.match import search as seen
from mediacheck.store.blobs import StoredBlob
from mediacheck.store.cases import CaseFields
from mediacheck.store.database import Store
from mediacheck.store.ids import new_media_id
from mediacheck.store.media import MediaIntake
from mediacheck.store.models import Case, CaseMedia, FindingRow, FingerprintRow, Media

DEFAULT_BOUNDS = Bounds()
# A group of records sharing one wait for the disk ends at this many files, or at the
# first commit this long after its first, or before a file whose description is not ready.
GROUP_FILES = 8
GROUP_SECONDS = 0.1

__all__ = ["Bounds", "IntakeRequest", "IntakeResult", "collect", "collect_files", "intake"]


@dataclass(frozen=True)
class IntakeRequest:
    user: str
    case_id: str | None = None  # None: every file becomes a case of its own...
    one_case: bool = False  # ...unless all files go into one new case
    fields: CaseFields = CaseFields()
    quick: bool = False  # leave the slow pixel forensics to a later ``analyze``
    new_case: bool = False  # bytes the store holds go into a new case all the same

    @property
    def adds_known(self) -> bool:
        """Whether bytes the store already holds are added to a case, or only reported.

        Taking in a file again is no new story: it joins a case only when one is named
        (``case_id`` given by the user, not made by ``one_case``) or ``new_case`` asks.
        """
        return self.new_case or (self.case_id is not None and not self.one_case)

    @property
    def skipped_checks(self) -> tuple[str, ...]:
        return PIXEL_CHECKS if self.quick else ()


@dataclass
class IntakeResult:
    path: str
    status: str  # added, already-stored or error
    case_id: str | None = None  # None: bytes the store holds, added to no case
    media_id: str | None = None
    sha256: str | None = None
    kind: str | None = None
    mime: str | None = None
    error: str | None = None
    cases: list[str] = field(default_factory=list)  # other cases that held these bytes
    seen_before: list[dict[str, Any]] = field(default_factory=list)  # ArchiveMatch.document()
    problems: list[str] = field(default_factory=list)  # what could not be read, if not fatal
    # A link's media: its capture's time-stamp (a timestamps.StampOutcome), None without a TSA.
    timestamp: dict[str, Any] | None = None


# What a file becomes before it is recorded: one of these four.


@dataclass(frozen=True)
class Unreadable:
    """The file could not be read at all: nothing was stored."""

    result: IntakeResult


@dataclass(frozen=True)
class NewMedia:
    """Bytes the store holds no media row for, described."""

    shown: str  # the path as given
    blob: StoredBlob  # staged until it is recorded, unless an earlier intake left it in place
    link: CaseMedia
    described: Described


@dataclass(frozen=True)
class KnownMedia:
    """Bytes the store already holds as media, with their findings against this case's claims."""

    shown: str
    link: CaseMedia
    media: Media
    findings: list[FindingRow]
    problem: str | None  # why this intake's findings are incomplete


@dataclass(frozen=True)
class Held:
    """Bytes the store already holds, taken in again without a case to add them to."""

    shown: str
    media: Media


Prepared = Unreadable | NewMedia | KnownMedia | Held


@dataclass(frozen=True)
class _Pending:
    """A file stored and handed to a worker, waiting for its description."""

    shown: str
    blob: StoredBlob
    link: CaseMedia
    ticket: int
    known: Media | None


def intake(
    store: Store,
    paths: Iterable[Path],
    request: IntakeRequest,
    on_result: Callable[[IntakeResult], None] | None = None,
    files: list[InputFile] | None = None,
    jobs: int = 1,
    bounds: Bounds = DEFAULT_BOUNDS,
) -> list[IntakeResult]:
    """Take in every file; results come back in input order, one per file.

    ``jobs`` worker processes describe files while this one records them: the
    results are the same whatever their number.
    """
    claims = _claims(store, request)
    items = files if files is not None else collect_files(paths, store.root)
    archive = seen.ArchiveSearch(store)
    results = []
    group = _Group(store, on_result)
    with Pool(max(1, min(jobs, len(items))), bounds) as pool:
        try:
            ready = _prepare_all(store, pool, items, request, claims, jobs, group.patience)
            for prepared, next_ready in ready:
                last = group.ends_with_next(next_ready)
                result = record(store, archive, prepared, request, durable=last)
                if request.one_case and request.case_id is None and result.case_id:
                    request = replace(request, case_id=result.case_id)
                results.append(result)
                group.add(result)
                if last:
                    group.close()
        except BaseException:
            with suppress(StoreError):
                group.close()  # the files recorded before the failure are reported
            raise
    return results


@dataclass
class _Group:
    """Results whose records are committed but may not be on disk yet, until ``close``.

    Each file's record is one transaction, atomic either way; only the group's last
    commit waits for the disk (a durable commit makes all before it durable, on
    SQLite and PostgreSQL alike), or ``Store.flush`` if the last file wrote nothing.
    A result is reported only then: a crash of the machine may lose a group's records,
    never one that was reported, and never part of one.
    """

    store: Store
    on_result: Callable[[IntakeResult], None] | None
    waiting: list[IntakeResult] = field(default_factory=list)
    started: float = 0.0

    def patience(self) -> float:
        """How long the file about to be recorded may wait for the next: the group's time left."""
        if not self.waiting:
            self.started = time.monotonic()
        return self.started + GROUP_SECONDS - time.monotonic()

    def ends_with_next(self, next_ready: bool) -> bool:
        """Whether the next file recorded ends the group: full, old, or the one after not ready."""
        full = len(self.waiting) + 1 >= GROUP_FILES
        return full or not next_ready or time.monotonic() - self.started >= GROUP_SECONDS

    def add(self, result: IntakeResult) -> None:
        self.waiting.append(result)

    def close(self) -> None:
        self.store.flush()
        waiting, self.waiting = self.waiting, []
        if self.on_result is not None:
            for result in waiting:
                self.on_result(result)


def _claims(store: Store, request: IntakeRequest) -> Case:
    """The case whose claims findings weigh, before any case row is written."""
    if request.case_id is not None:
        return store.get_case(request.case_id)  # an unknown case stops everything before any write
    fields = request.fields
    return Case(
        id="",  # numbered when its first media is recorded
        year=0,
        seq=0,
        posted_at=fields.posted_at,
        claimed_lat=fields.claimed_lat,
        claimed_lon=fields.claimed_lon,
        created_by=request.user,
        created_at="",
    )


def _prepare_all(
    store: Store,
    pool: Pool,
    items: list[InputFile],
    request: IntakeRequest,
    claims: Case,
    jobs: int,
    patience: Callable[[], float],
) -> Iterator[tuple[Prepared, bool]]:
    """Each file prepared, in input order, with up to ``jobs`` files ahead in workers.

    With each, whether the next file is ready to be recorded, waiting up to ``patience()``
    seconds for its worker.
    """
    ahead: deque[Prepared | _Pending | StoreError] = deque()
    for item in items:
        try:
            ahead.append(prepare(store, pool, item, request, claims))
        except StoreError as exc:
            ahead.append(exc)  # raised in its turn: the files before it are recorded first
        if len(ahead) > jobs:
            finished = _finish(store, pool, ahead.popleft())
            yield finished, _ready(pool, ahead, patience())
    while ahead:
        finished = _finish(store, pool, ahead.popleft())
        yield finished, _ready(pool, ahead, patience())


def _ready(pool: Pool, ahead: deque[Prepared | _Pending | StoreError], timeout: float) -> bool:
    if not ahead:
        return False
    following = ahead[0]
    return not isinstance(following, _Pending) or pool.ready(following.ticket, timeout)


def prepare(
    store: Store, pool: Pool, item: InputFile, request: IntakeRequest, claims: Case
) -> Prepared | _Pending:
    """Copy and hash one file into the store and hand it to a worker to describe."""
    origin = item.origin
    shown = origin.path if origin else str(item.path)
    if item.problem:
        return _unreadable(shown, item.problem)
    try:
        file_stat = item.path.stat()
        if file_stat.st_size == 0:
            return _unreadable(shown, "file is empty (0 bytes)")
        blob = store.blobs.stage(item.path)
        if blob.existed:
            blob = store.blobs.place(blob)  # drops the copy: the store holds these bytes
    except OSError as exc:
        if _store_failed(exc, item.path):
            raise _store_error(store, exc) from exc
        return _unreadable(shown, f"cannot be read: {_cause(exc)}")
    link = CaseMedia(
        case_id="",
        media_id=new_media_id(blob.sha256),
        original_name=origin.name if origin else storable_name(item.path.name),
        original_path=origin.path if origin else storable_name(str(item.path.absolute())),
        file_mtime=origin.mtime if origin else iso_mtime(file_stat.st_mtime),
        was_symlink=item.was_symlink,
        added_by=request.user,
        added_at=origin.added_at if origin else history.now(),
    )
    skip = request.skipped_checks
    # Bytes new to the store cannot be known media. Others most likely are; if not,
    # an earlier intake was stopped between copying them and recording them.
    known = store.media_by_sha256(blob.sha256) if blob.existed else None
    if known is not None and not request.adds_known:
        return Held(shown, known)
    if known is None:
        ticket = pool.submit(describe, store.blobs, blob, link, claims, skip)
    else:
        ticket = pool.submit(finding_rows, store.blobs, claims, link, known, skip)
    return _Pending(shown, blob, link, ticket, known)


def _finish(store: Store, pool: Pool, ahead: Prepared | _Pending | StoreError) -> Prepared:
    """Wait for a worker's answer; a file it could not finish is recorded as such."""
    if isinstance(ahead, StoreError):
        raise ahead
    if not isinstance(ahead, _Pending):
        return ahead
    try:
        answer = pool.result(ahead.ticket)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - stopped, or a bug: the file is kept all the same
        if isinstance(exc, OSError) and exc.errno in STORE_ERRNOS:
            raise _store_error(store, exc) from exc
        return _unfinished(store, ahead, exc)
    if ahead.known is None:
        return NewMedia(ahead.shown, ahead.blob, ahead.link, answer)
    return KnownMedia(ahead.shown, ahead.link, ahead.known, answer, None)


def _unfinished(store: Store, pending: _Pending, why: Exception) -> Prepared:
    if pending.known is None:
        described = stopped(store.blobs, pending.blob, pending.link.original_name, why)
        return NewMedia(pending.shown, pending.blob, pending.link, described)
    problem = f"findings not worked out: {why}"
    return KnownMedia(pending.shown, pending.link, pending.known, [_failure(why)], problem)


def _failure(why: Exception) -> FindingRow:
    return finding_row(analysis_failed("analysis", why))


def record(
    store: Store,
    archive: seen.ArchiveSearch,
    prepared: Prepared,
    request: IntakeRequest,
    durable: bool = True,
) -> IntakeResult:
    """Search the archive for a prepared file, store it in its case and log the event.

    ``durable=False``: its commit does not wait for the disk (see ``Store.session``).
    """
    if isinstance(prepared, Unreadable):
        return prepared.result
    if isinstance(prepared, Held):
        return _held(archive, prepared.shown, prepared.media)
    prepared.link.case_id = request.case_id or ""
    if isinstance(prepared, KnownMedia):
        return _record_known(store, archive, prepared, request, durable)
    earlier = None if request.adds_known else store.media_by_sha256(prepared.blob.sha256)
    if earlier is not None:
        _place(store, prepared.blob)  # the same bytes came earlier in this batch: drops the copy
        return _held(archive, prepared.shown, earlier)
    try:
        return _record_new(store, archive, prepared, request, durable)
    except MediacheckError:
        raise
    except Exception as exc:  # noqa: BLE001 - the database refused what the file's description holds
        # Only the transaction failed: the original is in place, the case was rolled back.
        placed = replace(prepared.blob, path=store.blobs.original_path(prepared.blob.sha256))
        why = Stopped(f"its description could not be stored ({one_line(exc)})")
        described = stopped(store.blobs, placed, prepared.link.original_name, why)
        link = CaseMedia(**prepared.link.model_dump(exclude={"id"}))
        fallback = replace(prepared, blob=placed, link=link, described=described)
        return _record_new(store, archive, fallback, request, durable)


def _held(archive: seen.ArchiveSearch, shown: str, media: Media) -> IntakeResult:
    """Bytes the store holds, added to no case: the cases that hold them, nothing written."""
    holders = archive.identical(media.id)
    result = _result(shown, None, media, "already-stored", _problem(media), holders)
    result.cases = list(dict.fromkeys(m.case_id for m in holders if m.case_id))
    return result


def _record_known(
    store: Store,
    archive: seen.ArchiveSearch,
    prepared: KnownMedia,
    request: IntakeRequest,
    durable: bool,
) -> IntakeResult:
    link, media = prepared.link, prepared.media
    holders = archive.identical(media.id, exclude_case=request.case_id)
    recorded = replace(
        _recording(request, link, media),
        findings=prepared.findings,
        seen_before=seen_before_rows(holders),
    )
    case_id, stored, _ = store.add_media_to_case(recorded, durable)
    fatal = prepared.problem or _problem(stored)
    result = _result(prepared.shown, case_id, stored, "already-stored", fatal, holders)
    result.cases = list(dict.fromkeys(m.case_id for m in holders if m.case_id))
    return result


def _record_new(
    store: Store,
    archive: seen.ArchiveSearch,
    prepared: NewMedia,
    request: IntakeRequest,
    durable: bool,
) -> IntakeResult:
    link, described = prepared.link, prepared.described
    media = described.media
    prints, found = _look_up(archive, described, request.case_id)
    _place(store, prepared.blob)
    recorded = replace(
        _recording(request, link, media),
        keyframes=described.keyframes,
        fingerprints=prints,
        seen_before=seen_before_rows(found),
        findings=described.findings,
    )
    case_id, stored, _ = store.add_media_to_case(recorded, durable)
    if case_id is None:  # another desk stored these bytes first, and they make no case
        return _held(archive, prepared.shown, stored)
    if stored is not media:  # another desk was quicker, and this intake names a case
        return _result(prepared.shown, case_id, stored, "already-stored", _problem(stored), found)
    return _result(prepared.shown, case_id, stored, "added", described.fatal, found)


def _place(store: Store, blob: StoredBlob) -> None:
    """Put a staged original in place just before its row is committed.

    A kill between the two leaves an original without a row for the next
    intake of the file to adopt; a kill before leaves only a staged copy.
    """
    if blob.existed:
        return  # an earlier intake left it in place
    try:
        store.blobs.place(blob)
    except OSError as exc:
        raise _store_error(store, exc) from exc


def _look_up(
    archive: seen.ArchiveSearch, described: Described, case_id: str | None
) -> tuple[list[FingerprintRow], list[seen.ArchiveMatch]]:
    """The fingerprint rows and archive matches of new media; a failed search is recorded.

    Matches in ``case_id``, the case the media joins, are no news and are left out.
    """
    media = described.media
    search = Analysis(media.kind, media.mime, {})
    found = search.guarded(
        "archive search",
        lambda: intake_look_up(archive, media.id, described.probes, case_id),
        None,
    )
    if found is not None:
        return found
    # The first error is the fatal one: a later intake of the same bytes reports it.
    first, then = (
        (media.errors, search.errors) if described.fatal else (search.errors, media.errors)
    )
    media.errors = [*first, *then]
    described.findings.extend(search.failures)
    described.fatal = described.fatal or search.fatal
    prints = [(time_s, probe.print) for time_s, probe in described.probes]
    return search.guarded("fingerprints", lambda: fingerprint_rows(media.id, prints), []), []


def _result(
    shown: str,
    case_id: str | None,
    media: Media,
    status: str,
    fatal: str | None,
    found: Iterable[seen.ArchiveMatch] = (),
) -> IntakeResult:
    return IntakeResult(
        path=shown,
        status="error" if fatal else status,
        case_id=case_id,
        media_id=media.id,
        sha256=media.sha256,
        kind=media.kind,
        mime=media.mime,
        error=f"{shown}: {fatal}" if fatal else None,
        seen_before=[m.document() for m in found],
        problems=[] if fatal else list(media.errors),
    )


def _unreadable(shown: str, problem: str) -> Unreadable:
    return Unreadable(IntakeResult(path=shown, status="error", error=f"{shown}: {problem}"))


def _store_failed(exc: OSError, source: Path) -> bool:
    """Whether copying failed on the store's side (disk full, read-only) rather than the file's."""
    if exc.errno in STORE_ERRNOS:
        return True
    return exc.filename is not None and Path(exc.filename) != source


def _store_error(store: Store, exc: OSError) -> StoreError:
    return StoreError(f"cannot write to the case store {store.root}: {_cause(exc)}")


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _new_case_fields(request: IntakeRequest, name: str) -> CaseFields:
    fields = request.fields
    return fields if fields.title else replace(fields, title=name)


def _problem(media: Media) -> str | None:
    """For bytes taken in before: the problem recorded then, if it was fatal."""
    first = media.errors[0] if media.errors else None
    return first if first and "kept as evidence" in first else None


def _recording(request: IntakeRequest, link: CaseMedia, media: Media) -> MediaIntake:
    """Media and its membership of the request's case (a new one unless it names one)."""
    return MediaIntake(
        media=media,
        membership=link,
        details=_event_details(link, media),
        case_id=request.case_id,
        new_case=_new_case_fields(request, link.original_name),
        only_new=not request.adds_known,
    )


def _event_details(link: CaseMedia, media: Media) -> dict[str, Any]:
    return {
        "media_id": media.id,
        "sha256": media.sha256,
        "kind": media.kind,
        "mime": media.mime,
        "size": media.size,
        "original_name": link.original_name,
        "was_symlink": link.was_symlink,
    }


def iso_mtime(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
