"""Shared fixtures: a fresh case store per test and a CLI runner pointed at it.

Every test that takes ``db_url``, ``settings``, ``store`` or ``cli`` runs once on
SQLite and once on PostgreSQL (marked ``postgres``: ``pytest -m "not postgres"``
runs only SQLite).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediacheck import config
from mediacheck.cli import main
from mediacheck.store.database import Store
from tests.backends import BACKENDS, postgres_schema


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


@pytest.fixture
def settings(store_dir: Path, db_url: str) -> config.Settings:
    return config.resolve(store=store_dir, db_url=db_url, user="alice")


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
def cli(store_dir: Path, db_url: str) -> Cli:
    return Cli(store_dir, db_url=db_url)
