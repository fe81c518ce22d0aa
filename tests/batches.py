"""Run a folder of files through the real ``mediacheck intake`` and check its promises.

Used by the fuzz test and by ``scripts/fuzz_intake.py``: every input has a
result, no traceback and no library noise reach stderr, the exit code is 0 or
1, the unmutated files of the batch are stored, and the batch ends within its
time bound.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STORED = {"added", "already-stored"}
# Corpus files that intake takes in cleanly (status "added"), one or more of each format:
# mixed into every batch, they must come out stored whatever the mutants beside them do.
CLEAN_ORIGINALS = (
    "elodie/photo.png",
    "elodie/with-location.jpg",
    "exifr/Bush-dog.tif",
    "exifr/avif/Irvine_CA.avif",
    "exifr/heic-single.heic",
    "exifr/issue-exifr-13.jpg",
    "exifr/orientation/f6t.jpg",
    "exifr/png/png_with_exif_and_gps.png",
    "exifr/tif-with-iptc-icc-xmp.tif",
    "exifr/webp/VRChat_2023-02-19_00-04-01.274_2160x3840.webp",
    "mde/photoshop-8x12-rgb24-all-metadata.png",
    "mde/withExif.jpg",
    "mde/withIptc.jpg",
    "mde/withXmp.jpg",
)
# The last frame of a traceback that lies in our package says where to look first.
FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')
EXCEPTION = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Warning|error|Exit|Interrupt))"
)


@dataclass(frozen=True)
class Problem:
    kind: str  # traceback, timeout, exit-code, missing-result, not-stored, stderr-noise
    signature: str  # what makes two failures the same one
    message: str


@dataclass
class BatchOutcome:
    names: list[str]  # file names in the folder
    originals: set[str]  # the unmutated ones among them
    exit_code: int | None  # None: killed at the time bound
    stdout: str
    stderr: str
    seconds: float
    problems: list[Problem] = field(default_factory=list)


def run_intake(folder: Path, store: Path, originals: set[str], timeout: float) -> BatchOutcome:
    """``mediacheck intake FOLDER --json --jobs 1`` in a child process, checked."""
    names = sorted(p.name for p in folder.iterdir())
    command = [sys.executable, "-m", "mediacheck", "intake", str(folder), "--json"]
    env = {**os.environ, "MEDIACHECK_HOME": str(store), "MEDIACHECK_USER": "fuzz"}
    env.pop("MEDIACHECK_DATABASE_URL", None)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*command, "--jobs", "1"],
            capture_output=True,
            text=True,
            errors="replace",
            env=env,
            cwd=REPO,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        outcome = BatchOutcome(names, originals, None, "", _text(exc.stderr), timeout)
        outcome.problems.append(Problem("timeout", "timeout", f"no answer in {timeout:.0f} s"))
        return outcome
    outcome = BatchOutcome(
        names, originals, done.returncode, done.stdout, done.stderr, time.monotonic() - started
    )
    outcome.problems.extend(check(outcome))
    return outcome


# Takes in each file named on the command line on its own, in one process, with markers
# between them on both streams: a batch that failed is then pinned on the files that fail.
SINGLY = """
import os, sys, traceback
from mediacheck.cli import main
for path, store in zip(sys.argv[1::2], sys.argv[2::2]):
    os.environ["MEDIACHECK_HOME"] = store
    for fd in (1, 2):
        sys.stdout.flush(), sys.stderr.flush()
        os.write(fd, ("\\n%s %s\\n" % (MARK, os.path.basename(path))).encode())
    try:
        main(["intake", path, "--json", "--jobs", "1"], prog_name="mediacheck")
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
        code = None
    sys.stdout.flush(), sys.stderr.flush()
    os.write(2, ("\\n%s-exit %s\\n" % (MARK, code)).encode())
