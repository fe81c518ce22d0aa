"""What re-sharing does to a photo: the transforms the matching tests and benchmark apply.

Each transform takes an RGB picture and a seeded ``random.Random`` (so a run is repeatable
while every photo gets its own crop, angle or caption) and returns the re-shared picture,
already passed through the lossy encoder a channel would use. ``HARDER`` are those that
make the picture a smaller part of a larger one (app screenshots, pages, collages,
composites), turn it a quarter, mirror and crop it, or squeeze it to a thumbnail.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

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


# The harder re-shares: the picture as a smaller part of a larger page, or a part of it
# inside another picture; turned a quarter; squeezed to a thumbnail.

# Dark and light app themes: background, text, a panel (bubble, bar) that stands apart.
THEMES = {
    "dark": ((17, 27, 33), (233, 237, 239), (32, 44, 51)),
    "light": ((239, 234, 226), (17, 27, 33), (255, 255, 255)),
}
BODY = (
    "Residents said the building was hit shortly after midnight. Officials have not "
    "confirmed the number of casualties and the claim could not be independently verified."
).split()


def scene(width: int, height: int, rng: random.Random) -> Image.Image:
    """An unrelated photo-like picture: a lit horizon, textured ground, blurred shapes."""
    noise = np.random.default_rng(rng.getrandbits(32))
    field = np.zeros((height, width), dtype=np.float32)
    for octave in range(1, 7):
        cells = noise.random((2**octave + 1, 2**octave + 1), dtype=np.float32)
        layer = Image.fromarray(cells * 255).resize((width, height), Image.Resampling.BICUBIC)
        field += np.asarray(layer, dtype=np.float32) / 1.7**octave
    field = (field - field.min()) / max(1e-6, float(np.ptp(field)))
    sky, ground = noise.integers(0, 256, 3), noise.integers(0, 256, 3)
    horizon = noise.uniform(0.3, 0.7) * height
    rows = np.clip((np.arange(height) - horizon) / (0.1 * height) + 0.5, 0, 1)[:, None, None]
    base = sky * (1 - rows) + ground * rows
    pixels = base * (0.55 + 0.9 * field[:, :, None])
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(4, 10)):
        x, y = rng.uniform(0, width), rng.uniform(horizon * 0.6, height)
        w, h = rng.uniform(0.05, 0.25) * width, rng.uniform(0.05, 0.3) * height
        fill = tuple(rng.randint(0, 255) for _ in range(3))
        shape = draw.rectangle if rng.random() < 0.6 else draw.ellipse
        shape((x, y - h, x + w, y), fill=fill)
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))


def fitted(img: Image.Image, width: int, height: int | None = None) -> Image.Image:
    """The picture at ``width`` (and within ``height``), its aspect ratio kept."""
    factor = width / img.width
    if height is not None:
        factor = min(factor, height / img.height)
    return scaled(img, factor)


def words(rng: random.Random, count: int) -> str:
    start = rng.randrange(len(BODY))
    return " ".join(BODY[(start + i) % len(BODY)] for i in range(count))


def status_bar(draw: ImageDraw.ImageDraw, width: int, fg, rng: random.Random) -> int:
    """A phone's status bar across the top: time, signal, battery. Returns its height."""
    draw.text((40, 22), f"{rng.randint(7, 23)}:{rng.randint(0, 59):02d}", fill=fg, font=font(40))
    for i in range(4):
        draw.rectangle((width - 260 + i * 18, 56 - i * 9, width - 248 + i * 18, 62), fill=fg)
    draw.rectangle((width - 140, 30, width - 60, 62), outline=fg, width=4)
    draw.rectangle((width - 136, 34, width - 136 + rng.randint(20, 72), 58), fill=fg)
    return 90


