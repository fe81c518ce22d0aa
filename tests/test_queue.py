"""Queued intake: real worker processes on a real PostgreSQL, blobs in a real SeaweedFS.

Workers run as separate ``mediacheck worker`` processes, as they would on other
machines; one is killed with SIGKILL in the middle of a job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from mediacheck.queue.jobs import conninfo
from tests.conftest import Cli
from tests.media import photo
from tests.objects import BUCKET, new_prefix
from tests.video_clips import write_clip

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


@pytest.fixture
def desk(tmp_path: Path, seaweed, monkeypatch) -> Cli:
    """One desk's settings: PostgreSQL and the object store, as every machine sets them."""
    from tests.backends import postgres_schema

    with postgres_schema() as url:
        for name, value in seaweed.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("MEDIACHECK_WORKER_HEARTBEAT", "1")
        cli = Cli(tmp_path / "cases", db_url=url)
        cli.env["MEDIACHECK_BLOBS"] = f"s3://{BUCKET}/{new_prefix()}"
        yield cli


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_worker_left():
    """A test that fails still stops the workers it started."""
    yield
    while _started:
        worker = _started.pop()
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.communicate()


def _worker(desk: Cli, *options: str, home: Path | None = None) -> subprocess.Popen:
    """A worker as another machine runs it: its own process and its own store folder."""
    env = os.environ | desk.env
    if home is not None:
        env["MEDIACHECK_HOME"] = str(home)
    _started.append(_popen(env, options))
    return _started[-1]


def _popen(env: dict[str, str], options: tuple[str, ...]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mediacheck", "worker", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its intake's own processes are killed with it
    )


def _finish(worker: subprocess.Popen, timeout: float = 180) -> list[dict]:
    out, err = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def _job_status(desk: Cli, job_id: int) -> str:
    with psycopg.connect(conninfo(desk.env["MEDIACHECK_DATABASE_URL"])) as conn:
        row = conn.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", (job_id,))
        return row.fetchone()[0]


def test_queued_files_are_taken_in_as_a_local_intake_would(desk, tmp_path):
    files = [photo(_folder(tmp_path / "in") / f"p{i}.jpg", seed=i) for i in range(2)]
    queued = desk.json("intake", tmp_path / "in", "--queue", "--tag", "drop")
    status = desk.json("queue", "status")

    done = _finish(_worker(desk, "--burst", "--json", home=tmp_path / "elsewhere"))

    assert [q["status"] for q in queued] == ["queued", "queued"]
    assert (status["pending"], status["running"], status["failed"]) == (2, 0, 0)
    assert [j["path"] for j in status["jobs"]] == [str(f.absolute()) for f in files]
    assert sorted(d["path"] for d in done) == [str(f.absolute()) for f in files]
    assert {d["status"] for d in done} == {"added"}
    [shown] = desk.json("show", done[0]["case_id"])["media"]
    assert shown["original_name"] == Path(done[0]["path"]).name
    assert desk.json("show", done[0]["case_id"])["tags"] == ["drop"]
    after = desk.json("queue", "status")
    assert (after["pending"], after["succeeded"], after["jobs"]) == (0, 2, [])
    assert desk.json("verify")["ok"] is True


def test_a_killed_worker_s_job_finishes_elsewhere_once(desk, tmp_path):
    clip = write_clip(_folder(tmp_path / "in") / "clip.mp4", seconds=6, cut_at=3)
    other = photo(tmp_path / "in" / "other.jpg", seed=7)
    queued = desk.json("intake", tmp_path / "in", "--queue")
    job_id = next(q["job_id"] for q in queued if q["path"].endswith("clip.mp4"))

    first = _worker(desk, "--json")
    deadline = time.monotonic() + 60
    while _job_status(desk, job_id) != "doing":
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    killed_in = _job_status(desk, job_id)

    done = _finish(_worker(desk, "--burst", "--json"))

    assert killed_in == "doing"
    status = desk.json("queue", "status")
    assert (status["succeeded"], status["failed"], status["jobs"]) == (2, 0, [])
    listed = desk.json("cases")
    assert sorted(row["media_count"] for row in listed) == [1, 1]
    assert len(listed) == 2  # the killed job recorded nothing twice
    assert sorted(d["path"] for d in done) == sorted([str(clip.absolute()), str(other.absolute())])
    report = desk.json("verify")
    assert (report["ok"], report["originals"], report["orphans"]) == (True, 2, [])


