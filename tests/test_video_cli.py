"""Videos through intake, show and keyframes: the store, the database and the CLI together."""

from pathlib import Path

import pytest
from PIL import Image

from mediacheck.media.video.probe import VIDEO_KEYS
from tests.corpus import FILES, needs_corpus
from tests.video_clips import iphone_video, write_audio, write_clip

IPHONE = FILES / "mde" / "with-gps.mov"
IPHONE_SHA = "385b236e314933a9fd37881b75571ea8bcfaae4e86fc1e708fff526897dfa55c"
DERIVED = f"derived/38/{IPHONE_SHA}"


@needs_corpus
def test_video_intake_and_show_json(cli, store_dir):
    [result] = cli.json("intake", IPHONE)
    assert (result["status"], result["kind"], result["mime"]) == (
        "added",
        "video",
        "video/quicktime",
    )
    [media] = cli.json("show", result["case_id"])["media"]
    assert media["video"] == iphone_video(media["video"]["bit_rate"])
    assert {key: media["summary"][key] for key in VIDEO_KEYS} == media["video"]
    assert (media["width"], media["height"]) == (568, 320)
    assert media["errors"] == []
    assert media["metadata"]["format"]["tags"]["com.apple.quicktime.model"] == "iPhone 6"
    assert [(k["time_s"], k["path"]) for k in media["keyframes"]] == [
        (0.0, f"{DERIVED}/keyframe-0000-000000.000s.jpg"),
        (1.0, f"{DERIVED}/keyframe-0001-000001.000s.jpg"),
        (2.002, f"{DERIVED}/keyframe-0002-000002.002s.jpg"),
        (3.002, f"{DERIVED}/keyframe-0003-000003.002s.jpg"),
    ]
    assert all(set(k) == {"time_s", "path", "hashes"} for k in media["keyframes"])
    assert all(set(k["hashes"]) == {"phash", "dhash", "pdq"} for k in media["keyframes"])
    assert media["contact_sheet"] == f"{DERIVED}/contact-sheet.jpg"
    with Image.open(store_dir / media["keyframes"][0]["path"]) as first:
        assert first.size == (320, 568)  # turned upright
    assert (store_dir / media["contact_sheet"]).is_file()


@needs_corpus
def test_show_lists_keyframes_with_timestamps(cli):
    [result] = cli.json("intake", IPHONE)
    shown = cli("show", result["case_id"]).stdout
    assert "\n  keyframes\n" in shown
    assert f"    0:00:02.002      {DERIVED}/keyframe-0002-000002.002s.jpg\n" in shown
    assert f"    contact sheet    {DERIVED}/contact-sheet.jpg\n" in shown
    assert "    rotation         90\n" in shown


@needs_corpus
def test_same_video_twice_keeps_one_set_of_keyframes(cli, store):
    [first] = cli.json("intake", IPHONE)
    [again] = cli.json("intake", IPHONE, "--case", first["case_id"])
    assert again["status"] == "already-stored"
    assert len(store.keyframes(first["media_id"])) == 4


@pytest.mark.slow  # worker processes
def test_videos_prepared_in_worker_processes(cli, tmp_path):
    clips = [write_clip(tmp_path / "a.mkv"), write_clip(tmp_path / "b.mkv", cut_at=0)]
    results = cli.json("intake", *clips, "--one-case", "--jobs", "2")
    assert [r["status"] for r in results] == ["added", "added"]
    media = cli.json("show", results[0]["case_id"])["media"]
    assert [[k["time_s"] for k in m["keyframes"]] for m in media] == [[0.0, 1.0, 2.0]] * 2
    assert all(m["contact_sheet"] for m in media)


def test_audio_only_file_is_audio_with_metadata_only(cli, tmp_path):
    [result] = cli.json("intake", write_audio(tmp_path / "voice.m4a"))
    assert (result["status"], result["kind"]) == ("added", "audio")
    [media] = cli.json("show", result["case_id"])["media"]
    assert media["video"]["audio_codec"] == "aac"
    assert media["video"]["video_codec"] is None
    assert (media["keyframes"], media["contact_sheet"], media["errors"]) == ([], None, [])


