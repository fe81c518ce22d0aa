"""``mediacheck worker``: take queued intakes, one file a job, until stopped (or the queue empties).

A worker sends a heartbeat every ``heartbeat`` seconds. A job whose worker has sent
none for three heartbeats (killed, its machine lost) is put back in the queue by
any other worker, and run again: ``run_job`` finds what the first run recorded.
``--concurrency N`` runs N worker processes (intake forks processes of its own to
bound each file: threads would share one interpreter's locks across those forks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable

from mediacheck.config import Settings
from mediacheck.intake.pipeline import IntakeResult
from mediacheck.queue import jobs

HEARTBEAT = 10.0  # seconds; MEDIACHECK_WORKER_HEARTBEAT overrides (tests use 1)

OnResult = Callable[[IntakeResult], None]


def heartbeat() -> float:
    value = os.environ.get("MEDIACHECK_WORKER_HEARTBEAT")
    return float(value) if value else HEARTBEAT


def work(settings: Settings, burst: bool, on_result: OnResult | None = None) -> None:
    """Run one worker in this process: forever, or with ``burst`` until nothing is left."""
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    with jobs.queue_errors():
        app = _worker_app(settings, on_result)  # opens the store: mediacheck's schema first
        jobs.ensure_schema(jobs.conninfo(settings.db_url))
        asyncio.run(_serve(app, burst, heartbeat()))


def work_in_processes(settings: Settings, concurrency: int, burst: bool, as_json: bool) -> int:
    """``concurrency`` worker processes of this command; the worst exit code of theirs."""
    env = os.environ | {
        "MEDIACHECK_HOME": str(settings.store),
        "MEDIACHECK_DATABASE_URL": settings.db_url,
        "MEDIACHECK_USER": settings.user,
        "MEDIACHECK_BLOBS": settings.blobs,
    }
    flags = [*(["--burst"] if burst else []), *(["--json"] if as_json else [])]
    command = [sys.executable, "-m", "mediacheck", "worker", *flags]
    children = [subprocess.Popen(command, env=env) for _ in range(concurrency)]

    def forward(signum: int, frame: object) -> None:
        for child in children:
            child.send_signal(signum)  # each finishes the job in hand

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        return max(child.wait() for child in children)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
                child.wait()


def _worker_app(settings: Settings, on_result: OnResult | None):
    import procrastinate

    from mediacheck.store.database import Store

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=jobs.conninfo(settings.db_url))
    )
    store = Store.open(settings)
    address = jobs.conninfo(settings.db_url)

    @app.task(name=jobs.TASK, queue=jobs.QUEUE, pass_context=True, retry=jobs.MAX_ATTEMPTS - 1)
    def intake_file(context, **arguments) -> None:
        try:
            result = jobs.run_job(store, jobs.QueuedFile(**arguments))
        except BaseException as exc:
            jobs.record_error(address, context.job.id, exc)
            raise
        if on_result is not None:
            on_result(result)

    return app


async def _serve(app, burst: bool, beat: float) -> None:
    """Run procrastinate's worker, putting back stalled jobs every heartbeat.

    SIGINT or SIGTERM stops it gracefully: the job in hand is finished first.
    """
    stopping = asyncio.Event()
    running: list[asyncio.Task] = []

    def stop() -> None:
        stopping.set()
        for task in running:
            task.cancel()  # procrastinate then stops fetching and waits for its job

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    options = {
        "queues": [jobs.QUEUE],
        "concurrency": 1,
        "wait": not burst,
        "install_signal_handlers": False,
        "update_heartbeat_interval": beat,
        "stalled_worker_timeout": 3 * beat,
        "listen_notify": not burst,
    }
    async with app.open_async():
        while not stopping.is_set():
            await _requeue_stalled(app, beat)
            worker = asyncio.create_task(app.run_worker_async(**options))
            running[:] = [worker]
            while not worker.done():
                await asyncio.wait({worker}, timeout=beat)
                if not worker.done():
                    await _requeue_stalled(app, beat)
            if worker.cancelled():
                return
            worker.result()
            if not await _unfinished(app):
                return  # burst: nothing pending or running
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), beat)


async def _requeue_stalled(app, beat: float) -> None:
    """Put back the jobs of workers that stopped sending heartbeats."""
    stalled = await app.job_manager.get_stalled_jobs(
        queue=jobs.QUEUE, seconds_since_heartbeat=3 * beat
    )
    for job in stalled:
        await app.job_manager.retry_job(job)


async def _unfinished(app) -> bool:
    """Jobs still waiting or running (a running one may be a dead worker's, put back later)."""
    for status in ("todo", "doing"):
        if await app.job_manager.list_jobs_async(queue=jobs.QUEUE, status=status):
            return True
    return False