def test_two_workers_share_one_queue_and_take_each_file_once(desk, tmp_path):
    files = [photo(_folder(tmp_path / "in") / f"p{i}.jpg", seed=i) for i in range(8)]
    workers = [_worker(desk, "--json", home=tmp_path / f"m{i}") for i in range(2)]
    _wait_for(lambda: _count(desk, "SELECT count(*) FROM procrastinate_workers") == 2)

    desk("intake", tmp_path / "in", "--queue")
    _wait_for(lambda: desk.json("queue", "status")["succeeded"] == 8)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)  # a graceful stop: the job in hand is finished
    done = [_finish(worker) for worker in workers]

    taken = [d["path"] for results in done for d in results]
    assert sorted(taken) == sorted(str(f.absolute()) for f in files)  # each once
    assert all(results for results in done)  # both took a share
    assert len(desk.json("cases")) == 8
    assert desk.json("verify")["ok"] is True


def test_one_case_queued_and_taken_in_by_two_processes(desk, tmp_path):
    files = [photo(_folder(tmp_path / "in") / f"p{i}.jpg", seed=i) for i in range(3)]
    desk("intake", tmp_path / "in", "--queue", "--one-case", "--title", "Drop")

    done = _finish(_worker(desk, "--burst", "--concurrency", "2", "--json"))

    assert sorted(d["path"] for d in done) == [str(f.absolute()) for f in files]
    [case] = desk.json("cases")
    assert (case["title"], case["media_count"]) == ("Drop", 3)
    assert {d["case_id"] for d in done} == {case["case_id"]}


def _count(desk: Cli, query: str) -> int:
    with psycopg.connect(conninfo(desk.env["MEDIACHECK_DATABASE_URL"])) as conn:
        try:
            return conn.execute(query).fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return 0  # the first worker has not applied the queue's schema yet


def _wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_job_whose_stored_copy_vanished_fails_with_its_error(desk, tmp_path, seaweed):
    lost = photo(tmp_path / "lost.jpg")
    [queued] = desk.json("intake", lost, "--queue")
    prefix = desk.env["MEDIACHECK_BLOBS"].removeprefix(f"s3://{BUCKET}/")
    sha = queued["sha256"]
    key = f"{prefix}/originals/{sha[:2]}/{sha[2:4]}/{sha}"
    seaweed.client().delete_object(Bucket=BUCKET, Key=key)

    _finish(_worker(desk, "--burst"))

    status = desk.json("queue", "status")
    assert (status["failed"], status["succeeded"]) == (1, 0)
    [job] = status["jobs"]
    where = f"s3://{BUCKET}/{key}"
    assert job["error"] == f"{lost.absolute()}: its stored copy is missing: {where}"
    assert desk("queue", "status").stdout.splitlines()[1] == (
        f"failed   job {job['id']}  {lost.absolute()}  {job['error']}"
    )
    assert desk.json("cases") == []


def test_the_queue_needs_postgresql(tmp_path):
    cli = Cli(tmp_path / "cases")
    for command in (("queue", "status"), ("worker", "--burst"), ("intake", "--queue", tmp_path)):
        result = cli(*command, expect=1)
        assert result.stderr == (
            "Error: the intake queue needs PostgreSQL: set MEDIACHECK_DATABASE_URL (or --db) "
            "to a postgresql+psycopg:// URL\n"
        )
