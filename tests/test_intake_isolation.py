"""One file's failure stays with that file: it is kept with its hashes, the batch goes on.

Real hostile files where one exists here (a picture one pixel wide, an MP4 whose
sample entry names no codec); a step made to raise where none does. Worker
processes are forked, so a step patched in this process is patched in them too.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from mediacheck.intake import describe
from mediacheck.intake.describe import KEPT
from mediacheck.match import search
from tests.conftest import Cli
from tests.corpus import CORPUS, needs_corpus
from tests.media import QUICK, photo
from tests.video_clips import write_clip

HOSTILE_SIZE = (33, 33)  # the picture the patched steps below trip on
INCOMPLETE = "kept as evidence, its analysis is incomplete"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def thin_png(path: Path) -> Path:
    Image.new("RGB", (1, 2000), (200, 30, 30)).save(path)
    return path


def codecless_mp4(path: Path) -> Path:
    """An MP4 whose video sample entry names no codec FFmpeg knows: its stream has no context."""
    clip = write_clip(path.with_suffix(".tmp.mp4"))
    path.write_bytes(clip.read_bytes().replace(b"avc1", b"qqqq"))
    clip.unlink()
    return path


def intake_json(cli: Cli, *args: object) -> tuple[int, list[dict]]:
    result = cli("intake", *args, "--json", expect=None)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def test_real_hostile_files_are_kept_and_the_batch_goes_on(cli, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    files = [
        codecless_mp4(folder / "01-codecless.mp4"),
        thin_png(folder / "02-thin.png"),
        photo(folder / "03-good.jpg"),
    ]
    code, out = intake_json(cli, folder, "--jobs", "1")
    assert [r["path"] for r in out] == [str(f) for f in files]
    for result, path in zip(out, files, strict=True):
        assert result["sha256"] == sha256(path)
        assert result["media_id"] == sha256(path)[:16]
        assert result["case_id"] is not None
        if result["status"] == "error":
            assert result["error"].startswith(f"{path}: ")
            assert "\n" not in result["error"]
    assert out[2]["status"] == "added"
    # Whether the probe raises (caught here) or refuses the stream, it cannot be described.
    assert out[0]["status"] == "error"
    assert "kept as evidence" in out[0]["error"]
    assert code == 1
    media = cli.json("show", out[0]["case_id"])["media"][0]
    assert media["errors"][0] == out[0]["error"].removeprefix(f"{files[0]}: ")
    assert cli("verify").exit_code == 0


@needs_corpus
def test_camera_raws_are_answered_and_the_batch_goes_on(cli, tmp_path):
    raws = sorted((CORPUS / "raw" / "files").iterdir())
    good = photo(tmp_path / "good.jpg")
    code, out = intake_json(cli, *raws, good, "--jobs", "1")
    assert [r["sha256"] for r in out] == [sha256(p) for p in [*raws, good]]
    assert all("\n" not in (r["error"] or "") for r in out)
    assert out[-1]["status"] == "added"
    assert code == (1 if any(r["status"] == "error" for r in out) else 0)


# step -> (what to patch, which of the two files it trips on)
STEPS = {
    "sniff": ("mediacheck.intake.describe.sniff", {"photo", "clip"}),
    "decode": ("mediacheck.intake.describe.open_picture", {"photo"}),
    "perceptual hashes": ("mediacheck.intake.describe.compute_hashes", {"photo"}),
    "metadata": ("mediacheck.intake.describe.extract_metadata", {"photo"}),
    "video probe": ("mediacheck.intake.describe.probe_video", {"clip"}),
    "keyframes": ("mediacheck.intake.describe.extract_keyframes", {"clip"}),
    "fingerprints": ("mediacheck.match.fingerprints.Probe.__init__", {"photo", "clip"}),
    "findings": ("mediacheck.intake.describe.finding_rows", {"photo", "clip"}),
    "archive search": ("mediacheck.intake.pipeline.intake_look_up", {"photo", "clip"}),
}


def _raise(*_args, **_kwargs):
    raise ZeroDivisionError("crafted input")


@pytest.mark.parametrize("step", list(STEPS))
def test_a_step_that_raises_is_recorded_on_the_media(step, tmp_path, monkeypatch):
    target, trips = STEPS[step]
    monkeypatch.setattr(target, _raise)
    cli = Cli(tmp_path / "cases")
    files = {"clip": write_clip(tmp_path / "clip.mp4"), "photo": photo(tmp_path / "photo.jpg")}
    code, out = intake_json(cli, files["clip"], files["photo"])
    assert code == 1
    for (name, path), result in zip(files.items(), out, strict=True):
        assert result["sha256"] == sha256(path)
        if name not in trips:
            assert result["status"] == "added"
            continue
        line = f"{step} failed (ZeroDivisionError: crafted input): {INCOMPLETE}"
        assert (result["status"], result["error"]) == ("error", f"{path}: {line}")
        media = cli.json("show", result["case_id"])["media"][0]
        assert media["errors"][0] == line
        failed = [f["evidence"] for f in media["findings"] if f["code"] == "analysis-failed"]
        assert {"check": step, "error": "ZeroDivisionError: crafted input"} in failed


def test_a_description_the_database_refuses_is_replaced_by_the_hashes(cli, tmp_path, monkeypatch):
    real = describe.extract_metadata

    def unstorable(path, mime, size):
        extracted = real(path, mime, size)
        extracted.metadata["raw"] = b"\xff"  # not JSON: the database driver refuses it
        return extracted

    monkeypatch.setattr(describe, "extract_metadata", unstorable)
    pic, clip = photo(tmp_path / "a.jpg"), write_clip(tmp_path / "b.mp4")
    code, out = intake_json(cli, pic, clip)
    assert code == 1
    assert out[0]["sha256"] == sha256(pic)
    # How the driver words it differs between SQLite and PostgreSQL.
    assert out[0]["error"].startswith(f"{pic}: analysis stopped: its description could not be")
    assert out[0]["error"].endswith(f"Object of type bytes is not JSON serializable): {KEPT}")
    assert out[1]["status"] == "added", out[1]
    media = cli.json("show", out[0]["case_id"])["media"][0]
    assert media["metadata"] == {}
    assert cli("verify").exit_code == 0


def test_a_new_original_joins_the_store_with_its_row(cli, tmp_path, store_dir, monkeypatch):
    real = describe.extract_metadata

    def step(path, mime, size):
        digest = sha256(path)
        if (store_dir / "originals" / digest[:2] / digest[2:4] / digest).exists():
            raise AssertionError("the original is in place before its row is written")
        return real(path, mime, size)

    monkeypatch.setattr(describe, "extract_metadata", step)
    pic = photo(tmp_path / "a.jpg")
    [result] = cli.json("intake", pic)
    assert result["status"] == "added"
    digest = sha256(pic)
    assert (store_dir / "originals" / digest[:2] / digest[2:4] / digest).read_bytes() == (
        pic.read_bytes()
    )
    assert list((store_dir / "originals" / "tmp").iterdir()) == []


def test_match_answers_every_file_when_one_breaks_a_step(cli, store, tmp_path, monkeypatch):
    good, hostile = photo(tmp_path / "good.jpg"), photo(tmp_path / "bad.jpg", size=HOSTILE_SIZE)
    real_probe = search.Probe

    def probe(image):
        if image.size == HOSTILE_SIZE:
            raise ZeroDivisionError("crafted input")
        return real_probe(image)

    monkeypatch.setattr(search, "Probe", probe)
    result = cli("match", hostile, good, "--json", expect=1)
    out = json.loads(result.stdout)
    assert out[0] == {
        "path": str(hostile),
        "matches": [],
        "error": f"{hostile}: cannot be searched: ZeroDivisionError: crafted input",
    }
    assert out[1] == {"path": str(good), "matches": []}


def test_analyze_keeps_the_failures_it_cannot_redo(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("mediacheck.intake.describe.compute_hashes", _raise)
    [result] = cli.json("intake", photo(tmp_path / "a.jpg"), expect=1)
    monkeypatch.undo()
    cli("analyze", result["case_id"])
    findings = cli.json("show", result["case_id"])["media"][0]["findings"]
    failed = [f["evidence"]["check"] for f in findings if f["code"] == "analysis-failed"]
    assert failed == ["perceptual hashes"]
    assert "jpeg-quality" in {f["code"] for f in findings}


def _hostile(effect):
    """The metadata step, doing ``effect`` on the hostile picture instead."""
    real = describe.extract_metadata

    def step(path, mime, size):
        return effect() if size == HOSTILE_SIZE else real(path, mime, size)

    return step


def _hang():
    time.sleep(600)


def _balloon():
    return bytearray(3 * 1024**3)  # more than the bound the test sets


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_that_hangs_is_stopped_and_the_next_is_stored(jobs, tmp_path, monkeypatch):
    monkeypatch.setattr(describe, "extract_metadata", _hostile(_hang))
    cli = Cli(tmp_path / "cases")
    hostile = photo(tmp_path / "01-hangs.png", size=HOSTILE_SIZE, format="PNG")
    good = photo(tmp_path / "02-good.jpg", QUICK)  # well within the bound on a loaded machine
    clip = write_clip(tmp_path / "03-clip.mp4")
    start = time.monotonic()
    code, out = intake_json(cli, hostile, good, clip, "--file-timeout", "3", "--jobs", jobs)
    assert time.monotonic() - start < 60
    assert code == 1
    stopped = f"analysis stopped: took longer than 3 s: {KEPT}"
    assert out[0]["status"] == "error"
    assert out[0]["error"] == f"{hostile}: {stopped}"
    assert (out[0]["sha256"], out[0]["kind"], out[0]["mime"]) == (
        sha256(hostile),
        "image",
        "image/png",
    )
    assert [r["status"] for r in out[1:]] == ["added", "added"]
    media = cli.json("show", out[0]["case_id"])["media"][0]
    assert media["errors"] == [stopped]
    assert media["hashes"] == {}
    [failed] = media["findings"]
    assert failed["evidence"] == {
        "check": "analysis",
        "error": "TimeLimitExceeded: took longer than 3 s",
    }


@pytest.mark.slow
def test_a_file_that_needs_too_much_memory_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(describe, "extract_metadata", _hostile(_balloon))
    cli = Cli(tmp_path / "cases")
    hostile = photo(tmp_path / "01-balloons.png", size=HOSTILE_SIZE, format="PNG")
    clip = write_clip(tmp_path / "02-clip.mp4")
    code, out = intake_json(cli, hostile, clip, "--file-memory-mb", "1500", "--jobs", "1")
    assert code == 1
    assert out[0]["error"] == (
        f"{hostile}: analysis stopped: needed more than 1500 MB of memory: {KEPT}"
    )
    assert out[0]["sha256"] == sha256(hostile)
    assert out[1]["status"] == "added", out[1]


@pytest.mark.slow
def test_a_decoder_that_crashes_its_worker_takes_only_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(describe, "extract_metadata", _hostile(os.abort))
    cli = Cli(tmp_path / "cases")
    hostile = photo(tmp_path / "01-crashes.png", size=HOSTILE_SIZE, format="PNG")
    good = photo(tmp_path / "02-good.jpg", QUICK)
    code, out = intake_json(cli, hostile, good, "--jobs", "1")
    assert code == 1
    assert out[0]["error"] == (
        f"{hostile}: analysis stopped: its worker process was ended by SIGABRT "
        f"(out of memory, or a decoder crashed): {KEPT}"
    )
    assert out[1]["status"] == "added", out[1]


def test_bounds_are_checked_options(cli, tmp_path):
    pic = photo(tmp_path / "a.jpg")
    assert "--file-timeout" in cli("intake", pic, "--file-timeout", "0", expect=2).output
    assert "--file-memory-mb" in cli("intake", pic, "--file-memory-mb", "10", expect=2).output


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killing_the_parent_ends_its_workers(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    for i in range(6):
        photo(folder / f"p{i}.jpg", size=(3000, 2000), seed=i)
    env = dict(os.environ, MEDIACHECK_HOME=str(tmp_path / "cases"), MEDIACHECK_DATABASE_URL="")
    parent = subprocess.Popen(
        [sys.executable, "-m", "mediacheck", "intake", str(folder), "--jobs", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(workers := _children(parent.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(workers) == 2, "the intake never started its two workers"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)


def test_a_keyframes_probe_leaves_the_worker_with_every_view_as_a_photos_does():
    """The parent searches for every worker's files in turn: a video's keyframe reaches it
    with its views worked out and its grey copies let go, byte for byte as a photo's."""
    from tests.test_matching import _scene

    picture = _scene(3)
    keyframe = describe._probe_or_failure(picture)  # what the saving threads make
    ((_, photo),) = search.picture_probes([search.PictureOf(None, picture)])
    assert pickle.dumps(keyframe) == pickle.dumps(photo)
    assert keyframe.enlarged_keypoints is not None and len(keyframe.mirror_keypoints)
