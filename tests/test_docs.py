"""Docs that cannot drift: the CLI reference is what the commands' --help says."""

from __future__ import annotations

from scripts.cli_reference import REFERENCE, REGENERATE, reference


def test_cli_reference_is_up_to_date():
    assert REFERENCE.read_text(encoding="utf-8") == reference(), (
        f"docs/cli.md is out of date: run {REGENERATE}"
    )
