"""The intake queue on PostgreSQL: procrastinate's tables, one job per file, the job itself.

procrastinate keeps its own tables (``procrastinate_jobs``, ``procrastinate_workers``,
...) beside mediacheck's in the same database and schema; they are created by
procrastinate's own schema the first time a queue command runs (``ensure_schema``).
mediacheck adds one table of its own there, ``mediacheck_job_errors``: the last
error of each job, which procrastinate logs but does not keep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediacheck.config import Settings
from mediacheck.errors import MediacheckError, StoreError, one_line
from mediacheck.history import chain as history
from mediacheck.intake import pipeline
from mediacheck.intake.collect import InputFile, Origin, collect_files, storable_name
from mediacheck.store.cases import CaseFields
from mediacheck.store.database import Store
from mediacheck.store.ids import new_media_id

QUEUE = "mediacheck-intake"
TASK = "mediacheck.intake_file"
SCHEMA_LOCK = 0x6D65646961  # any fixed number: the advisory lock taken to apply the schema
MAX_ATTEMPTS = 3  # a job that raised is tried again twice (a crashed worker's: always)
ERRORS_TABLE = """
CREATE TABLE IF NOT EXISTS mediacheck_job_errors (
    job_id bigint PRIMARY KEY,
    error text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class QueuedFile:
    """One job's arguments: the stored bytes, the file as given, and the intake request."""

    sha256: str
    name: str
    path: str
    mtime: str
    was_symlink: bool
    queued_at: str
    user: str
    case_id: str | None
    quick: bool
    fields: dict[str, Any]

    def request(self) -> pipeline.IntakeRequest:
        fields = dict(self.fields, tags=tuple(self.fields.get("tags") or ()))
        return pipeline.IntakeRequest(
            user=self.user, case_id=self.case_id, fields=CaseFields(**fields), quick=self.quick
        )


@dataclass
class Queued:
    """``intake --queue``'s result for one file: queued, or why not."""

    path: str
    status: str  # queued or error
    job_id: int | None = None
    sha256: str | None = None
    error: str | None = None


def conninfo(db_url: str) -> str:
    """The libpq URL of a SQLAlchemy PostgreSQL URL; the queue needs PostgreSQL."""
    scheme, sep, rest = db_url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise StoreError(
            "the intake queue needs PostgreSQL: set MEDIACHECK_DATABASE_URL (or --db) "
            "to a postgresql+psycopg:// URL"
        )
    return f"postgresql://{rest}"


def sync_app(settings: Settings):
    """A procrastinate app for queueing and looking (no worker)."""
    import procrastinate

    connector = procrastinate.SyncPsycopgConnector(conninfo=conninfo(settings.db_url))
    return procrastinate.App(connector=connector)


def ensure_schema(address: str, create: bool = True) -> bool:
    """procrastinate's tables (its own schema, applied once) and mediacheck's error table.

    Called once mediacheck's own tables exist (an empty database is the store's to
    build). One transaction under a lock: two workers starting at once apply it once.
    Without ``create``: only whether the queue's tables exist.
    """
    import psycopg
    from procrastinate.schema import SchemaManager

    with queue_errors(), psycopg.connect(address) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        found = conn.execute("SELECT to_regclass('mediacheck_job_errors')").fetchone()
        if found is not None and found[0] is not None:
            return True
        if not create:
            return False
        if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() == (None,):
            conn.execute(SchemaManager.get_schema())
        conn.execute(ERRORS_TABLE)
    return True


@contextmanager
def queue_errors() -> Iterator[None]:
    """An unreachable server or a refused query: one line, as the store says it."""
    import psycopg
    from procrastinate.exceptions import ConnectorException

    try:
        yield
    except (ConnectorException, psycopg.Error) as exc:
        cause = exc.__cause__ if isinstance(exc, ConnectorException) and exc.__cause__ else exc
        raise StoreError(f"cannot use the intake queue: {one_line(cause)}") from exc


def queue_files(
    store: Store,
    settings: Settings,
    paths: Iterable[Path],
    request: pipeline.IntakeRequest,
    on_result: Callable[[Queued], None] | None = None,
) -> list[Queued]:
    """Store every file's bytes in the blob store, then queue one intake job for it.

    ``--one-case`` opens its case here, so every worker adds to the same one.
    """
    ensure_schema(conninfo(settings.db_url))
    app = sync_app(settings)
    results = []
    with queue_errors(), app.open():
        if request.one_case and request.case_id is None:
            case = store.create_case(request.fields, request.user)
            request = dataclasses.replace(request, case_id=case.id, one_case=False)
        deferrer = app.configure_task(name=TASK, queue=QUEUE, retry=MAX_ATTEMPTS - 1)
        for item in collect_files(paths, store.root):
            result = _queue_one(store, deferrer, item, request)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def _queue_one(store: Store, deferrer, item: InputFile, request: pipeline.IntakeRequest) -> Queued:
    shown = str(item.path)
    if item.problem:
        return Queued(shown, "error", error=f"{shown}: {item.problem}")
    try:
        file_stat = item.path.stat()
        if file_stat.st_size == 0:
            return Queued(shown, "error", error=f"{shown}: file is empty (0 bytes)")
        blob = store.blobs.put(item.path)
    except StoreError:
        raise
    except OSError as exc:
        return Queued(shown, "error", error=f"{shown}: cannot be read: {exc.strerror or exc}")
    job = QueuedFile(
        sha256=blob.sha256,
        name=storable_name(item.path.name),
        path=storable_name(str(item.path.absolute())),
        mtime=pipeline.iso_mtime(file_stat.st_mtime),
        was_symlink=item.was_symlink,
        queued_at=history.now(),
        user=request.user,
        case_id=request.case_id,
        quick=request.quick,
        fields=_fields_json(request.fields),
    )
    job_id = deferrer.defer(**dataclasses.asdict(job))
    return Queued(shown, "queued", job_id=job_id, sha256=blob.sha256)


def _fields_json(fields: CaseFields) -> dict[str, Any]:
    data = dataclasses.asdict(fields)
    data["tags"] = list(data.get("tags") or ())
    return data


def run_job(store: Store, job: QueuedFile) -> pipeline.IntakeResult:
    """Take in one queued file: the same intake as a local one, at most once."""
    media_id = new_media_id(job.sha256)
    done = store.find_link(media_id, job.path, job.queued_at)
    if done is not None:  # this job ran before and was stopped after recording its file
        return pipeline.IntakeResult(
            path=job.path,
            status="added",
            case_id=done.case_id,
            media_id=media_id,
            sha256=job.sha256,
        )
    origin = Origin(name=job.name, path=job.path, mtime=job.mtime, added_at=job.queued_at)
    missing = MediacheckError(
        f"{job.path}: its stored copy is missing: {store.blobs.original_location(job.sha256)}"
    )
    if not store.blobs.exists(store.blobs.original_key(job.sha256)):
        raise missing
    try:
        with store.blobs.local_original(job.sha256) as local:
            item = InputFile(local, was_symlink=job.was_symlink, origin=origin)
            [result] = pipeline.intake(store, [local], job.request(), files=[item])
    except FileNotFoundError:
        raise missing from None  # deleted meanwhile
    if result.sha256 is not None and result.sha256 != job.sha256:
        raise MediacheckError(f"{job.path}: the stored bytes are not those queued")
    return result


def record_error(address: str, job_id: int, exc: BaseException) -> None:
    """Keep a job's error for ``queue status`` (procrastinate only logs it)."""
    import psycopg

    try:
        with psycopg.connect(address, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO mediacheck_job_errors (job_id, error) VALUES (%s, %s) "
                "ON CONFLICT (job_id) DO UPDATE SET error = EXCLUDED.error, at = now()",
                (job_id, str(exc) if isinstance(exc, MediacheckError) else one_line(exc)),
            )
    except psycopg.Error:
        pass  # the database is what failed: procrastinate's log has the error
