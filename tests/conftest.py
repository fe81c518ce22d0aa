"""Shared fixtures: a fresh case store per test and a CLI runner pointed at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediacheck import config
from mediacheck.cli import main
from mediacheck.storage import Store


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "cases"


@pytest.fixture
def settings(store_dir: Path) -> config.Settings:
    return config.resolve(store=store_dir, user="alice")


@pytest.fixture
def store(settings: config.Settings) -> Store:
    return Store.open(settings)


class Cli:
    """Runs ``mediacheck`` in-process against the test's store."""

    def __init__(self, store_dir: Path, user: str = "alice"):
        self.runner = CliRunner()
        self.env = {
            "MEDIACHECK_HOME": str(store_dir),
            "MEDIACHECK_USER": user,
            "MEDIACHECK_DATABASE_URL": "",
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
def cli(store_dir: Path) -> Cli:
    return Cli(store_dir)
