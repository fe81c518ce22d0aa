import json
import os
import shutil
from pathlib import Path

import click
import imagehash
import pytest
from click.testing import CliRunner
from PIL import Image

from mediacheck.cli import main
from mediacheck.media.hashes import compute_hashes, hamming
from mediacheck.media.pictures import open_picture
from tests import bombs
from tests.corpus import FILES, manifest, needs_corpus
from tests.media import photo, png_bomb
from tests.raws import RAWS, nef_with_preview, preview_jpeg
from tests.video_clips import write_clip

CANON = FILES / "exifr" / "canon-dslr.jpg"


def sha256_of(rel: str) -> str:
    return next(row["sha256"] for row in manifest() if row["file"] == rel)


@needs_corpus
def test_intake_one_file_with_case_fields(cli):
    out = cli.json(
        "intake",
        CANON,
        "--title",
        "IVIC building hit",
        "--claim",
        "Two missiles hit the IVIC server building",
        "--source-url",
        "https://t.me/somechannel/1234",
        "--platform",
        "telegram",
        "--posted-at",
        "2026-01-03T06:10:00Z",
        "--tag",
        "strike",
        "--tag",
        "caracas",
    )
    assert len(out) == 1
    result = out[0]
    sha = sha256_of("exifr/canon-dslr.jpg")
    assert result == {
        "path": str(CANON),
        "status": "added",
        "case_id": result["case_id"],
        "media_id": sha[:16],
        "sha256": sha,
        "kind": "image",
        "mime": "image/jpeg",
        "error": None,
        "cases": [],
        "seen_before": [],
        "problems": [],
        "timestamp": None,
    }
    doc = cli.json("show", result["case_id"])
    assert doc["title"] == "IVIC building hit"
    assert doc["claim"] == "Two missiles hit the IVIC server building"
    assert doc["source_url"] == "https://t.me/somechannel/1234"
    assert doc["platform"] == "telegram"
    assert doc["posted_at"] == "2026-01-03T06:10:00+00:00"
    assert doc["status"] == "open"
    assert doc["tags"] == ["strike", "caracas"]
    assert doc["created_by"] == "alice"
    [media] = doc["media"]
    assert media["sha256"] == sha
    assert media["size"] == CANON.stat().st_size
    assert media["original_name"] == "canon-dslr.jpg"
    assert (media["width"], media["height"]) == (5184, 3456)
    assert set(media["hashes"]) == {"phash", "dhash", "ahash", "whash", "colorhash", "pdq"}
    assert len(media["hashes"]["pdq"]) == 64
    assert media["summary"]["make"] == "Canon"
    assert media["summary"]["width"] == 5184
    assert media["added_by"] == "alice"


@needs_corpus
def test_stored_original_is_byte_identical_and_read_only(cli, store_dir):
    [result] = cli.json("intake", CANON)
    stored = (
        store_dir / "originals" / result["sha256"][:2] / result["sha256"][2:4] / result["sha256"]
    )
    assert stored.read_bytes() == CANON.read_bytes()
    assert not os.access(stored, os.W_OK) or os.geteuid() == 0
    assert oct(stored.stat().st_mode & 0o777) == "0o444"


def test_same_bytes_twice_is_already_stored_and_linked(cli, tmp_path):
    pic = photo(tmp_path / "a.jpg")
    copy = tmp_path / "copy-of-a.jpg"
    copy.write_bytes(pic.read_bytes())
    [first] = cli.json("intake", pic)
    [second] = cli.json("intake", copy, "--case", first["case_id"])
    [third] = cli.json("intake", copy)
    assert first["status"] == "added"
    assert second["status"] == "already-stored"
    assert second["media_id"] == first["media_id"]
    # Without --case the same bytes are no new story: reported, added to no case.
    assert (third["status"], third["case_id"], third["cases"]) == (
        "already-stored",
        None,
        [first["case_id"]],
    )
    assert len(cli.json("cases")) == 1
    [fourth] = cli.json("intake", copy, "--new-case")
    assert fourth["status"] == "already-stored"
    assert fourth["case_id"] != first["case_id"]
    doc = cli.json("show", fourth["case_id"])
    assert [m["original_name"] for m in doc["media"]] == ["copy-of-a.jpg"]
    usage = cli("intake", copy, "--new-case", "--case", first["case_id"], expect=2)
    assert "--case adds to an existing case" in usage.stderr


