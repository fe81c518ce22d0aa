"""Error level analysis: a picture of how much each area changes when re-saved."""

from __future__ import annotations

import io

from PIL import Image, ImageChops, ImageStat

from mediacheck.findings.base import INFO, Finding, FindingContext
from mediacheck.findings.jpeg_history import ela_not_shown, jpeg_history
from mediacheck.findings.pixels import decode

ELA_QUALITY = 90
# Phone photos (up to 4096 px) keep their own 8x8 grid, which ELA depends on;
# larger pictures are reduced so that the work stays bounded.
MAX_SIDE = 4096
# The saved picture is for people to look at; the evidence uses every pixel.
REPORT_SIDE = 2048
IMAGE_NAME = "finding-ela.png"


def check_ela(ctx: FindingContext) -> list[Finding]:
    if ctx.kind != "image":
        return []
    # Only a picture that went through JPEG has a compression history to show.
    history = jpeg_history(ctx.path)
    if not history.carried:
        return [ela_not_shown(history)]
    picture = decode(ctx.path, "RGB", MAX_SIDE)
    differences = error_levels(picture)
    stat = ImageStat.Stat(differences)
    largest = stat.extrema[0][1]
    scale = 255.0 / max(1, largest)
    visual = differences.point(lambda level: min(255, round(level * scale)))
    visual.thumbnail((REPORT_SIDE, REPORT_SIDE), Image.Resampling.BOX)
    ctx.derived_dir.mkdir(parents=True, exist_ok=True)
    visual.save(ctx.derived_dir / IMAGE_NAME, format="PNG", compress_level=1)
    evidence = {
        "quality": ELA_QUALITY,
        "width": picture.width,
        "height": picture.height,
        "max_difference": largest,
        "mean_difference": round(stat.mean[0], 3),
        "scale": round(scale, 3),
        "jpeg_history": history.how,
    }
    message = (
        "The error level analysis picture shows how much each area of the picture changes "
        f"when it is saved again as a JPEG at quality {ELA_QUALITY}, brightened to be seen. "
        "An area that stands out from similar surroundings may have a different compression "
        "history, but edges, text and smooth areas also stand out naturally. It is a visual "
        "aid, not proof of editing."
    )
    return [Finding("ela", INFO, message, evidence, image=IMAGE_NAME)]


def error_levels(picture: Image.Image) -> Image.Image:
    """Per-pixel largest channel difference between the picture and its re-saved copy."""
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=ELA_QUALITY)
    buffer.seek(0)
    with Image.open(buffer) as resaved:
        # Converting an RGB picture would copy it: one full-size buffer less at the peak.
        same = resaved if resaved.mode == "RGB" else resaved.convert("RGB")
        difference = ImageChops.difference(picture, same)
    red, green, blue = difference.split()
    return ImageChops.lighter(red, ImageChops.lighter(green, blue))