def chat_screenshot(img: Image.Image, rng: random.Random) -> Image.Image:
    """A phone screenshot of a chat: the picture in a message bubble 50-90% of the width."""
    screen_w = 1080
    bg, fg, panel = THEMES[rng.choice(["dark", "light"])]
    pic = fitted(img, round(rng.uniform(0.5, 0.9) * screen_w), 1500)
    pad = 12
    bubble_w, bubble_h = pic.width + 2 * pad, pic.height + 70 + 120
    top = 90 + 160 + rng.randint(40, 260)
    screen = Image.new("RGB", (screen_w, max(2340, top + bubble_h + 400)), bg)
    draw = ImageDraw.Draw(screen)
    status_bar(draw, screen_w, fg, rng)
    draw.rectangle((0, 90, screen_w, 250), fill=panel)
    draw.ellipse((110, 115, 200, 205), fill=tuple(rng.randint(60, 200) for _ in range(3)))
    draw.text((230, 120), "Frontline channel", fill=fg, font=font(46))
    draw.text(
        (230, 180), f"{rng.randint(2, 90)},{rng.randint(100, 999)} members", fill=fg, font=font(32)
    )
    draw.rounded_rectangle((40, top - 200, 40 + rng.randint(400, 800), top - 60), 30, fill=panel)
    draw.text((70, top - 170), words(rng, 5), fill=fg, font=font(36))
    left = 40 if rng.random() < 0.5 else screen_w - 40 - bubble_w
    draw.rounded_rectangle((left, top, left + bubble_w, top + bubble_h), 30, fill=panel)
    draw.text((left + 30, top + 16), "Forwarded from Frontline", fill=fg, font=font(32))
    screen.paste(pic, (left + pad, top + 70))
    below = top + 70 + pic.height
    draw.text((left + 30, below + 20), rng.choice(CAPTIONS)[:32], fill=fg, font=font(34))
    draw.text((left + bubble_w - 120, below + 75), "10:42", fill=fg, font=font(28))
    bar = screen.height - 170
    draw.rectangle((0, bar, screen_w, screen.height), fill=panel)
    draw.rounded_rectangle((30, bar + 30, screen_w - 160, bar + 120), 45, outline=fg, width=3)
    draw.text((80, bar + 55), "Message", fill=fg, font=font(36))
    draw.ellipse((screen_w - 130, bar + 25, screen_w - 30, bar + 125), fill=fg)
    return encode(scaled(screen, rng.uniform(0.4, 0.7)), quality=rng.randint(70, 85))


