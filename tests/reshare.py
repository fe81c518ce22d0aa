"""What re-sharing does to a photo: the transforms the matching tests and benchmark apply.

Each transform takes an RGB picture and a seeded ``random.Random`` (so a run is repeatable
while every photo gets its own crop, angle or caption) and returns the re-shared picture,
already passed through the lossy encoder a channel would use.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

Transform = Callable[[Image.Image, random.Random], Image.Image]

CAPTIONS = [
    "BREAKING: strike on the city centre tonight",
    "Footage from this morning, share before it is deleted",
    "They will not show you this on TV",
    "Eyewitness video from the front line",
]


def encode(img: Image.Image, fmt: str = "JPEG", **params) -> Image.Image:
    """Round-trip through an encoder, as every upload to a channel does."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, fmt, **params)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out.convert("RGB")


def scaled(img: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    return img.resize(size, Image.Resampling.LANCZOS)


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(8, size))


def recompress(img: Image.Image, rng: random.Random) -> Image.Image:
    return encode(img, quality=rng.randint(25, 45))


def resize(img: Image.Image, rng: random.Random) -> Image.Image:
    return encode(scaled(img, rng.uniform(0.35, 0.7)), quality=80)


def messenger(img: Image.Image, rng: random.Random) -> Image.Image:
    """Telegram/WhatsApp: long side cut to a few hundred pixels, strong JPEG, chroma subsampled."""
    small = img.copy()
    side = rng.choice([320, 480, 640])
    small.thumbnail((side, side), Image.Resampling.BILINEAR)
    return encode(small, quality=rng.randint(40, 60), subsampling=2)


def crop(img: Image.Image, rng: random.Random) -> Image.Image:
    """Up to 25% of each side removed, split at random between the two edges."""
    w, h = img.size
    fractions = [rng.uniform(0.1, 0.25), rng.uniform(0.0, 0.25)]
    rng.shuffle(fractions)
    cut_w, cut_h = fractions[0] * w, fractions[1] * h
    left, top = rng.uniform(0, cut_w), rng.uniform(0, cut_h)
    box = (round(left), round(top), round(w - (cut_w - left)), round(h - (cut_h - top)))
    return encode(img.crop(box), quality=85)