def test_video_ffmpeg_cannot_open_is_kept_as_evidence(cli, tmp_path, store_dir):
    whole = write_clip(tmp_path / "whole.mp4", seconds=6)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    [result] = cli.json("intake", cut, expect=1)
    assert (result["status"], result["kind"], result["mime"]) == ("error", "video", "video/mp4")
    assert result["error"] == (
        f"{cut}: FFmpeg cannot open it (Invalid data found when processing input): "
        "kept as evidence with its hashes only"
    )
    sha = result["sha256"]
    assert (store_dir / "originals" / sha[:2] / sha[2:4] / sha).read_bytes() == cut.read_bytes()


def test_truncated_video_keeps_what_decodes(cli, tmp_path):
    whole = write_clip(tmp_path / "whole.mkv", seconds=6)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    [result] = cli.json("intake", cut)
    assert result["status"] == "added"
    [media] = cli.json("show", result["case_id"])["media"]
    assert [k["time_s"] for k in media["keyframes"]] == [0.0, 1.0, 2.0]
    assert media["errors"][0].startswith("video data ends at 2.")


def test_keyframes_command_exports_for_reverse_search(cli, tmp_path):
    clip = write_clip(tmp_path / "clip.mkv", tags={"title": "../../escape"})
    [result] = cli.json("intake", clip)
    case_id, media_id = result["case_id"], result["media_id"]
    out = tmp_path / "upload"
    doc = cli.json("keyframes", case_id, "-o", out)
    prefix = f"{case_id}_{media_id}"
    assert doc["case_id"] == case_id
    assert doc["out_dir"] == str(out)
    assert doc["problems"] == []
    assert [(p["kind"], p["time_s"], p["file"]) for p in doc["pictures"]] == [
        ("keyframe", 0.0, f"{prefix}_000000.000s.jpg"),
        ("keyframe", 1.0, f"{prefix}_000001.000s.jpg"),
        ("keyframe", 2.0, f"{prefix}_000002.000s.jpg"),
        ("contact_sheet", None, f"{prefix}_contact-sheet.jpg"),
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(p["file"] for p in doc["pictures"])
    shown = cli("keyframes", case_id, "-o", out).stdout
    assert f"{media_id}    0:00:01.000  {prefix}_000001.000s.jpg\n" in shown
    assert shown.endswith(f"4 pictures copied to {out}\n")


def test_keyframes_command_names_a_missing_picture(cli, tmp_path, store_dir):
    [result] = cli.json("intake", write_clip(tmp_path / "clip.mkv"))
    [media] = cli.json("show", result["case_id"])["media"]
    (store_dir / media["keyframes"][1]["path"]).unlink()
    outcome = cli("keyframes", result["case_id"], "-o", tmp_path / "out", expect=1)
    assert outcome.stderr == f"error: {media['keyframes'][1]['path']}: missing from the store\n"
    assert outcome.stdout.endswith("3 pictures copied to " + str(tmp_path / "out") + "\n")


def test_keyframes_command_unknown_case(cli, store, tmp_path):
    outcome = cli("keyframes", "MC-1999-0001", "-o", tmp_path / "out", expect=1)
    assert outcome.stderr == "Error: no case 'MC-1999-0001' in this store\n"


def test_keyframes_default_folder(cli, tmp_path, monkeypatch):
    [result] = cli.json("intake", write_clip(tmp_path / "clip.mkv"))
    monkeypatch.chdir(tmp_path)
    doc = cli.json("keyframes", result["case_id"])
    assert doc["out_dir"] == f"{result['case_id']}-keyframes"
    assert len(list(Path(tmp_path, doc["out_dir"]).iterdir())) == 4