def player_screenshot(img: Image.Image, rng: random.Random) -> Image.Image:
    """A video page: the picture in a player 50-90% of the window wide, controls over it."""
    width = rng.choice([1280, 1600, 1920])
    bg, fg, panel = THEMES[rng.choice(["dark", "light"])]
    player_w = round(rng.uniform(0.5, 0.9) * width)
    player_h = player_w * 9 // 16
    pic = fitted(img, player_w, player_h)
    top = 110
    page = Image.new("RGB", (width, top + player_h + 260), bg)
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, width, 80), fill=panel)
    draw.text((30, 20), "▶ VidTube", fill=(230, 30, 30), font=font(36))
    draw.rounded_rectangle((width // 3, 16, 2 * width // 3, 64), 24, outline=fg, width=2)
    draw.text((width // 3 + 24, 26), "Search", fill=fg, font=font(26))
    left = 30
    draw.rectangle((left, top, left + player_w, top + player_h), fill="black")
    page.paste(pic, (left + (player_w - pic.width) // 2, top + (player_h - pic.height) // 2))
    shade = Image.new("RGBA", (player_w, 90), (0, 0, 0, 140))
    page.paste(shade, (left, top + player_h - 90), shade)
    progress = rng.uniform(0.05, 0.95)
    bar_y = top + player_h - 80
    draw.rectangle((left + 20, bar_y, left + player_w - 20, bar_y + 6), fill=(120, 120, 120))
    draw.rectangle(
        (left + 20, bar_y, left + 20 + progress * (player_w - 40), bar_y + 6), fill=(230, 30, 30)
    )
    draw.polygon(
        [(left + 30, bar_y + 25), (left + 30, bar_y + 65), (left + 62, bar_y + 45)], fill="white"
    )
    draw.text(
        (left + 90, bar_y + 30),
        f"{rng.randint(0, 9)}:{rng.randint(10, 59)} / 12:04",
        fill="white",
        font=font(26),
    )
    for i in range(3):
        x = left + player_w - 60 - i * 60
        draw.rectangle((x, bar_y + 30, x + 34, bar_y + 60), outline="white", width=3)
    draw.text((left, top + player_h + 24), rng.choice(CAPTIONS), fill=fg, font=font(40))
    draw.text((left, top + player_h + 90), f"{rng.randint(1, 900)}K views", fill=fg, font=font(30))
    side = left + player_w + 30
    for i in range(0, (page.height - top) // 150):
        if width - side < 260:
            break
        page.paste(scene(240, 135, rng), (side, top + i * 155))
        draw.text((side + 255, top + i * 155 + 10), words(rng, 3), fill=fg, font=font(24))
    return encode(scaled(page, rng.uniform(0.5, 0.8)), quality=rng.randint(70, 85))


def news_page(img: Image.Image, rng: random.Random) -> Image.Image:
    """A news site's article: masthead, headline, the picture with its credit, text, a sidebar."""
    width = 1280
    dark = rng.random() < 0.25
    bg, fg = ((24, 24, 24), (230, 230, 230)) if dark else ((255, 255, 255), (25, 25, 25))
    pic = fitted(img, round(rng.uniform(0.5, 0.9) * width), 1100)
    top = 330
    page = Image.new("RGB", (width, top + pic.height + 420), bg)
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, width, 90), fill=(150, 20, 30))
    draw.text((40, 20), "THE DAILY WIRE", fill="white", font=font(48))
    for i, item in enumerate(["World", "Politics", "Business", "Opinion", "Sport"]):
        draw.text((40 + i * 150, 110), item, fill=fg, font=font(26))
    draw.line((0, 150, width, 150), fill=fg, width=1)
    draw.text((40, 175), rng.choice(CAPTIONS), fill=fg, font=font(44))
    draw.text((40, 250), f"By Staff Reporter · {rng.randint(1, 28)} March", fill=fg, font=font(24))
    page.paste(pic, (40, top))
    draw.text((40, top + pic.height + 12), "Photo: social media", fill=fg, font=font(22))
    for line in range(6):
        text = words(rng, max(3, pic.width // 110))
        draw.text((40, top + pic.height + 60 + line * 50), text, fill=fg, font=font(28))
    side = 40 + pic.width + 40
    if width - side >= 200:
        draw.text((side, top), "Most read", fill=fg, font=font(32))
        for i in range(4):
            y = top + 60 + i * 170
            page.paste(scene(width - side - 40, 100, rng), (side, y))
            draw.text((side, y + 110), words(rng, 4), fill=fg, font=font(22))
    return encode(scaled(page, rng.uniform(0.5, 0.9)), quality=rng.randint(70, 85))


def collage(img: Image.Image, rng: random.Random) -> Image.Image:
    """The picture as one tile of a collage of two to four, with gutters between them."""
    w, h = img.width, img.height
    gutter = rng.choice([0, 6, 12, 20])
    cols, rows = rng.choice([(2, 1), (1, 2), (2, 2), (3, 1)])
    out = Image.new(
        "RGB",
        (cols * w + (cols + 1) * gutter, rows * h + (rows + 1) * gutter),
        rng.choice(["white", "black"]),
    )
    mine = rng.randrange(cols * rows)
    for cell in range(cols * rows):
        tile = img if cell == mine else scene(w, h, rng)
        out.paste(
            tile, (gutter + (cell % cols) * (w + gutter), gutter + (cell // cols) * (h + gutter))
        )
    return encode(scaled(out, rng.uniform(0.4, 0.8)), quality=80)


def piece_box(w: int, h: int, rng: random.Random) -> tuple[int, int, int, int]:
    """Where a composite's piece is cut: a quarter to a half of the area, 0.4-1 of the width."""
    area = rng.uniform(0.25, 0.5)
    share_w = rng.uniform(max(area, 0.4), min(1.0, area / 0.4))
    pw, ph = round(share_w * w), round(area / share_w * h)
    x, y = rng.randint(0, w - pw), rng.randint(0, h - ph)
    return (x, y, x + pw, y + ph)


def composite(img: Image.Image, rng: random.Random) -> Image.Image:
    """A piece of the picture (a quarter to a half of its area) pasted into another scene."""
    w, h = img.size
    piece = scaled(img.crop(piece_box(w, h, rng)), rng.uniform(0.8, 1.2))
    canvas = scene(round(w * rng.uniform(1.0, 1.3)), round(h * rng.uniform(1.0, 1.3)), rng)
    if piece.width > canvas.width or piece.height > canvas.height:
        piece = fitted(piece, canvas.width, canvas.height)
    at = (rng.randint(0, canvas.width - piece.width), rng.randint(0, canvas.height - piece.height))
    mask = Image.new("L", piece.size, 0)
    edge = max(1, min(piece.size) // 40)
    ImageDraw.Draw(mask).rectangle((edge, edge, piece.width - edge, piece.height - edge), fill=255)
    canvas.paste(piece, at, mask.filter(ImageFilter.GaussianBlur(edge)))
    return encode(canvas, quality=80)


def mirror_crop(img: Image.Image, rng: random.Random) -> Image.Image:
    return crop(ImageOps.mirror(img), rng)


def rotate90(img: Image.Image, rng: random.Random) -> Image.Image:
    """Turned a quarter either way, as a phone does a sideways shot."""
    turn = rng.choice([Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270])
    return encode(img.transpose(turn), quality=85)


def thumbnail(img: Image.Image, rng: random.Random) -> Image.Image:
    """Heavy downscale: the long side at 240 px, as a preview or a forwarded thumbnail."""
    small = img.copy()
    small.thumbnail((240, 240), Image.Resampling.BILINEAR)
    return encode(small, quality=rng.randint(60, 80))


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

# The re-shares of issue 14, kept apart so that a test can say which of them it covers.
HARDER: dict[str, Transform] = {
    "chat-screenshot": chat_screenshot,
    "player-screenshot": player_screenshot,
    "news-page": news_page,
    "collage": collage,
    "composite": composite,
    "mirror-crop": mirror_crop,
    "rotate90": rotate90,
    "thumbnail": thumbnail,
}
TRANSFORMS |= HARDER
