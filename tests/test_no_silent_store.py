"""Only intake and import make a case store: any other command on a mistyped one says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.media import photo

CASE = "MC-2026-0001"


def commands(tmp_path: Path) -> list[list[str]]:
    picture = photo(tmp_path / "p.jpg")
    return [
        ["cases"],
        ["show", CASE],
        ["show", CASE, "--json"],
        ["history", CASE],
        ["match", str(picture)],
        ["verify"],
        ["report", CASE],
        ["export", CASE, "-o", str(tmp_path / "case.zip")],
        ["export", "--all", "-o", str(tmp_path / "all.jsonl")],
        ["note", CASE, "a note"],
        ["verdict", "propose", CASE, "StagedContent", "--rationale", "x"],
        ["case", "set", CASE, "--title", "t"],
        ["analyze", CASE],
        ["keyframes", CASE, "-o", str(tmp_path / "frames")],
        ["links", CASE],
        ["db", "current"],
        ["db", "upgrade"],
    ]


def test_a_mistyped_store_is_refused_by_every_command_and_never_made(cli, tmp_path, db_url):
    mistyped = tmp_path / "mistyped" / "path"
    wrong = Cli(mistyped, db_url=db_url)
    for args in commands(tmp_path):
        result = wrong(*args, expect=1)
        assert result.stderr == (
            f"Error: no case store at {mistyped} (set MEDIACHECK_HOME or --store)\n"
        ), args
        assert result.stdout == ""
    assert not mistyped.parent.exists()
    # --store names it the same way, and the message names what was typed.
    typed = cli("cases", "--store", "elsewhere/cases", expect=1)
    assert (
        typed.stderr == "Error: no case store at elsewhere/cases (set MEDIACHECK_HOME or --store)\n"
    )


@pytest.mark.parametrize("make", ["intake", "import"])
def test_intake_and_import_make_the_store(cli, tmp_path, store_dir, make):
    if make == "intake":
        cli("intake", photo(tmp_path / "p.jpg"))
    else:
        source = Cli(tmp_path / "source")
        [taken] = source.json("intake", photo(tmp_path / "p.jpg"))
        source("export", taken["case_id"], "-o", tmp_path / "case.zip")
        cli("import", tmp_path / "case.zip")
    assert store_dir.is_dir()
    assert len(cli.json("cases")) == 1
