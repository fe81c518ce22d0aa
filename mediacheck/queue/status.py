"""``mediacheck queue status``: how many jobs wait, run, failed, and why they failed."""

from __future__ import annotations

from dataclasses import dataclass, field

from mediacheck.config import Settings
from mediacheck.queue import jobs

# procrastinate's job statuses as the desk names them.
STATUSES = {"todo": "pending", "doing": "running", "failed": "failed", "succeeded": "succeeded"}


@dataclass(frozen=True)
class Job:
    id: int
    status: str  # pending, running or failed
    path: str
    sha256: str
    attempts: int
    error: str | None


@dataclass
class QueueStatus:
    pending: int = 0
    running: int = 0
    failed: int = 0
    succeeded: int = 0
    jobs: list[Job] = field(default_factory=list)  # every job not succeeded, oldest first


def queue_status(settings: Settings) -> QueueStatus:
    if not jobs.ensure_schema(jobs.conninfo(settings.db_url), create=False):
        return QueueStatus()  # nothing was ever queued here
    app = jobs.sync_app(settings)
    with jobs.queue_errors(), app.open():
        rows = app.connector.execute_query_all(
            "SELECT j.id, j.status::text AS status, j.args, j.attempts, e.error "
            "FROM procrastinate_jobs j LEFT JOIN mediacheck_job_errors e ON e.job_id = j.id "
            "WHERE j.queue_name = %(queue)s ORDER BY j.id",
            queue=jobs.QUEUE,
        )
    status = QueueStatus()
    for row in rows:
        name = STATUSES.get(row["status"])
        if name is None:
            continue  # cancelled or aborted: not the desk's doing
        setattr(status, name, getattr(status, name) + 1)
        if name != "succeeded":
            args = row["args"] or {}
            error = row["error"] if name == "failed" or row["attempts"] else None
            status.jobs.append(
                Job(
                    row["id"],
                    name,
                    str(args.get("path")),
                    str(args.get("sha256")),
                    row["attempts"],
                    error,
                )
            )
    return status
