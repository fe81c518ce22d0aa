"""Shared fixtures: a fresh case store per test and a CLI runner pointed at it.

Every test that takes ``db_url``, ``settings``, ``store`` or ``cli`` runs once on
SQLite and once on PostgreSQL (marked ``postgres``: ``pytest -m "not postgres"``
runs only SQLite). Tests marked ``@on_both_blob_stores`` (``tests/objects.py``) also
run with their blobs in a real S3 server (marked ``s3``).
"""

from __future__ import annotations

import os

# Intake forks its workers from the process that runs it: here, a test worker that earlier
# tests have made start OpenBLAS threads. A forked child has none of them, and its first
# threaded matrix product then spins for ever. One BLAS thread a process (set before NumPy
# loads; the CLI processes tests start inherit it) keeps forks safe and two test workers
# from each starting a pool per core.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediacheck import config
from mediacheck.cli import main
from mediacheck.store.database import Store
from tests.backends import BACKENDS, postgres_schema
from tests.objects import SeaweedServer, Tamper, new_prefix, seaweed_server


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "cases"


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str) -> Iterator[str]:
    """The test's own database URL; empty for SQLite, which lives inside the store."""
    if backend == "sqlite":
        yield ""
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory) -> Iterator[SeaweedServer]:
    """A real S3 server for the session (SeaweedFS), stopped at the end."""
    with seaweed_server(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def blob_backend(request) -> str:
    """``folder`` unless a test asks for both with ``@on_both_blob_stores``."""
    return getattr(request, "param", "folder")


@pytest.fixture
def blobs_url(blob_backend: str, request, monkeypatch) -> str:
    """The test's MEDIACHECK_BLOBS: empty for the folder, a fresh prefix in the bucket for S3."""
    if blob_backend == "folder":
        monkeypatch.delenv("MEDIACHECK_BLOBS", raising=False)
        return ""
    server = request.getfixturevalue("seaweed")
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)
    url = f"s3://evidence/{new_prefix()}"
    monkeypatch.setenv("MEDIACHECK_BLOBS", url)
    return url


@pytest.fixture
def tamper(store_dir: Path, blobs_url: str, request) -> Tamper:
    server = request.getfixturevalue("seaweed") if blobs_url else None
    return Tamper(store_dir, blobs_url, server)


@pytest.fixture
def settings(store_dir: Path, db_url: str, blobs_url: str) -> config.Settings:
    return config.resolve(store=store_dir, db_url=db_url, user="alice", blobs=blobs_url)


@pytest.fixture
def store(settings: config.Settings) -> Iterator[Store]:
    store = Store.open(settings)
    yield store
    store.engine.dispose()  # before the test's PostgreSQL schema and its sessions go


class Cli:
    """Runs ``mediacheck`` in-process against the test's store."""

    def __init__(self, store_dir: Path, user: str = "alice", db_url: str = ""):
        self.runner = CliRunner()
        self.env = {
            "MEDIACHECK_HOME": str(store_dir),
            "MEDIACHECK_USER": user,
            "MEDIACHECK_DATABASE_URL": db_url,
            "MEDIACHECK_DESK": "",  # the default prefix, whatever the shell running the tests sets
            "MEDIACHECK_TSA_URL": "",  # no time-stamps unless a test asks for them
            "MEDIACHECK_TSA_CA": "",
        }

    def __call__(self, *args: str, user: str | None = None, expect: int | None = 0):
        env = dict(self.env)
        if user:
            env["MEDIACHECK_USER"] = user
        result = self.runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, result.output
        return result

    def json(self, *args: str, user: str | None = None, expect: int | None = 0):
        return json.loads(self(*args, "--json", user=user, expect=expect).stdout)


@pytest.fixture
def cli(store_dir: Path, db_url: str, blobs_url: str) -> Cli:
    return Cli(store_dir, db_url=db_url)  # MEDIACHECK_BLOBS and the AWS settings: blobs_url
