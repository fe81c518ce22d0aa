"""Decoding pixels for the checks: one full decode per picture, bounded, shared, tolerant.

Every check that reads pixels (ELA, the double-JPEG test, copy-move) takes the
picture's ``DecodedPicture`` from ``decoded_picture(ctx)``: the first check to
ask decodes it, the others reuse it, and ``compute_findings`` drops it when the
checks are done. A JPEG is decoded by libjpeg-turbo straight into an array
(simplejpeg); what it cannot take strictly (a cut-off file, CMYK, a file of more
than ``MAX_READ_BYTES``) goes through Pillow, tolerant and streamed from disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import simplejpeg
from PIL import Image, ImageFile

from mediacheck.errors import UnsupportedMedia
from mediacheck.findings.base import FindingContext
from mediacheck.media import pictures as imaging

JPEG_FORMATS = ("JPEG", "MPO")  # MPO: phone JPEGs with extra pictures appended
# Phone photos (up to 4096 px) keep their own 8x8 grid, which ELA depends on;
# larger pictures are reduced so that the work stays bounded.
MAX_SIDE = 4096
# simplejpeg decodes from memory: larger files (a JPEG with gigabytes appended)
# are decoded by Pillow, which reads only what the picture needs.
MAX_READ_BYTES = 64 * imaging.MB
# Pillow's modes of the JPEGs libjpeg-turbo decodes to RGB exactly as Pillow does.
TURBO_MODES = ("RGB", "L")


@dataclass
class DecodedPicture:
    """A picture as the pixel checks see it, each part decoded once, when first asked for.

    ``rgb`` (height x width x 3, uint8, read-only) is the first frame at most
    ``MAX_SIDE`` on its long side, not turned by its EXIF orientation: on the
    file's own pixel grid (``full_size``) for anything a phone takes. ``luma`` is
    the JPEG's own luminance samples at full size. ``quantization`` holds the
    JPEG's tables by table number (empty for other formats).
    """

    path: Path
    format: str
    width: int  # the file's pixel size
    height: int
    quantization: dict[int, list[int]] = field(default_factory=dict)
    turbo: bool = False  # libjpeg-turbo decodes it from memory exactly as Pillow would

    @property
    def is_jpeg(self) -> bool:
        return self.format in JPEG_FORMATS

    @cached_property
    def rgbx(self) -> np.ndarray:
        """The pixels as height x width x 4 (the fourth byte unused): Pillow's own layout."""
        pixels = _turbo_rgbx(self) if self.is_jpeg else None
        if pixels is None:
            pixels = _pillow_rgbx(self.path)
        pixels.flags.writeable = False
        return pixels

    @property
    def rgb(self) -> np.ndarray:
        """A view of ``rgbx`` (``np.ascontiguousarray`` makes the copy OpenCV wants)."""
        return self.rgbx[:, :, :3]

    @property
    def full_size(self) -> bool:
        return self.rgb.shape[:2] == (self.height, self.width)

    @cached_property
    def luma(self) -> np.ndarray:
        """Luminance at full size; for a JPEG its own Y samples.

        Luminance computed back from ``rgb`` equals them only where no colour
        channel clipped at 0 or 255, so a JPEG's are decoded on their own: the
        entropy decoding and one component's inverse DCT, no colour conversion.
        """
        pixels = _turbo(self, "GRAY") if self.is_jpeg else None
        if pixels is None:
            pixels = np.asarray(decode(self.path, "L"))
        else:
            pixels = pixels[:, :, 0]
        pixels.flags.writeable = False
        return pixels

    def image(self) -> Image.Image:
        """The pixels as a Pillow picture in mode RGBX, sharing ``rgbx``'s memory: no copy."""
        height, width = self.rgbx.shape[:2]
        return Image.frombuffer("RGBX", (width, height), self.rgbx, "raw", "RGBX", 0, 1)


def decoded_picture(ctx: FindingContext) -> DecodedPicture:
    """The picture of the check's media, decoded at most once for all the checks."""
    if not isinstance(ctx.decoded, DecodedPicture):
        ctx.decoded = open_decoded(ctx.path)
    return ctx.decoded


def open_decoded(path: Path) -> DecodedPicture:
    """Read the header only: size, format and JPEG tables; pixels wait until asked for."""
    with imaging.open_image(path) as img:
        width, height = img.size
        if width * height > imaging.MAX_PIXELS:
            raise ValueError(f"{width}x{height} pixels is over {imaging.MAX_PIXELS}")
        fmt = img.format or ""
        jpeg = fmt in JPEG_FORMATS
        tables = getattr(img, "quantization", None) if jpeg else None
        turbo = jpeg and img.mode in TURBO_MODES and _fits(path, img)
    quantization = {int(k): list(v) for k, v in (tables or {}).items()}
    return DecodedPicture(path, fmt, width, height, quantization, turbo)


def _fits(path: Path, img: Image.Image) -> bool:
    """Whether the file is small enough to read whole and its full-size decode within budget."""
    if path.stat().st_size > MAX_READ_BYTES:
        return False
    try:
        imaging.check_budget(path, img, img.size)
    except UnsupportedMedia:
        return False  # Pillow's reduced decode is tried, and refuses with the reason
    return True


def _pillow_rgbx(path: Path) -> np.ndarray:
    """Pillow's decode as an array: one copy of its buffer, RGB is stored as RGBX already."""
    picture = decode(path, "RGB", MAX_SIDE)
    width, height = picture.size
    return np.frombuffer(picture.tobytes("raw", "RGBX"), np.uint8).reshape(height, width, 4)


def _turbo_rgbx(picture: DecodedPicture) -> np.ndarray | None:
    if max(picture.width, picture.height) > MAX_SIDE:
        return None  # reduced by Pillow's draft, as the checks have always seen it
    return _turbo(picture, "RGBX")


def _turbo(picture: DecodedPicture, colorspace: str) -> np.ndarray | None:
    """libjpeg-turbo's decode, or None where Pillow must do it (it then says why it fails)."""
    if not picture.turbo:
        return None
    try:
        return simplejpeg.decode_jpeg(picture.path.read_bytes(), colorspace)
    except ValueError:
        return None  # cut off, or a warning libjpeg-turbo would conceal: Pillow decides


def decode(path: Path, mode: str, max_side: int | None = None) -> Image.Image:
    """The first frame in ``mode``, at most ``max_side`` on its long side if given.

    JPEGs are decoded at a reduced DCT scale first, which is far cheaper.

    A truncated file is decoded as far as it goes: the top of a cut-off photo
    is still worth analysing.
    """
    try:
        return _decode(path, mode, max_side)
    except OSError as exc:
        if "truncated" not in str(exc):
            raise
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        return _decode(path, mode, max_side)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _decode(path: Path, mode: str, max_side: int | None) -> Image.Image:
    with imaging.open_image(path) as img:
        width, height = img.size
        if width * height > imaging.MAX_PIXELS:
            raise ValueError(f"{width}x{height} pixels is over {imaging.MAX_PIXELS}")
        if img.format in JPEG_FORMATS:
            scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
            target = (max(1, int(width * scale)), max(1, int(height * scale)))
            img.draft(mode, imaging.bounded_draft(target, (width, height)))
        imaging.check_budget(path, img, (width, height), converted_to=mode)
        picture = img.convert(mode) if img.mode != mode else img
        if max_side and max(picture.size) > max_side:
            # In place: a picture already in ``mode`` is never copied at full size.
            picture.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return picture.copy() if picture is img else picture
