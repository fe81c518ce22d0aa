"""Names and metadata from hostile files reach the terminal escaped, never as control codes."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

from mediacheck.cli.output import inert
from tests.media import photo

SET_TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
HYPERLINK = "\x1b]8;;http://evil\x1b\\"
HOSTILE = f"Canon{SET_TITLE}{CLEAR}{HYPERLINK}\nforged line\u202egpj.exe\x9b31m\x7f"
# What a terminal would obey: ESC, BEL, a newline inside a value, RLO, C1 CSI, DEL.
ACTIVE = ("\x1b", "\x07", "\u202e", "\x9b", "\x7f")
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description>'
    "<dc:title><rdf:Alt><rdf:li>title\nforged line\u202e\x9b2J</rdf:li></rdf:Alt></dc:title>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def hostile_jpeg(path: Path) -> Path:
    """A photo whose EXIF Make, Model and Software and XMP title carry terminal escapes."""
    source = photo(io.BytesIO(), format="PNG")  # type: ignore[arg-type]
    exif = Image.Exif()
    exif[271], exif[272], exif[305] = HOSTILE, f"Model{CLEAR}", f"Software{SET_TITLE}"
    with Image.open(source) as img:
        img.save(path, "JPEG", exif=exif, xmp=XMP.encode())
    return path


def assert_inert(output: str) -> None:
    for char in ACTIVE:
        assert char not in output, f"{char!r} reached the terminal: {output!r}"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (SET_TITLE, "\\x1b]0;pwned\\x07"),
        (CLEAR, "\\x1b[2J"),
        (HYPERLINK, "\\x1b]8;;http://evil\\x1b\\"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\u202eexe.jpg\u2066\u2069\u200f", "\\u202eexe.jpg\\u2066\\u2069\\u200f"),
        ("\x9b31m\x85\x7f\x00", "\\x9b31m\\x85\\x7f\\x00"),
        ("caf\udce9.jpg", "caf\\xe9.jpg"),  # an undecodable byte of a file name
        ("Åland 東京 ok", "Åland 東京 ok"),
    ],
)
def test_inert_escapes_what_a_terminal_obeys(raw, shown):
    assert inert(raw) == shown


def test_hostile_metadata_and_name_through_intake_show_cases_history(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    name = f"evil{SET_TITLE}\nforged\u202e.jpg"
    hostile_jpeg(folder / name)

    took = cli("intake", folder)
    assert_inert(took.output)
    assert took.output.count("\n") == 1  # one file, one line, whatever its name holds
    assert "evil\\x1b]0;pwned\\x07\\nforged\\u202e.jpg" in took.output
    case_id = took.output.split()[1]

    shown = cli("show", case_id)
    assert_inert(shown.output)
    assert (
        "Canon\\x1b]0;pwned\\x07\\x1b[2J\\x1b]8;;http://evil\\x1b\\\\nforged line" in shown.output
    )
    assert "Model\\x1b[2J" in shown.output
    assert "forged line" not in shown.output.splitlines()
    for command in (("cases",), ("history", case_id), ("verify", case_id)):
        result = cli(*command)
        assert_inert(result.output)
        assert "forged" not in [line.strip() for line in result.output.splitlines()]


def test_json_stays_exact_and_inert(cli, tmp_path):
    path = hostile_jpeg(tmp_path / "hostile.jpg")
    case_id = cli.json("intake", path)[0]["case_id"]
    raw = cli("show", case_id, "--json").stdout
    assert_inert(raw)
    doc = json.loads(raw)
    # EXIF text is ASCII: Pillow wrote "?" for the two non-ASCII characters.
    assert doc["media"][0]["summary"]["make"] == HOSTILE.encode("ascii", "replace").decode()
    assert "\\u202e" in raw and "\\u009b" in raw


def test_error_lines_are_inert(cli, tmp_path):
    missing = tmp_path / f"gone{SET_TITLE}\n\u202e.jpg"
    result = cli("intake", missing, expect=1)
    assert_inert(result.output)
    assert result.output.count("\n") == 1
    assert "gone\\x1b]0;pwned\\x07\\n\\u202e.jpg: no such file or directory" in result.output
    shown = cli("show", f"MC{SET_TITLE}\u202e", expect=1)
    assert_inert(shown.output)


def test_a_name_that_is_not_utf8_is_stored_and_shown_escaped(cli, tmp_path):
    path = tmp_path / os.fsdecode(b"caf\xe9\x1b[2J.jpg")
    photo(path)
    took = cli("intake", path, "--json")
    assert "caf\\udce9\\u001b[2J.jpg" in took.stdout
    case_id = json.loads(took.stdout)[0]["case_id"]
    doc = cli.json("show", case_id)
    assert doc["media"][0]["original_name"] == "caf\\xe9\x1b[2J.jpg"
    shown = cli("show", case_id)
    assert_inert(shown.output)
    assert "caf\\xe9\\x1b[2J.jpg" in shown.output


def test_errors_naming_a_hostile_file_are_inert(cli, tmp_path):
    missing = cli("import", tmp_path / f"bundle{SET_TITLE}.zip", expect=2)
    assert_inert(missing.output)
    assert "bundle\\x1b]0;pwned\\x07.zip" in missing.output
    junk = tmp_path / f"junk{CLEAR}\n.zip"
    junk.write_bytes(b"not a zip")
    refused = cli("import", junk, expect=1)
    assert_inert(refused.output)
    assert "junk\\x1b[2J\\n.zip" in refused.output


def intake_on_a_terminal(tmp_path: Path, results_too: bool) -> tuple[int, bytes, str]:
    """Three photos taken in with stderr on a pseudo-terminal, and stdout too if ``results_too``.

    Returns the exit code, what went to a piped stdout, and what the terminal received.
    """
    files = [photo(tmp_path / f"{i}.jpg", seed=i) for i in range(3)]
    env = {
        **os.environ,
        "MEDIACHECK_HOME": str(tmp_path / "cases"),
        "MEDIACHECK_USER": "alice",
        "MEDIACHECK_DATABASE_URL": "",
        "TERM": "xterm-256color",
        "COLUMNS": "200",
    }
    terminal, its_side = pty.openpty()
    # The terminal is read while intake runs: a terminal nobody reads fills up, and a
    # slow intake's progress bar would then block on it.
    shown: list[str] = []
    reader = threading.Thread(target=lambda: shown.append(_drain(terminal)))
    reader.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mediacheck", "intake", *map(str, files), "--jobs", "1"],
            stdout=its_side if results_too else subprocess.PIPE,
            stderr=its_side,
            env=env,
            timeout=300,
            check=False,
        )
    finally:
        os.close(its_side)
        reader.join()
    return done.returncode, done.stdout or b"", shown[0]


def test_progress_shows_on_a_terminal_and_never_mixes_with_results(tmp_path):
    returncode, piped, shown = intake_on_a_terminal(tmp_path, results_too=False)
    assert returncode == 0
    results = piped.decode()
    assert [line.split()[0] for line in results.splitlines()] == ["added"] * 3
    assert "\x1b" not in results
    assert "Taking in" in shown


def _drain(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side is closed and everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def test_results_never_stick_to_the_progress_bar_on_one_terminal(tmp_path):
    """stdout and stderr on the same terminal, as a fact-checker runs it."""
    returncode, _, written = intake_on_a_terminal(tmp_path, results_too=True)
    assert returncode == 0
    assert "Taking in" in written  # the bar was drawn...
    screen = [line.rstrip() for line in _screen(written) if line.strip()]
    # ...and what is left on the screen is the three result lines, each on its own.
    assert [line.split()[0] for line in screen] == ["added"] * 3, screen
    names = [str(tmp_path / f"{i}.jpg") for i in range(3)]
    assert [line.split()[4] for line in screen] == names


CONTROL = re.compile(r"(\x1b\[[0-9;?]*[A-Za-z]|\r|\n)")


def _screen(written: str) -> list[str]:
    """The lines a terminal shows after ``written``: carriage returns, line erases, cursor up."""
    lines, row, col = [""], 0, 0
    for token in CONTROL.split(written):
        if token == "\r":
            col = 0
        elif token == "\n":
            row, col = row + 1, 0
            lines.extend([""] * (row + 1 - len(lines)))
        elif token.startswith("\x1b["):
            if token.endswith("K"):
                lines[row] = "" if token == "\x1b[2K" else lines[row][:col]
            elif token.endswith("A"):
                row = max(0, row - int(token[2:-1] or 1))
        elif token:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    return lines
