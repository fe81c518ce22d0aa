"""Make the bundled sample pictures in mediacheck/samples/ (deterministic).

The samples are synthetic, so the repository carries no third-party media:
a "strike" photo with camera EXIF and GPS, the same picture re-shared the way
a messaging app does it (downscaled, re-encoded, metadata stripped, caption
band added), and an unrelated picture.

    python scripts/make_samples.py
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "mediacheck" / "samples"


def scene(width: int = 1600, height: int = 1200) -> Image.Image:
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        shade = int(90 + 120 * y / height)
        draw.line([(0, y), (width, y)], fill=(shade, shade + 20, 235 - shade // 3))
    draw.rectangle([0, int(height * 0.62), width, height], fill=(96, 88, 70))
    for i in range(7):
        x = 120 + i * 205
        top = int(height * (0.30 + 0.04 * math.sin(i * 1.7)))
        draw.rectangle([x, top, x + 150, int(height * 0.62)], fill=(70 + i * 12, 64, 60))
        for row in range(top + 30, int(height * 0.6), 60):
            draw.rectangle([x + 25, row, x + 60, row + 30], fill=(230, 210, 120))
    draw.ellipse([980, 250, 1380, 650], fill=(60, 60, 64))
    return with_sensor_noise(img)


def with_sensor_noise(img: Image.Image, sigma: float = 6.0) -> Image.Image:
    """Grain like a camera sensor's: flat synthetic areas would fool the forensic checks."""
    rng = np.random.default_rng(2026)
    pixels = np.asarray(img, dtype=np.float32)
    noisy = pixels + rng.normal(0.0, sigma, pixels.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def exif_for_camera() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SampleCam"  # Make
    exif[0x0110] = "SC-100"  # Model
    exif[0x0131] = "SampleCam Firmware 1.2"  # Software
    exif[0x0132] = "2026:01:03 05:41:12"  # DateTime
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "2026:01:03 05:41:12"  # DateTimeOriginal
    ifd[0x9011] = "+03:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (10.0, 24.0, 36.0)
    gps[3], gps[4] = "W", (66.0, 54.0, 18.0)
    return exif


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    original = scene()
    original.save(OUT / "strike.jpg", quality=92, exif=exif_for_camera())
    # A re-share starts from the posted JPEG, not from the camera's pixels.
    with Image.open(OUT / "strike.jpg") as posted:
        reshared = posted.convert("RGB").resize((800, 600), Image.Resampling.LANCZOS)
    captioned = Image.new("RGB", (800, 680), (255, 255, 255))
    captioned.paste(reshared, (0, 80))
    ImageDraw.Draw(captioned).text((20, 30), "BREAKING: strike tonight", fill=(0, 0, 0))
    captioned.save(OUT / "reshared.jpg", quality=70)
    other = scene(900, 900).transpose(Image.Transpose.ROTATE_90).convert("L").convert("RGB")
    ImageDraw.Draw(other).rectangle([100, 100, 500, 300], fill=(200, 30, 30))
    other.save(OUT / "unrelated.png")


if __name__ == "__main__":
    main()
