"""Docs that cannot drift: the CLI reference is what the commands' --help says, and every
finding the code can produce is explained in docs/findings.md with an example."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from scripts.cli_reference import REFERENCE, REGENERATE, reference

REPO = Path(__file__).resolve().parents[1]
FINDINGS_DOC = REPO / "docs" / "findings.md"


def test_cli_reference_is_up_to_date():
    assert REFERENCE.read_text(encoding="utf-8") == reference(), (
        f"docs/cli.md is out of date: run {REGENERATE}"
    )


def finding_codes() -> set[str]:
    """Every code written as a literal where a Finding is made, anywhere in the package."""
    codes = set()
    for path in (REPO / "mediacheck").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or getattr(node.func, "id", None) != "Finding":
                continue
            given = [node.args[0]] if node.args else []
            given += [k.value for k in node.keywords if k.arg == "code"]
            codes |= {a.value for a in given if isinstance(a, ast.Constant)}
    return codes


def doc_sections() -> dict[str, str]:
    """The findings doc's ``### `code` ...`` sections, by each code their heading names."""
    text = FINDINGS_DOC.read_text(encoding="utf-8")
    sections = {}
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        heading = section.splitlines()[0]
        for code in re.findall(r"`([a-z0-9-]+)`", heading):
            sections[code] = section
    return sections


def test_the_codes_are_found():
    assert {"ela", "ela-not-shown", "editing-software", "analysis-failed"} <= finding_codes()


@pytest.mark.parametrize("code", sorted(finding_codes()))
def test_every_finding_is_documented_with_an_example(code):
    sections = doc_sections()
    assert code in sections, f"docs/findings.md has no section for `{code}`"
    section = sections[code]
    shared = len(re.findall(r"`[a-z0-9-]+`", section.splitlines()[0])) > 1
    marker = f"*Example ({code}):*" if shared else "*Example:*"
    assert marker in section, f"docs/findings.md gives no example message for `{code}`"
