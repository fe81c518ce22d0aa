"""Start-up: help costs what click costs; listing and showing cases load no media libraries.

Each command runs in a fresh interpreter (this one has imported everything already),
which then prints the top-level modules it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mediacheck.cli.options import CASE_STATUSES
from mediacheck.store import models
from scripts.cli_reference import command_paths

SAMPLES = Path(__file__).resolve().parents[1] / "mediacheck" / "samples"
HEAVY = {"numpy", "scipy", "cv2", "av", "PIL", "sqlalchemy", "sqlmodel", "c2pa", "jinja2"}
MEDIA_LIBRARIES = {"cv2", "av", "scipy"}
REPORT_MODULES = """
import runpy, sys
sys.argv = ["mediacheck", *sys.argv[1:]]
try:
    runpy.run_module("mediacheck", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(code, *sorted({name.split(".")[0] for name in sys.modules}), file=sys.stderr)
"""


def loaded_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The top-level modules ``mediacheck ARGS`` imports; fails unless it exits 0."""
    done = subprocess.run(
        [sys.executable, "-c", REPORT_MODULES, *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    code, *modules = done.stderr.split("\n")[-2].split()
    assert code in ("0", "None"), done.stderr
    return set(modules)


@pytest.mark.parametrize("args", [("--help",), ("--version",)], ids=" ".join)
def test_top_level_help_and_version_import_no_heavy_library(args):
    assert loaded_modules(*args) & HEAVY == set()


@pytest.mark.parametrize("path", [p for p in command_paths() if p], ids=" ".join)
def test_every_command_help_imports_no_heavy_library(path):
    assert loaded_modules(*path, "--help") & HEAVY == set()


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> tuple[dict[str, str], str]:
    env = {"MEDIACHECK_HOME": str(tmp_path_factory.mktemp("store") / "cases")}
    env["MEDIACHECK_DATABASE_URL"] = ""
    intake = [sys.executable, "-m", "mediacheck", "intake", str(SAMPLES), "--one-case", "--json"]
    done = subprocess.run(
        intake, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return env, json.loads(done.stdout)[0]["case_id"]


def test_cases_imports_no_media_library(sample_store):
    env, _ = sample_store
    assert loaded_modules("cases", env=env) & MEDIA_LIBRARIES == set()


def test_show_imports_no_media_library(sample_store):
    env, case_id = sample_store
    modules = loaded_modules("show", case_id, env=env)
    assert modules & MEDIA_LIBRARIES == set()
    assert "sqlalchemy" in modules  # the store was really read


def test_statuses_restated_for_help_are_the_stores():
    assert CASE_STATUSES == models.CASE_STATUSES
