"""Findings computed from the pixels: JPEG tables, double compression, ELA, thumbnails."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import simplejpeg
from PIL import Image

from mediacheck.findings import CHECKS, compute_findings, ela, jpeg, pixels, thumbnail
from mediacheck.findings.jpeg import STANDARD_LUMA, scaled_table
from mediacheck.findings.jpeg_history import jpeg_history
from mediacheck.findings.pixels import open_decoded
from tests.corpus import FILES, manifest, needs_corpus
from tests.findings_helpers import (
    ASCII,
    LONG,
    exif_segment,
    jpeg_bytes,
    make_context,
    resaved,
    screenshot,
    textured,
)


def run(check, path: Path, tmp_path: Path, **context) -> dict:
    ctx = make_context(path, tmp_path / "derived", **context)
    return {f.code: f for f in check(ctx)}


def manifest_images() -> list[dict]:
    return [r for r in manifest() if r["kind"] == "image"]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# jpeg-quality


@pytest.mark.parametrize("quality", [10, 50, 75, 90, 95, 100])
def test_standard_tables_give_their_quality(tmp_path, quality):
    path = write(tmp_path / "q.jpg", jpeg_bytes(textured((128, 128)), quality))
    finding = run(jpeg.check_quality, path, tmp_path)["jpeg-quality"]
    assert finding.evidence["estimated_quality"] == quality
    assert finding.evidence["standard_tables"] is True
    assert finding.evidence["tables"]["0"] == scaled_table(STANDARD_LUMA, quality)
    assert (
        f"the standard settings for quality {quality} (the tables of the common" in finding.message
    )


def test_custom_tables_are_told_apart(tmp_path):
    custom = [max(1, v // 3 + 1) for v in STANDARD_LUMA]
    path = tmp_path / "c.jpg"
    textured((128, 128)).save(path, qtables=[custom, custom])
    finding = run(jpeg.check_quality, path, tmp_path)["jpeg-quality"]
    assert finding.evidence["tables"] == {"0": custom, "1": custom}
    assert finding.evidence["standard_tables"] is False
    assert finding.evidence["estimated_quality"] == 83
    assert "with its own settings (close to standard quality" in finding.message


def test_no_jpeg_quality_for_png(tmp_path):
    path = tmp_path / "p.png"
    textured((64, 64)).save(path)
    assert run(jpeg.check_quality, path, tmp_path) == {}


@needs_corpus
@pytest.mark.parametrize(
    ("rel", "quality", "standard"),
    [
        ("exifr/img_1771_no_exif.jpg", 75, True),
        ("mde/withExifAndIptc.jpg", 70, True),
        ("elodie/plain.jpg", 94, False),
        ("exifr/canon-dslr.jpg", 98, False),
    ],
)
def test_corpus_jpeg_quality(tmp_path, rel, quality, standard):
    evidence = run(jpeg.check_quality, FILES / rel, tmp_path)["jpeg-quality"].evidence
    assert (evidence["estimated_quality"], evidence["standard_tables"]) == (quality, standard)


# double-jpeg


@pytest.mark.parametrize("qualities", [(60, 85), (70, 90), (50, 90)])
def test_resaved_at_higher_quality_is_double_jpeg(tmp_path, qualities):
    path = write(tmp_path / "twice.jpg", resaved(textured(), *qualities))
    finding = run(jpeg.check_double_compression, path, tmp_path)["double-jpeg"]
    assert finding.severity == "notice"
    assert finding.evidence["modes_with_evidence"] >= 10
    assert finding.evidence["strength"] > 0.9
    # The first, coarser step is recovered where the evidence is.
    first = scaled_table(STANDARD_LUMA, qualities[0])[1]
    assert finding.evidence["modes"]["0,1"]["first_step"] == first


@pytest.mark.parametrize("qualities", [(85,), (75,), (95,), (60,), (80, 80)])
def test_single_compression_is_not_double_jpeg(tmp_path, qualities):
    path = write(tmp_path / "once.jpg", resaved(textured(seed=3), *qualities))
    assert run(jpeg.check_double_compression, path, tmp_path) == {}


@needs_corpus
@pytest.mark.parametrize("quality", [60, 70, 80])
def test_downscaled_photo_saved_once_is_not_double_jpeg(tmp_path, quality):
    # A messenger's re-share: resizing destroys the old grid, so one compression remains.
    with Image.open(FILES / "mde/BELOW_SEA_LEVEL.JPG") as img:
        small = img.convert("RGB")
    small.thumbnail((1280, 1280))
    path = write(tmp_path / "once.jpg", jpeg_bytes(small, quality))
    assert run(jpeg.check_double_compression, path, tmp_path) == {}


def test_too_small_to_judge(tmp_path):
    path = write(tmp_path / "tiny.jpg", resaved(textured((200, 150)), 60, 90))
    assert jpeg.double_compression(open_decoded(path)) is None


@needs_corpus
@pytest.mark.parametrize(
    "row", [r for r in manifest() if r["mime"] == "image/jpeg"], ids=lambda r: r["file"]
)
def test_double_jpeg_on_corpus(tmp_path, row):
    # Only one Photoshop re-save shows clear gaps; no camera original does. Three
    # other edited files showed "gaps" only in bin 1, beside the spike of zeros
    # that flat areas leave: single saves do that too, so it is not counted.
    expected = {"exifr/cookiezen.jpg"}
    found = run(jpeg.check_double_compression, FILES / row["file"], tmp_path)
    assert ("double-jpeg" in found) is (row["file"] in expected)


# ela


def test_ela_brightens_a_spliced_area(tmp_path):
    base = Image.open(io.BytesIO(resaved(textured(seed=0), 70))).convert("RGB")
    base.paste(textured((256, 256), seed=7), (384, 256))
    path = write(tmp_path / "spliced.jpg", jpeg_bytes(base, 95))
    finding = run(ela.check_ela, path, tmp_path)["ela"]
    assert finding.image == "finding-ela.png"
    assert "visual aid, not proof" in finding.message
    assert {k: finding.evidence[k] for k in ("quality", "width", "height")} == {
        "quality": 90,
        "width": 1024,
        "height": 768,
    }
    levels = np.asarray(Image.open(tmp_path / "derived" / "finding-ela.png"), dtype=float)
    inside = levels[256:512, 384:640].mean()
    outside = (levels.sum() - levels[256:512, 384:640].sum()) / (levels.size - 256 * 256)
    assert inside > 2.5 * outside


def test_ela_of_big_pictures_is_bounded(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (9000, 3000), (120, 130, 140)).save(path, quality=80)
    finding = run(ela.check_ela, path, tmp_path)["ela"]
    assert (finding.evidence["width"], finding.evidence["height"]) == (4096, 1365)
    with Image.open(tmp_path / "derived" / "finding-ela.png") as img:
        assert img.size == (1024, 341)


def test_no_ela_for_video(tmp_path):
    ctx = make_context(write(tmp_path / "x.jpg", jpeg_bytes(textured((64, 64)), 90)), tmp_path)
    ctx.kind = "video"
    assert ela.check_ela(ctx) == []


# ELA only where the pixels went through JPEG


def test_no_ela_picture_for_a_png_screenshot(tmp_path):
    path = tmp_path / "screenshot.png"
    screenshot().save(path)
    found = run(ela.check_ela, path, tmp_path)
    assert list(found) == ["ela-not-shown"]
    finding = found["ela-not-shown"]
    assert finding.severity == "info"
    assert finding.image is None
    assert finding.message.startswith(
        "No error level analysis picture is shown: this PNG picture shows no trace of an "
        "earlier JPEG compression, and error level analysis only means something for "
        "pictures that went through JPEG."
    )
    assert finding.evidence["format"] == "PNG"
    assert finding.evidence["reason"] == "no-jpeg-history"
    assert finding.evidence["grid"]["reason"] == "no block grid"
    assert not (tmp_path / "derived" / ela.IMAGE_NAME).exists()


@pytest.mark.parametrize("quality", [70, 80, 90])
def test_ela_for_a_png_that_was_a_jpeg(tmp_path, quality):
    path = tmp_path / "converted.png"
    Image.open(io.BytesIO(resaved(textured(), quality))).save(path)
    finding = run(ela.check_ela, path, tmp_path)["ela"]
    assert finding.evidence["jpeg_history"] == "pixels"
    assert (tmp_path / "derived" / ela.IMAGE_NAME).is_file()


def test_a_cropped_png_keeps_its_jpeg_history(tmp_path):
    # A crop moves the 8x8 grid: it is found at its new offset.
    path = tmp_path / "cropped.png"
    Image.open(io.BytesIO(resaved(textured(), 80))).crop((3, 5, 1000, 700)).save(path)
    history = jpeg_history(path)
    assert history.how == "pixels"
    assert (history.grid["columns"]["offset"], history.grid["rows"]["offset"]) == (5, 3)


def test_a_fresh_png_has_no_jpeg_history(tmp_path):
    path = tmp_path / "render.png"
    textured().save(path)
    assert jpeg_history(path).how == "none"


def test_jpeg_compressed_tiff_has_jpeg_history(tmp_path):
    path = tmp_path / "scan.tif"
    textured().save(path, compression="jpeg")
    assert run(ela.check_ela, path, tmp_path)["ela"].evidence["jpeg_history"] == "jpeg-compressed"


@needs_corpus
@pytest.mark.parametrize("scale", [1.0, 0.9, 0.77, 0.5])
def test_real_photo_as_png_keeps_history_until_resized(tmp_path, scale):
    # A 2x reduction keeps an 8-pixel grid (JPEG's 16-pixel colour blocks halved)
    # but not the quantisation lattice.
    photo = Image.open(FILES / "exifr/canon-dslr.jpg").convert("RGB").crop((1600, 800, 3648, 2848))
    converted = Image.open(io.BytesIO(jpeg_bytes(photo, 80))).convert("RGB")
    path = tmp_path / "photo.png"
    size = round(2048 * scale)
    converted.resize((size, size), Image.Resampling.LANCZOS).save(path)
    assert jpeg_history(path).carried is (scale == 1.0)


@needs_corpus
@pytest.mark.parametrize("row", manifest_images(), ids=lambda r: r["file"])
def test_ela_on_corpus_only_for_jpeg(tmp_path, row):
    # No picture of the corpus but its JPEGs went through JPEG: the HEIF and AVIF
    # photos have an 8-pixel grid of their own, without JPEG's quantisation.
    ctx = make_context(FILES / row["file"], tmp_path / "derived")
    found = [f.code for f in compute_findings(ctx, skip=tuple(n for n, _ in CHECKS if n != "ela"))]
    if row["file"] == "elodie/photo.heic":  # its picture is smaller than it declares
        assert found == ["analysis-failed"]
    elif row["mime"] == "image/jpeg":
        assert found == ["ela"]
    else:
        assert found == ["ela-not-shown"]


# thumbnail-present and thumbnail-mismatch


def camera_file(path: Path, main: Image.Image, thumb: Image.Image) -> Path:
    small = thumb.copy()
    small.thumbnail((160, 160))
    segment = exif_segment(
        {0x010F: (ASCII, "Canon"), 0x0110: (ASCII, "EOS")},
        {0xA002: (LONG, thumb.width), 0xA003: (LONG, thumb.height)},
        thumbnail=jpeg_bytes(small, 85),
    )
    main.save(path, quality=92, exif=segment)
    return path


def test_thumbnail_of_the_same_picture(tmp_path):
    picture = textured((640, 480), seed=4)
    path = camera_file(tmp_path / "camera.jpg", picture, picture)
    finding = run(thumbnail.check_thumbnail, path, tmp_path)["thumbnail-present"]
    assert finding.severity == "info"
    assert finding.evidence["source"] == "EXIF"
    assert (finding.evidence["thumbnail_width"], finding.evidence["thumbnail_height"]) == (160, 120)
    assert finding.evidence["phash_distance"] <= 4
    assert finding.evidence["compared"] is True
    with Image.open(tmp_path / "derived" / finding.image) as img:
        assert img.size == (160, 120)


def test_thumbnail_left_behind_by_a_crop(tmp_path):
    original = textured((640, 480), seed=4)
    cropped = original.crop((400, 0, 640, 320))
    path = camera_file(tmp_path / "cropped.jpg", cropped, original)
    finding = run(thumbnail.check_thumbnail, path, tmp_path)["thumbnail-mismatch"]
    assert finding.severity == "warning"
    assert finding.evidence["phash_distance"] > 16
    assert finding.image == "finding-exif-thumbnail.png"


def test_thumbnail_left_behind_by_a_splice(tmp_path):
    original = textured((640, 480), seed=4)
    spliced = original.copy()
    spliced.paste(textured((320, 480), seed=9), (0, 0))
    path = camera_file(tmp_path / "spliced.jpg", spliced, original)
    assert "thumbnail-mismatch" in run(thumbnail.check_thumbnail, path, tmp_path)


def test_a_tiny_thumbnail_is_reported_but_not_compared(tmp_path):
    picture = textured((640, 480), seed=4)
    small = picture.resize((16, 12))
    segment = exif_segment({0x010F: (ASCII, "Canon")}, thumbnail=jpeg_bytes(small, 85))
    path = tmp_path / "tiny-thumb.jpg"
    textured((640, 480), seed=8).save(path, quality=90, exif=segment)
    finding = run(thumbnail.check_thumbnail, path, tmp_path)["thumbnail-present"]
    assert finding.evidence["compared"] is False
    assert finding.evidence["phash_distance"] is None


def test_no_thumbnail_no_finding(tmp_path):
    path = write(tmp_path / "plain.jpg", jpeg_bytes(textured((64, 64)), 90))
    assert run(thumbnail.check_thumbnail, path, tmp_path) == {}


MISMATCHED_THUMBNAILS = {
    "exifr/issue-exifr-41-Error_Segment_Unreachable.jpg",  # cropped from 3000x2000
    "exifr/png/png_with_exif_and_gps.png",  # a 1x1 picture with a camera thumbnail
    "mde/withPanasonicFaces.jpg",  # likewise
    "exifr/32d08f4a5eb10332506ebedbb9bc7257.jpg",  # the main picture decodes as garbage
}


@needs_corpus
@pytest.mark.parametrize(
    "row", [r for r in manifest() if r["kind"] == "image"], ids=lambda r: r["file"]
)
def test_thumbnails_on_corpus(tmp_path, row):
    found = run(thumbnail.check_thumbnail, FILES / row["file"], tmp_path)
    # multipage.tif's second page is a full picture, not a thumbnail.
    flagged = "thumbnail" in row["flags"].split(";") and row["file"] != "mde/multipage.tif"
    assert bool(found) is flagged
    if flagged:
        mismatch = row["file"] in MISMATCHED_THUMBNAILS
        assert set(found) == {"thumbnail-mismatch" if mismatch else "thumbnail-present"}


# the shared decode


def test_pixel_checks_share_one_decode(tmp_path, monkeypatch):
    path = write(tmp_path / "twice.jpg", resaved(textured(), 60, 85))
    alone = {
        code: finding.evidence
        for check in (jpeg.check_double_compression, ela.check_ela)
        for code, finding in run(check, path, tmp_path).items()
    }
    decodes: list[str] = []
    real = simplejpeg.decode_jpeg
    monkeypatch.setattr(
        simplejpeg, "decode_jpeg", lambda data, space: decodes.append(space) or real(data, space)
    )
    monkeypatch.setattr(pixels, "decode", lambda *args: pytest.fail("Pillow decoded it"))
    ctx = make_context(path, tmp_path / "derived")
    together = {f.code: f.evidence for f in compute_findings(ctx) if f.code in alone}
    # The luminance samples, the picture once for every check, and ELA's re-save.
    assert decodes == ["GRAY", "RGBX", "RGBX"]
    assert together == alone
    assert ctx.decoded is None  # dropped once the checks are done


def test_decoded_picture_of_a_cut_off_jpeg_still_decodes(tmp_path):
    whole = jpeg_bytes(textured((640, 480)), 90)
    path = write(tmp_path / "cut.jpg", whole[: len(whole) * 2 // 3])
    picture = open_decoded(path)
    assert picture.turbo is True
    assert picture.rgb.shape == (480, 640, 3)  # what is there, the rest filled
    assert picture.luma.shape == (480, 640)
    assert not picture.rgb.flags.writeable