"""
MARK = "@@@mediacheck-fuzz@@@"


def run_singly(folder: Path, stores: Path, timeout: float) -> dict[str, BatchOutcome]:
    """Each file of ``folder`` taken in alone (into its own store), checked as a batch of one."""
    names = sorted(p.name for p in folder.iterdir())
    argv = [arg for n in names for arg in (str(folder / n), str(stores / n))]
    code = f"MARK = {MARK!r}\n{SINGLY}"
    env = {**os.environ, "MEDIACHECK_USER": "fuzz"}
    env.pop("MEDIACHECK_DATABASE_URL", None)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *argv],
            capture_output=True,
            text=True,
            errors="replace",
            env=env,
            cwd=REPO,
            timeout=timeout,
        )
        stdout, stderr = done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        stdout, stderr = _text(exc.stdout), _text(exc.stderr)
    outs, errs = _sections(stdout), _sections(stderr)
    outcomes = {}
    for name in names:
        if name not in errs:
            continue  # never reached: the file before it hung
        err, _, status = errs[name].rpartition(f"\n{MARK}-exit ")
        outcome = BatchOutcome([name], set(), None, outs.get(name, ""), err, 0.0)
        if not status:  # the process was killed while this file was being taken in
            outcome.stderr = errs[name]
            outcome.problems.append(Problem("timeout", "timeout", f"{name}: no answer in time"))
        else:
            code = status.strip()
            outcome.exit_code = int(code) if code.isdigit() else None
            outcome.problems.extend(check(outcome))
        outcomes[name] = outcome
    return outcomes


def _sections(stream: str) -> dict[str, str]:
    sections = {}
    for part in stream.split(f"\n{MARK} ")[1:]:
        name, _, body = part.partition("\n")
        sections[name] = body
    return sections


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


def check(outcome: BatchOutcome) -> list[Problem]:
    if "Traceback (most recent call last)" in outcome.stderr:
        return [traceback_problem(outcome.stderr)]
    problems = [
        Problem("stderr-noise", _normalise(line), line)
        for line in outcome.stderr.splitlines()
        if line.strip() and not line.startswith(("error: ", " "))
    ]
    if outcome.exit_code not in (0, 1):
        problems.append(
            Problem("exit-code", f"exit {outcome.exit_code}", f"exit code {outcome.exit_code}")
        )
    try:
        results = json.loads(outcome.stdout)
    except json.JSONDecodeError:
        return [*problems, Problem("missing-result", "no JSON", "stdout is not JSON")]
    answered = {Path(r["path"]).name: r for r in results}
    for name in outcome.names:
        result = answered.get(name)
        if result is None:
            problems.append(Problem("missing-result", "no result", f"{name}: no result"))
        elif name in outcome.originals and result["status"] not in STORED:
            message = f"unmutated {name}: {result['status']} ({result.get('error')})"
            problems.append(Problem("not-stored", "unmutated file not stored", message))
    return problems


def traceback_problem(stderr: str) -> Problem:
    """The exception type and the innermost frame of our own code, from a printed traceback."""
    lines = stderr.splitlines()
    frames = [m for line in lines if (m := FRAME.match(line))]
    ours = [m for m in frames if "/mediacheck/" in m["file"]] or frames
    where = "?"
    if ours:
        last = ours[-1]
        where = f"{_short(last['file'])}:{last['line']} in {last['func']}"
    kind = next(
        (m["type"] for line in reversed(lines) if (m := EXCEPTION.match(line))), "exception"
    )
    final = next((line for line in reversed(lines) if line.strip()), "")
    return Problem("traceback", f"{kind} at {where}", f"{kind} at {where}: {final[:300]}")


def _short(path: str) -> str:
    marker = "/mediacheck/"
    return "mediacheck/" + path.rsplit(marker, 1)[1] if marker in path else path


def _normalise(line: str) -> str:
    """Noise from one library differs in numbers and names; its shape is what repeats."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"|/\S+", "_", line))[:160]