def text_band(width: int, text: str, dark: bool) -> Image.Image:
    size = max(12, width // 22)
    band = Image.new("RGB", (width, int(size * 2.6)), "black" if dark else "white")
    draw = ImageDraw.Draw(band)
    draw.text(
        (size // 2, int(size * 0.7)), text, fill="white" if dark else "black", font=font(size)
    )
    return band


def caption(img: Image.Image, rng: random.Random) -> Image.Image:
    """A caption band stacked above or below the picture."""
    band = text_band(img.width, rng.choice(CAPTIONS), dark=rng.random() < 0.3)
    out = Image.new("RGB", (img.width, img.height + band.height), "white")
    above = rng.random() < 0.5
    out.paste(band, (0, 0 if above else img.height))
    out.paste(img, (0, band.height if above else 0))
    return encode(out, quality=80)


def meme(img: Image.Image, rng: random.Random) -> Image.Image:
    """Meme text in white capitals with a black outline over the top and bottom of the picture."""
    out = img.copy()
    draw = ImageDraw.Draw(out)
    size = max(10, img.width // 14)
    words = rng.choice(CAPTIONS).upper().split()
    half = len(words) // 2
    for line, y in (
        (" ".join(words[:half]), size // 3),
        (" ".join(words[half:]), img.height - size * 4 // 3),
    ):
        draw.text(
            (size // 3, y),
            line,
            fill="white",
            font=font(size),
            stroke_width=max(1, size // 12),
            stroke_fill="black",
        )
    return encode(out, quality=80)


def watermark(img: Image.Image, rng: random.Random) -> Image.Image:
    """A channel logo in a corner and a translucent handle across the picture."""
    out = img.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    w, h = out.size
    logo_w, logo_h = w // 5, h // 10
    x = rng.choice([w // 40, w - logo_w - w // 40])
    y = rng.choice([h // 40, h - logo_h - h // 40])
    colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255), 230)
    draw.rounded_rectangle((x, y, x + logo_w, y + logo_h), radius=logo_h // 4, fill=colour)
    draw.text(
        (x + logo_h // 4, y + logo_h // 4),
        "@channel",
        fill=(255, 255, 255, 255),
        font=font(logo_h // 2),
    )
    draw.text((w // 6, h // 2), "@frontline_news", fill=(255, 255, 255, 110), font=font(w // 12))
    return encode(Image.alpha_composite(out, layer), quality=80)


def mirror(img: Image.Image, rng: random.Random) -> Image.Image:
    return encode(ImageOps.mirror(img), quality=85)


def screenshot(img: Image.Image, rng: random.Random) -> Image.Image:
    """The picture inside a phone screen: status bar, app header, caption and navigation bar."""
    screen_w = 1080
    dark = rng.random() < 0.5
    bg, fg = ((18, 18, 18), (235, 235, 235)) if dark else ((250, 250, 250), (20, 20, 20))
    pic = img.resize(
        (screen_w, round(img.height * screen_w / img.width)), Image.Resampling.BILINEAR
    )
    top = 90 + 150
    screen = Image.new("RGB", (screen_w, max(2340, top + pic.height + 420)), bg)
    draw = ImageDraw.Draw(screen)
    draw.text((40, 22), f"12:4{rng.randint(0, 9)}", fill=fg, font=font(44))
    draw.rectangle((screen_w - 140, 30, screen_w - 60, 62), outline=fg, width=4)
    draw.text((40, 120), "Frontline News  ·  248K subscribers", fill=fg, font=font(48))
    screen.paste(pic, (0, top))
    draw.text((40, top + pic.height + 40), rng.choice(CAPTIONS), fill=fg, font=font(40))
    draw.text((40, top + pic.height + 110), "👁 12.4K   10:42", fill=fg, font=font(34))
    nav_y = screen.height - 90
    for cx in (270, 540, 810):
        draw.ellipse((cx - 25, nav_y, cx + 25, nav_y + 50), outline=fg, width=5)
    return encode(scaled(screen, rng.uniform(0.4, 0.7)), quality=75)


def greyscale(img: Image.Image, rng: random.Random) -> Image.Image:
    return encode(ImageOps.grayscale(img), quality=85)


def colour(img: Image.Image, rng: random.Random) -> Image.Image:
    """Brightness, contrast and saturation pushed the way a channel's filter does."""
    out = ImageEnhance.Brightness(img).enhance(
        rng.choice([rng.uniform(0.65, 0.8), rng.uniform(1.2, 1.4)])
    )
    out = ImageEnhance.Contrast(out).enhance(
        rng.choice([rng.uniform(0.6, 0.8), rng.uniform(1.2, 1.5)])
    )
    out = ImageEnhance.Color(out).enhance(
        rng.choice([rng.uniform(0.3, 0.7), rng.uniform(1.3, 1.8)])
    )
    return encode(out, quality=85)


def rotate(img: Image.Image, rng: random.Random) -> Image.Image:
    """Straightened by 2 to 5 degrees either way, corners cropped away as phone editors do."""
    angle = rng.choice([-1, 1]) * rng.uniform(2.0, 5.0)
    turned = img.rotate(angle, resample=Image.Resampling.BICUBIC)
    w, h = img.size
    a = math.radians(abs(angle))
    # Largest centred box of the same aspect ratio that stays inside the rotated picture.
    k = 1 / (math.cos(a) + max(w / h, h / w) * math.sin(a))
    cw, ch = w * k, h * k
    box = (round((w - cw) / 2), round((h - ch) / 2), round((w + cw) / 2), round((h + ch) / 2))
    return encode(turned.crop(box), quality=85)


def format_change(img: Image.Image, rng: random.Random) -> Image.Image:
    fmt = rng.choice(["WEBP", "PNG"])
    return encode(img, fmt, quality=75) if fmt == "WEBP" else encode(img, fmt)


def reshared(img: Image.Image, rng: random.Random) -> Image.Image:
    """The usual chain: cropped, captioned, then squeezed by a messenger."""
    return messenger(caption(crop(img, rng), rng), rng)


TRANSFORMS: dict[str, Transform] = {
    "recompress": recompress,
    "resize": resize,
    "messenger": messenger,
    "crop": crop,
    "caption": caption,
    "meme": meme,
    "watermark": watermark,
    "mirror": mirror,
    "screenshot": screenshot,
    "greyscale": greyscale,
    "colour": colour,
    "rotate": rotate,
    "format": format_change,
    "reshared": reshared,
}
