"""Error level analysis: a picture of how much each area changes when re-saved."""

from __future__ import annotations

import io

import cv2
import numpy as np
import simplejpeg

from mediacheck.findings.base import INFO, Finding, FindingContext
from mediacheck.findings.jpeg_history import ela_not_shown, jpeg_history
from mediacheck.findings.pixels import DecodedPicture, decoded_picture
from mediacheck.media.pictures import WORKING_SIZE

ELA_QUALITY = 90
# The saved picture is for people to look at: reports show it at most this large
# (they read derived pictures at working size); the evidence uses every pixel.
REPORT_SIDE = WORKING_SIZE
IMAGE_NAME = "finding-ela.png"
# Huffman coding alone packs noise-like levels as tightly as deflate does, in half the time.
PNG_OPTIONS = [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]


def check_ela(ctx: FindingContext) -> list[Finding]:
    if ctx.kind != "image":
        return []
    # Only a picture that went through JPEG has a compression history to show.
    history = jpeg_history(ctx.path)
    if not history.carried:
        return [ela_not_shown(history)]
    picture = decoded_picture(ctx)
    levels = error_levels(picture)
    height, width = levels.shape
    largest = int(levels.max())
    mean = cv2.sumElems(levels)[0] / levels.size  # an exact sum: the mean Pillow gave
    scale = 255.0 / max(1, largest)
    _save_visual(levels, scale, ctx)
    evidence = {
        "quality": ELA_QUALITY,
        "width": width,
        "height": height,
        "max_difference": largest,
        "mean_difference": round(mean, 3),
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


def error_levels(picture: DecodedPicture) -> np.ndarray:
    """Per-pixel largest channel difference between the picture and its re-saved copy.

    Pillow's encoder makes the re-save (the same bytes as ever, so the same levels)
    from the decoded pixels without copying them; libjpeg-turbo decodes it into an
    array that then holds the differences.
    """
    buffer = io.BytesIO()
    picture.image().save(buffer, format="JPEG", quality=ELA_QUALITY)
    difference = simplejpeg.decode_jpeg(buffer.getbuffer(), "RGBX")
    del buffer
    cv2.absdiff(picture.rgbx, difference, dst=difference)
    levels = np.maximum(difference[:, :, 0], difference[:, :, 1])
    return np.maximum(levels, difference[:, :, 2], out=levels)


def _save_visual(levels: np.ndarray, scale: float, ctx: FindingContext) -> None:
    """The levels brightened to the full range, at display size, as a PNG."""
    # Python's round, as the levels were always brightened: halves go to the even side.
    table = np.array([min(255, round(level * scale)) for level in range(256)], np.uint8)
    size = display_size(levels.shape[1], levels.shape[0])
    visual = cv2.resize(cv2.LUT(levels, table), size, interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode(".png", visual, PNG_OPTIONS)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {visual.shape} picture as PNG")
    ctx.derived_dir.mkdir(parents=True, exist_ok=True)
    (ctx.derived_dir / IMAGE_NAME).write_bytes(png.tobytes())


def display_size(width: int, height: int) -> tuple[int, int]:
    """At most ``REPORT_SIDE`` on the long side, the aspect kept."""
    scale = min(1.0, REPORT_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))
