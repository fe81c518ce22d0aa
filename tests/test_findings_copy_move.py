"""copy-move: a patch copied within a real photo is found where it is, the photo itself is not."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from mediacheck.findings import PIXEL_CHECKS, compute_findings
from mediacheck.findings import copy_move as cm
from scripts.copy_move_sets import Forgery, forge, photo_from
from tests.corpus import C2PA, FILES, needs_corpus
from tests.findings_helpers import make_context

# Real photos of the corpus: a door knocker (800x533, Olympus), a street (12 MP, Pixel).
KNOCKER = "exifr/door-knocker.jpg"
PIXEL = "exifr/IMG_20180725_163423.jpg"


def forged(rel: str, seed: int, tmp_path) -> tuple[Forgery, list]:
    forgery = forge(photo_from(FILES / rel), random.Random(seed))
    path = tmp_path / "forged.jpg"
    path.write_bytes(forgery.jpeg)
    return forgery, cm.check_copy_move(make_context(path, tmp_path / "derived"))


def overlaps(box: list[int], truth: tuple[int, int, int, int]) -> bool:
    left, top, width, height = box
    return min(left + width, truth[0] + truth[2]) > max(left, truth[0]) and min(
        top + height, truth[1] + truth[3]
    ) > max(top, truth[1])


def found_where_it_is(region: dict, forgery: Forgery) -> bool:
    first, second = region["first"], region["second"]
    return (overlaps(first, forgery.source) and overlaps(second, forgery.target)) or (
        overlaps(first, forgery.target) and overlaps(second, forgery.source)
    )


@needs_corpus
@pytest.mark.parametrize(("rel", "seed"), [(KNOCKER, 3), (KNOCKER, 11), (PIXEL, 5)])
def test_a_copied_patch_of_a_real_photo_is_found_where_it_is(rel, seed, tmp_path):
    forgery, found = forged(rel, seed, tmp_path)
    (finding,) = found
    assert finding.code == "copy-move"
    assert finding.severity in ("notice", "warning")
    assert finding.message.startswith(
        "Part of the picture appears to be copied from another part: one pair of areas"
    )
    region = finding.evidence["regions"][0]
    assert found_where_it_is(region, forgery), (forgery.params, finding.evidence)
    assert region["matches"] >= cm.MIN_INLIERS
    assert (
        abs(region["scale"] - forgery.params["scale"]) < 0.05
        or abs(1 / region["scale"] - forgery.params["scale"]) < 0.05
    )
    assert finding.image == "finding-copy-move.jpg"


@needs_corpus
def test_the_picture_marks_both_areas_at_display_size(tmp_path):
    forgery, (finding,) = forged(PIXEL, 5, tmp_path)
    with Image.open(tmp_path / "derived" / finding.image) as picture:
        assert picture.format == "JPEG"
        assert picture.size == (cm.REPORT_SIDE, 960)  # the 4048x3036 photo, reduced
        marked = np.asarray(picture.convert("RGB"), dtype=np.int16)
    plain = Image.open(io.BytesIO(forgery.jpeg)).convert("RGB")
    plain = np.asarray(plain.resize(picture.size, Image.Resampling.BILINEAR), dtype=np.int16)
    red = (marked[:, :, 0] > 200) & (marked[:, :, 1] < 110) & (marked[:, :, 2] < 110)
    was_red = (plain[:, :, 0] > 200) & (plain[:, :, 1] < 110) & (plain[:, :, 2] < 110)
    drawn = red & ~was_red
    factor = picture.size[0] / 4048
    for box in finding.evidence["regions"][0]["first"], finding.evidence["regions"][0]["second"]:
        left, top, width, height = (round(v * factor) for v in box)
        # The outline runs just outside the box: its left edge is drawn in red.
        edge = drawn[top : top + height, max(0, left - 12) : left]
        assert edge.any(axis=1).mean() > 0.8


@needs_corpus
@pytest.mark.parametrize(
    "path",
    [FILES / KNOCKER, FILES / PIXEL, FILES / "exifr/heic-iphone.heic", C2PA / "files/ocsp.jpg"],
    ids=lambda path: path.name,
)
def test_untouched_real_photos_are_not_flagged(path, tmp_path):
    assert cm.check_copy_move(make_context(path, tmp_path / "derived")) == []
    assert not (tmp_path / "derived").exists()


def test_a_flat_or_tiny_picture_gives_nothing(tmp_path):
    flat = tmp_path / "flat.jpg"
    Image.new("RGB", (1600, 1200), (90, 140, 200)).save(flat, quality=85)
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (120, 90), (20, 20, 20)).save(tiny)
    for path in (flat, tiny):
        assert cm.check_copy_move(make_context(path, tmp_path / "derived")) == []


def test_copy_move_is_a_pixel_check_that_a_quick_intake_leaves_out(tmp_path):
    assert "copy-move" in PIXEL_CHECKS
    path = tmp_path / "flat.jpg"
    Image.new("RGB", (640, 480), (90, 140, 200)).save(path, quality=85)
    ctx = make_context(path, tmp_path / "derived")
    assert "copy-move" not in {f.evidence.get("check") for f in compute_findings(ctx)}


@needs_corpus
def test_intake_finds_it_quick_intake_leaves_it_to_analyze(cli, tmp_path):
    forgery = forge(photo_from(FILES / KNOCKER), random.Random(3))
    path = tmp_path / "forged.jpg"
    path.write_bytes(forgery.jpeg)
    other = tmp_path / "other.jpg"
    other.write_bytes(forge(photo_from(FILES / KNOCKER), random.Random(11)).jpeg)

    (full,) = cli.json("intake", path)
    (media,) = cli.json("show", full["case_id"])["media"]
    (found,) = [f for f in media["findings"] if f["code"] == "copy-move"]
    assert found["image"].endswith("/finding-copy-move.jpg")
    assert found_where_it_is(found["evidence"]["regions"][0], forgery)

    (quick,) = cli.json("intake", other, "--quick")
    (media,) = cli.json("show", quick["case_id"])["media"]
    assert "copy-move" not in {f["code"] for f in media["findings"]}
    (analyzed,) = cli.json("analyze", quick["case_id"])["media"]
    assert "copy-move" in {f["code"] for f in analyzed["findings"]}


def test_keypoints_without_any_near_twin_give_no_pairs():
    # Over 2 * 7 * GROUP descriptors, none within MAX_DISTANCE of another: no row is left
    # to search (this raised ValueError when the nearest search was given no rows).
    rng = np.random.default_rng(0)
    descriptors = rng.random((1000, 128), dtype=np.float32)
    descriptors /= np.linalg.norm(descriptors, axis=1, keepdims=True)
    index, distance = cm._nearest(descriptors, cm.NEIGHBOURS + 1)
    assert (index == -1).all()
    assert np.isinf(distance).all()
    points = (rng.random((1000, 2)) * 1000).astype(np.float32)
    assert len(cm._twins(points, descriptors, 1000)) == 0