def test_folder_into_existing_case_recurses_in_order(cli, tmp_path):
    [seed] = cli.json("intake", photo(tmp_path / "seed.jpg", seed=1))
    folder = tmp_path / "fragments"
    (folder / "sub").mkdir(parents=True)
    photo(folder / "b.png", seed=2, format="PNG")
    photo(folder / "a.jpg", seed=3)
    photo(folder / "sub" / "c.webp", seed=4, format="WEBP")
    out = cli.json("intake", folder, "--case", seed["case_id"])
    assert [Path(r["path"]).name for r in out] == ["a.jpg", "b.png", "c.webp"]
    assert {r["case_id"] for r in out} == {seed["case_id"]}
    assert [r["mime"] for r in out] == ["image/jpeg", "image/png", "image/webp"]
    doc = cli.json("show", seed["case_id"])
    assert len(doc["media"]) == 4


def test_a_folder_holding_the_store_does_not_take_in_the_store(cli, tmp_path, store_dir):
    # The store (originals, derived pictures, on SQLite its database) is below tmp_path.
    cli.json("intake", photo(tmp_path / "first.jpg", seed=1))
    photo(tmp_path / "second.jpg", seed=2)
    out = cli.json("intake", tmp_path, "--one-case")
    assert [(Path(r["path"]).name, r["status"]) for r in out] == [
        ("first.jpg", "already-stored"),
        ("second.jpg", "added"),
    ]


def test_unknown_case_stores_nothing(cli, tmp_path, store_dir):
    result = cli("intake", photo(tmp_path / "a.jpg"), "--case", "MC-2026-9999", expect=1)
    assert result.stderr.strip() == "Error: no case 'MC-2026-9999' in this store"
    originals = store_dir / "originals"
    assert not originals.exists() or not any(p.is_file() for p in originals.rglob("*"))


def test_bad_files_each_get_one_line_and_good_files_are_kept(cli, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    good = photo(folder / "01-good.jpg")
    (folder / "02-empty.jpg").write_bytes(b"")
    (folder / "03-truncated.jpg").write_bytes(good.read_bytes()[:4000])
    (folder / "04-text.jpg").write_text("this is not a picture\n")
    (folder / "05-random.bin").write_bytes(bytes(range(256)) * 8)
    png_bomb(folder / "06-bomb.png")
    os.symlink(good, folder / "07-link.jpg")
    missing = tmp_path / "nowhere.jpg"

    result = cli("intake", folder, missing, "--json", expect=1)
    import json

    out = {Path(r["path"]).name: r for r in json.loads(result.stdout)}
    assert out["01-good.jpg"]["status"] == "added"
    assert out["02-empty.jpg"]["status"] == "error"
    assert out["02-empty.jpg"]["error"].endswith("02-empty.jpg: file is empty (0 bytes)")
    assert out["02-empty.jpg"]["media_id"] is None
    assert out["03-truncated.jpg"]["status"] == "error"
    assert out["03-truncated.jpg"]["media_id"] is not None  # kept as evidence
    assert "truncated" in out["03-truncated.jpg"]["error"]
    assert out["04-text.jpg"]["mime"] == "text/plain"
    assert out["04-text.jpg"]["kind"] == "other"
    assert out["04-text.jpg"]["error"].endswith(
        "04-text.jpg: content is text, not a picture or video: "
        "kept as evidence with its hashes only"
    )
    assert out["05-random.bin"]["error"].endswith(
        "unsupported format (application/octet-stream): kept as evidence with its hashes only"
    )
    assert out["06-bomb.png"]["status"] == "error"
    assert "decompression bomb refused" in out["06-bomb.png"]["error"]
    assert out["06-bomb.png"]["sha256"] is not None
    assert out["07-link.jpg"]["status"] == "already-stored"
    assert out["07-link.jpg"]["cases"] == [out["01-good.jpg"]["case_id"]]
    assert out["nowhere.jpg"]["error"].endswith("nowhere.jpg: no such file or directory")

    human = cli("intake", folder / "02-empty.jpg", folder / "04-text.jpg", expect=1)
    errors = [line for line in human.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert "Traceback" not in human.output

    [linked] = cli.json("intake", folder / "07-link.jpg", "--new-case")
    doc = cli.json("show", linked["case_id"])
    assert doc["media"][0]["was_symlink"] is True


@needs_corpus
def test_camera_raws_and_pixel_bombs_each_get_their_answer(cli, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    for raw in sorted(RAWS.iterdir()):
        shutil.copy(raw, folder / raw.name)
    nef_with_preview(folder, preview_jpeg((900, 600), tmp_path))
    bombs.png(folder / "bomb-rgb.png")
    bombs.png(folder / "bomb-one-row.png", rows=1)

    result = cli("intake", folder, "--json", expect=1)
    out = {Path(r["path"]).name: r for r in json.loads(result.stdout)}
    kept = ": kept as evidence with its hashes only"
    assert {name: (r["kind"], r["mime"], r["error"]) for name, r in out.items()} == {
        "CanonRaw.cr2": (
            "image",
            "image/x-canon-cr2",
            f"{folder}/CanonRaw.cr2: camera raw file cannot be read "
            f"(Unsupported file format or not RAW file){kept}",
        ),
        "CanonRaw.cr3": (
            "image",
            "image/x-canon-cr3",
            f"{folder}/CanonRaw.cr3: camera raw file embeds no preview picture{kept}",
        ),
        "Nikon.nef": (
            "image",
            "image/x-nikon-nef",
            f"{folder}/Nikon.nef: camera raw file embeds no preview picture{kept}",
        ),
        "with-preview.nef": ("image", "image/x-nikon-nef", None),
        "bomb-rgb.png": (
            "image",
            "image/png",
            f"{folder}/bomb-rgb.png: too large to decode within the memory bound: "
            f"14000x14000 RGB needs about 747 MB, over 256 MB{kept}",
        ),
        "bomb-one-row.png": (
            "image",
            "image/png",
            f"{folder}/bomb-one-row.png: picture is truncated: hashed the part that decodes",
        ),
    }
    shown = cli.json("show", out["with-preview.nef"]["case_id"])["media"][0]
    assert (shown["width"], shown["height"]) == (3039, 2014)
    assert shown["summary"]["model"] == "NIKON D70"
    assert (
        shown["hashes"]["pdq"]
        == compute_hashes(open_picture(tmp_path / "preview.jpg").image).hashes["pdq"]
    )
    cr3 = cli.json("show", out["CanonRaw.cr3"]["case_id"])["media"][0]
    assert cr3["summary"]["lens"] == "EF-M15-45mm f/3.5-6.3 IS STM"


def test_bad_option_values_are_usage_errors(cli, tmp_path):
    pic = photo(tmp_path / "a.jpg")
    assert "not an ISO 8601 time" in cli("intake", pic, "--posted-at", "yesterday", expect=2).output
    assert (
        "not an http(s) URL"
        in cli("intake", pic, "--source-url", "javascript:alert(1)", expect=2).output
    )
    assert "LAT,LON" in cli("intake", pic, "--claimed-location", "north", expect=2).output


def test_unknown_case_in_show_is_one_line(cli, store):
    result = cli("show", "MC-1999-0001", expect=1)
    assert result.stderr == "Error: no case 'MC-1999-0001' in this store\n"


@needs_corpus
def test_reduced_decode_hashes_stay_close_to_full_decode():
    reduced = compute_hashes(open_picture(CANON).image).hashes
    with Image.open(CANON) as img:
        full = img.convert("RGB")
    assert hamming(reduced["phash"], str(imagehash.phash(full))) <= 4
    assert hamming(reduced["dhash"], str(imagehash.dhash(full))) <= 6


def test_cases_lists_what_was_taken_in(cli, tmp_path):
    cli(
        "intake",
        photo(tmp_path / "a.jpg"),
        photo(tmp_path / "b.jpg", seed=5),
        "--one-case",
        "--title",
        "Two pictures",
    )
    cli("intake", photo(tmp_path / "c.jpg", seed=9))
    rows = cli.json("cases")
    assert [(r["title"], r["media_count"], r["status"], r["verdict"]) for r in rows] == [
        ("Two pictures", 2, "open", "Unverified"),
        ("c.jpg", 1, "open", "Unverified"),
    ]


def _commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("command", list(_commands(main)), ids=" ".join)
def test_every_command_has_summary_and_example(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    summary = result.output.split("\n\n")[1].strip()
    assert summary and summary[0].isupper(), summary
    assert "Example:" in result.output


def test_quick_intake_leaves_pixel_forensics_to_analyze(cli, tmp_path):
    [result] = cli.json("intake", photo(tmp_path / "a.jpg"), "--quick")
    codes = {f["code"] for f in cli.json("show", result["case_id"])["media"][0]["findings"]}
    assert "jpeg-quality" in codes
    assert not codes & {"ela", "double-jpeg"}
    cli("analyze", result["case_id"])
    codes = {f["code"] for f in cli.json("show", result["case_id"])["media"][0]["findings"]}
    assert "ela" in codes


def test_system_files_are_skipped_counted_and_never_stored(cli, tmp_path):
    folder = tmp_path / "from-a-mac"
    (folder / ".git" / "objects").mkdir(parents=True)
    (folder / ".git" / "objects" / "ab12").write_bytes(b"git object")
    (folder / "sub").mkdir()
    good = photo(folder / "strike.jpg")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "sub" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "sub" / "desktop.ini").write_text("[.ShellClassInfo]\n")
    (folder / "._strike.jpg").write_bytes(b"\0\5\26\7AppleDouble")
    named = tmp_path / "thumbs.db"  # named on the command line, in Windows' lower case
    named.write_bytes(b"\xd0\xcf\x11\xe0")

    result = cli("intake", folder, named, "--json")

    [only] = json.loads(result.stdout)
    assert (only["path"], only["status"]) == (str(good), "added")
    assert result.stderr == (
        "note: skipped 6 system files (.git, .DS_Store, ._*, Thumbs.db, desktop.ini)\n"
    )
    assert cli.json("show", only["case_id"])["media"][0]["original_name"] == "strike.jpg"
    assert len(cli.json("cases")) == 1
    assert cli("intake", folder / ".DS_Store").stderr == "note: skipped 1 system file (.DS_Store)\n"
    assert cli("intake", folder / ".git" / "objects").stdout == ""


def test_a_truncated_picture_is_reported_once(cli, tmp_path):
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(photo(tmp_path / "whole.jpg").read_bytes()[:4000])
    result = cli("intake", cut, expect=1)
    assert result.stderr == f"error: {cut}: picture is truncated: hashed the part that decodes\n"
    assert result.stdout.startswith("error           MC-")
    [media] = cli.json("show", result.stdout.split()[1])["media"]
    assert [e for e in media["errors"] if "truncated" in e] == [
        "picture is truncated: hashed the part that decodes"
    ]


def test_a_truncated_video_gets_its_one_warning_line(cli, tmp_path):
    whole = write_clip(tmp_path / "whole.mkv", seconds=6)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = cli("intake", cut, whole, "--jobs", "1")
    [first, second] = result.stdout.splitlines()
    assert first.startswith("added ") and first.endswith(str(cut))
    case_id = first.split()[1]
    [media] = cli.json("show", case_id)["media"]
    assert len(media["errors"]) == 2 and "truncated" in media["errors"][0]
    assert result.stderr == (
        f"warning: {cut}: partly read: {media['errors'][0]} "
        f"(and 1 more: mediacheck show {case_id})\n"
    )
    [json_result, _] = cli.json("intake", cut, whole)  # the same bytes again: no new case
    assert (json_result["case_id"], json_result["problems"]) == (None, media["errors"])
