"""Re-shares drawn by a real browser: recall on pages that no transform of ours painted.

    python scripts/bench_browser_reshares.py [--strangers 2000] [--folder /tmp/browser-reshares]

``tests/reshare.py`` draws its app frames with Pillow, and the thresholds of the search were
chosen on them: a benchmark that grades its own drawings. Here each photo is put into an HTML
page (a chat app, a video player, a news article, a social post cropped to its box, an album
grid, a piece of it pasted over another photo) and headless Chromium renders it at a phone's or
a desktop's size and pixel ratio, with the browser's own resampling, fonts, rounded corners,
overlays and CSS filters; half the screenshots are then sent on as a messenger does (1280 px,
JPEG). The other pictures of a page (album tiles, sidebars, the composite's background) are
corpus photos that are never stored, so a stored photo's page must find that photo and an
unstored photo's page must find nothing. The index holds the stored photos and ``--strangers``
photo-like strangers (``archive_strangers.distractor``). Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import io
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from archive_strangers import distractor  # noqa: E402
from bench_matching import (  # noqa: E402
    Photo,
    _found,
    _half,
    corpus_photos,
    distractor_pool,
    split,
)

from mediacheck.match.fingerprints import fingerprint, probe  # noqa: E402
from mediacheck.match.index import FingerprintIndex  # noqa: E402
from mediacheck.media.pictures import open_picture  # noqa: E402
from tests.test_chromium import chromium  # noqa: E402

THEMES = {  # background, text, panel
    "dark": ("#0e1621", "#e9edef", "#17212b"),
    "light": ("#efeae2", "#111b21", "#ffffff"),
}
TEXT = (
    "Residents said the building was hit shortly after midnight. Officials have not confirmed "
    "the number of casualties and the claim could not be independently verified by reporters."
).split()
PHONES = [360, 375, 390, 393, 412, 430]  # CSS widths of common phones
PHONE_RATIOS = [2.0, 2.625, 3.0, 3.5]
DESKTOPS = [1280, 1366, 1440, 1536, 1920]


@dataclass
class Page:
    """An HTML page and the screen it is rendered on."""

    html: str
    width: int
    height: int
    ratio: float
    mobile: bool


@dataclass
class Pictures:
    """The page's main picture and the never-stored photos that fill the rest, as file URLs."""

    main: str
    size: tuple[int, int]
    fills: list[str]


def words(rng: random.Random, count: int) -> str:
    start = rng.randrange(len(TEXT))
    return html.escape(" ".join(TEXT[(start + i) % len(TEXT)] for i in range(count)))


def _doc(body: str, style: str, bg: str, fg: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'><style>"
        f"html,body{{margin:0;background:{bg};color:{fg};font-family:sans-serif;overflow:hidden}}"
        f"{style}</style></head><body>{body}</body></html>"
    )


def _status_bar(rng: random.Random) -> str:
    return (
        "<div style='display:flex;justify-content:space-between;padding:6px 18px;"
        f"font-size:14px;font-weight:600'><span>{rng.randint(7, 23)}:{rng.randint(0, 59):02d}"
        f"</span><span>LTE &#9602;&#9604;&#9606; {rng.randint(5, 99)}%</span></div>"
    )


def chat(rng: random.Random, pics: Pictures) -> Page:
    """A messenger on a phone: the picture in a bubble 50-90% of the width, time over it."""
    width = rng.choice(PHONES)
    height = round(width * rng.uniform(1.9, 2.2))
    bg, fg, panel = THEMES[rng.choice(list(THEMES))]
    share = rng.uniform(0.5, 0.9)
    bubble = round(width * share)
    w, h = pics.size
    shown_h = min(round(bubble * h / w), round(height * 0.6))
    fit = "cover" if rng.random() < 0.3 else "contain"  # some apps crop a tall picture
    side = "margin-left:auto" if rng.random() < 0.5 else ""
    caption = f"<div style='padding:6px 10px'>{words(rng, rng.randint(3, 12))}</div>"
    body = (
        f"{_status_bar(rng)}"
        f"<div style='background:{panel};padding:10px 14px;display:flex;gap:12px;"
        "align-items:center'><div style='width:40px;height:40px;border-radius:50%;"
        f"background:#5b8'></div><div><b>Frontline channel</b><br><small>"
        f"{rng.randint(2, 90)},{rng.randint(100, 999)} subscribers</small></div></div>"
        f"<div style='padding:10px'>"
        f"<div class='b' style='max-width:70%'>{words(rng, rng.randint(4, 14))}</div>"
        f"<div class='b' style='width:{bubble}px;padding:4px;{side};position:relative'>"
        f"<div style='font-size:13px;padding:2px 6px;color:#6ab2f2'>Forwarded from Frontline</div>"
        f"<img src='{pics.main}' style='width:100%;height:{shown_h}px;object-fit:{fit};"
        f"border-radius:{rng.randint(6, 16)}px;display:block;background:#000'>"
        f"{caption if rng.random() < 0.6 else ''}"
        "<span style='position:absolute;right:10px;bottom:10px;background:rgba(0,0,0,.45);"
        "color:#fff;font-size:12px;padding:1px 6px;border-radius:8px'>10:42</span></div>"
        f"<div class='b' style='max-width:60%;margin-left:auto'>{words(rng, 6)}</div></div>"
        f"<div style='position:fixed;bottom:0;left:0;right:0;background:{panel};padding:10px'>"
        f"<div style='border:1px solid {fg};border-radius:20px;padding:8px 14px;opacity:.6'>"
        "Message</div></div>"
    )
    style = f".b{{background:{panel};border-radius:12px;padding:8px 10px;margin:8px 0}}"
    return Page(_doc(body, style, bg, fg), width, height, rng.choice(PHONE_RATIOS), True)


def player(rng: random.Random, pics: Pictures) -> Page:
    """A video site on a desktop: the picture in a 16:9 player with its overlays and controls."""
    width = rng.choice(DESKTOPS)
    bg, fg, panel = THEMES[rng.choice(list(THEMES))]
    player_w = round(width * rng.uniform(0.5, 0.9))
    player_h = player_w * 9 // 16
    title = (
        "<div style='position:absolute;top:0;left:0;right:0;padding:14px 18px 40px;color:#fff;"
        "font-size:18px;background:linear-gradient(rgba(0,0,0,.7),transparent)'>"
        f"{words(rng, 8)}</div>"
        if rng.random() < 0.5
        else ""
    )
    play = (
        "<div style='position:absolute;left:50%;top:50%;width:68px;height:48px;margin:-24px 0 0 "
        "-34px;background:rgba(220,0,0,.85);border-radius:12px'></div>"
        if rng.random() < 0.4
        else ""
    )
    progress = rng.uniform(5, 95)
    controls = (
        "<div style='position:absolute;bottom:0;left:0;right:0;height:60px;"
        "background:linear-gradient(transparent,rgba(0,0,0,.75))'>"
        "<div style='position:absolute;left:12px;right:12px;bottom:44px;height:4px;"
        f"background:rgba(255,255,255,.3)'><div style='width:{progress:.0f}%;height:4px;"
        "background:#f00'></div></div><div style='position:absolute;left:14px;bottom:10px;"
        f"color:#fff;font-size:14px'>&#9654;&#10074;&#10074; {rng.randint(0, 9)}:"
        f"{rng.randint(10, 59)} / 12:04</div></div>"
    )
    side = "".join(
        f"<div style='display:flex;gap:8px;margin-bottom:10px'><img src='{src}' style='width:168px;"
        f"height:94px;object-fit:cover;border-radius:8px'><small>{words(rng, 5)}</small></div>"
        for src in pics.fills[:4]
    )
    body = (
        f"<div style='height:56px;background:{panel};display:flex;align-items:center;"
        "padding:0 20px;gap:30px'><b style='color:#e22'>&#9654; VidTube</b><div style='flex:0 0 "
        f"40%;border:1px solid {fg};border-radius:20px;padding:6px 14px;opacity:.5'>Search</div>"
        "</div><div style='display:flex;gap:24px;padding:20px'>"
        f"<div style='flex:0 0 {player_w}px'><div style='position:relative;width:{player_w}px;"
        f"height:{player_h}px;background:#000;overflow:hidden'><img src='{pics.main}' style='"
        f"width:100%;height:100%;object-fit:contain'>{title}{play}{controls}</div>"
        f"<h2 style='font-size:20px'>{words(rng, 9)}</h2><small>{rng.randint(1, 900)}K views"
        f"</small></div><div>{side}</div></div>"
    )
    height = max(720, player_h + 220)
    return Page(_doc(body, "", bg, fg), width, height, rng.choice([1.0, 1.0, 1.25, 1.5]), False)


def news(rng: random.Random, pics: Pictures) -> Page:
    """A news article on a desktop or a phone: masthead, headline, the picture, text."""
    mobile = rng.random() < 0.4
    width = rng.choice(PHONES) if mobile else rng.choice(DESKTOPS)
    dark = rng.random() < 0.25
    bg, fg = ("#181818", "#e6e6e6") if dark else ("#ffffff", "#191919")
    column = width - 32 if mobile else round(width * rng.uniform(0.5, 0.7))
    picture_w = round(column * rng.uniform(0.8, 1.0))
    w, h = pics.size
    picture_h = round(picture_w * h / w)
    sidebar = (
        ""
        if mobile
        else "<aside style='flex:1'><h3>Most read</h3>"
        + "".join(
            f"<img src='{src}' style='width:100%;height:110px;object-fit:cover'>"
            f"<p style='font-size:14px'>{words(rng, 6)}</p>"
            for src in pics.fills[:3]
        )
        + "</aside>"
    )
    body = (
        "<div style='background:#961420;color:#fff;padding:14px 24px;font:bold 30px serif'>"
        "THE DAILY WIRE</div><div style='display:flex;gap:32px;padding:16px'>"
        f"<article style='flex:0 0 {column}px'><h1 style='font:bold {24 if mobile else 36}px "
        f"serif;margin:8px 0'>{words(rng, 10)}</h1><small>By Staff Reporter &middot; "
        f"{rng.randint(1, 28)} March</small><figure style='margin:14px 0'><img src='{pics.main}'"
        f" style='width:{picture_w}px;height:{picture_h}px;display:block'><figcaption style='"
        "font-size:13px;opacity:.7'>Photo: social media</figcaption></figure>"
        f"<p>{words(rng, 40)}</p></article>{sidebar}</div>"
    )
    height = picture_h + rng.randint(380, 600)
    ratio = rng.choice(PHONE_RATIOS) if mobile else rng.choice([1.0, 1.25, 1.5, 2.0])
    return Page(_doc(body, "", bg, fg), width, height, ratio, mobile)


def social(rng: random.Random, pics: Pictures) -> Page:
    """A social post on a phone: the picture cropped to the app's box, sometimes filtered."""
    width = rng.choice(PHONES)
    bg, fg, _ = THEMES[rng.choice(list(THEMES))]
    aspect = rng.choice(["1/1", "4/5", "16/9", "3/4"])
    focus = f"{rng.randint(30, 70)}% {rng.randint(30, 70)}%"
    tone = rng.choice(
        ["none", "none", "saturate(1.3) contrast(1.1)", "sepia(.25)", "brightness(1.1)"]
    )
    body = (
        f"{_status_bar(rng)}<div style='display:flex;gap:10px;align-items:center;padding:8px 12px'>"
        "<div style='width:32px;height:32px;border-radius:50%;background:#c58'></div>"
        f"<b>newsdesk_{rng.randint(10, 99)}</b></div><div style='padding:0 12px 8px'>"
        f"{words(rng, rng.randint(6, 20))}</div><img src='{pics.main}' style='width:100%;"
        f"aspect-ratio:{aspect};object-fit:cover;object-position:{focus};filter:{tone};"
        "display:block'><div style='padding:10px 12px;font-size:22px'>&#9825; &#128172; &#10148;"
        f"</div><div style='padding:0 12px'><b>{rng.randint(10, 9000)} likes</b></div>"
    )
    height = round(width * rng.uniform(1.9, 2.2))
    return Page(_doc(body, "", bg, fg), width, height, rng.choice(PHONE_RATIOS), True)


def album(rng: random.Random, pics: Pictures) -> Page:
    """An album or a multi-picture post: a grid of 2-6 photos, each cropped to its cell."""
    mobile = rng.random() < 0.5
    width = rng.choice(PHONES) if mobile else rng.choice([600, 700, 800])
    cols, rows = rng.choice([(2, 1), (1, 2), (2, 2), (3, 2), (3, 1)])
    cells = cols * rows
    others = (pics.fills * cells)[: cells - 1]
    mine = rng.randrange(cells)
    tiles = [*others[:mine], pics.main, *others[mine:]]
    gap = rng.choice([0, 2, 4, 8])
    cell_h = round(width / cols * rng.uniform(0.75, 1.25))
    grid = "".join(
        f"<img src='{src}' style='width:100%;height:{cell_h}px;object-fit:cover;display:block'>"
        for src in tiles
    )
    body = (
        f"<div style='padding:10px'>{words(rng, 12)}</div><div style='display:grid;"
        f"grid-template-columns:repeat({cols},1fr);gap:{gap}px'>{grid}</div>"
        f"<div style='padding:10px'>{words(rng, 8)}</div>"
    )
    height = rows * cell_h + (rows - 1) * gap + 160
    ratio = rng.choice(PHONE_RATIOS) if mobile else rng.choice([1.0, 1.5, 2.0])
    bg, fg, _ = THEMES[rng.choice(list(THEMES))]
    return Page(_doc(body, "", bg, fg), width, height, ratio, mobile)


def pasted(rng: random.Random, pics: Pictures) -> Page:
    """A composite: a piece of the picture (a quarter to a half of its area) over another photo,
    its edges feathered, sometimes turned a little."""
    width = rng.randint(800, 1400)
    height = round(width * rng.uniform(0.6, 1.0))
    w, h = pics.size
    area = rng.uniform(0.25, 0.5)
    share_w = rng.uniform(max(area, 0.4), min(1.0, area / 0.4))
    share_h = area / share_w
    left, top = rng.uniform(0, 1 - share_w), rng.uniform(0, 1 - share_h)
    scale = rng.uniform(0.6, 1.2) * min(width / w, height / h)  # the piece's pixels per photo's
    piece_w, piece_h = share_w * w * scale, share_h * h * scale
    at_x, at_y = rng.uniform(0, width - piece_w), rng.uniform(0, height - piece_h)
    feather = rng.randint(2, 12)
    turn = rng.uniform(-6, 6) if rng.random() < 0.4 else 0.0
    body = (
        f"<img src='{pics.fills[0]}' style='position:absolute;left:0;top:0;width:{width}px;"
        f"height:{height}px;object-fit:cover'><div style='position:absolute;left:{at_x:.0f}px;"
        f"top:{at_y:.0f}px;width:{piece_w:.0f}px;height:{piece_h:.0f}px;"
        f"background:url({pics.main}) {-left * w * scale:.0f}px {-top * h * scale:.0f}px / "
        f"{w * scale:.0f}px {h * scale:.0f}px;transform:rotate({turn:.1f}deg);"
        f"-webkit-mask-image:linear-gradient(90deg,transparent,#000 {feather}%,#000 "
        f"{100 - feather}%,transparent),linear-gradient(transparent,#000 {feather}%,#000 "
        f"{100 - feather}%,transparent);-webkit-mask-composite:source-in'></div>"
    )
    return Page(_doc(body, "", "#000", "#fff"), width, height, 1.0, False)


def viewer(rng: random.Random, pics: Pictures) -> Page:
    """A phone's full-screen media viewer: the picture across the width on black, bars over it."""
    width = rng.choice(PHONES)
    height = round(width * rng.uniform(1.9, 2.2))
    sideways = rng.random() < 0.3  # a landscape photo viewed with the phone turned
    if sideways:
        width, height = height, width
    bars = (
        "<div style='position:fixed;top:0;left:0;right:0;padding:14px;color:#fff;"
        "background:rgba(0,0,0,.5)'>&#8592; Frontline channel<br><small>"
        f"{rng.randint(1, 28)} March at {rng.randint(0, 23)}:{rng.randint(0, 59):02d}</small></div>"
        "<div style='position:fixed;bottom:0;left:0;right:0;padding:14px;color:#fff;"
        f"background:rgba(0,0,0,.5)'>{words(rng, rng.randint(0, 16))}</div>"
        if rng.random() < 0.7
        else ""
    )
    body = (
        f"<img src='{pics.main}' style='position:fixed;left:0;top:0;width:100%;height:100%;"
        f"object-fit:contain'>{bars}"
    )
    return Page(_doc(body, "", "#000", "#fff"), width, height, rng.choice(PHONE_RATIOS), True)


def story(rng: random.Random, pics: Pictures) -> Page:
    """A story: the picture over a blurred, enlarged copy of itself, with a text sticker."""
    width = rng.choice(PHONES)
    height = round(width * 16 / 9)
    share = rng.uniform(0.7, 1.0)
    sticker_top = rng.randint(8, 75)
    body = (
        f"<img src='{pics.main}' style='position:fixed;left:-10%;top:-10%;width:120%;"
        f"height:120%;object-fit:cover;filter:blur({rng.randint(12, 30)}px) brightness(.7)'>"
        f"<img src='{pics.main}' style='position:fixed;left:{(1 - share) * 50:.1f}%;top:50%;"
        f"width:{share * 100:.1f}%;transform:translateY(-50%) rotate({rng.uniform(-4, 4):.1f}deg)'>"
        f"<div style='position:fixed;left:10%;right:10%;top:{sticker_top}%;background:#fff;"
        f"color:#000;font:bold 20px sans-serif;padding:8px;border-radius:8px;"
        f"transform:rotate({rng.uniform(-8, 8):.1f}deg)'>{words(rng, rng.randint(2, 7))}</div>"
        "<div style='position:fixed;top:8px;left:8px;right:8px;height:3px;"
        "background:rgba(255,255,255,.6)'></div>"
    )
    return Page(_doc(body, "", "#000", "#fff"), width, height, rng.choice(PHONE_RATIOS), True)


LAYOUTS: dict[str, Callable[[random.Random, Pictures], Page]] = {
    "chat": chat,
    "player": player,
    "news": news,
    "social": social,
    "album": album,
    "composite": pasted,
    "viewer": viewer,
    "story": story,
}


class Browser:
    """One headless Chromium, one tab, a screenshot per page."""

    def __init__(self, tools):
        self.tools = tools
        tools.call("Page.enable")

    def shoot(self, page: Page, folder: Path) -> bytes:
        path = folder / "page.html"
        path.write_text(page.html, encoding="utf-8")
        self.tools.call(
            "Emulation.setDeviceMetricsOverride",
            width=page.width,
            height=page.height,
            deviceScaleFactor=page.ratio,
            mobile=page.mobile,
        )
        self.tools.events.clear()
        self.tools.call("Page.navigate", url=path.as_uri())
        self.tools.wait_for("Page.loadEventFired")
        shot = self.tools.call("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


def sent_on(png: bytes, rng: random.Random, path: Path) -> Path:
    """Half the screenshots go on as a messenger sends them (1280 px, JPEG), half as taken."""
    if rng.random() < 0.5:
        path = path.with_suffix(".png")
        path.write_bytes(png)
        return path
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
    path = path.with_suffix(".jpg")
    image.save(path, quality=rng.randint(65, 85))
    return path


def _jpeg_file(photo: Photo, folder: Path) -> str:
    path = folder / (hashlib.sha256(photo.name.encode()).hexdigest()[:16] + ".jpg")
    if not path.exists():
        photo.image.convert("RGB").save(path, quality=92)
    return path.as_uri()


@dataclass
class Tally:
    found: int = 0
    copies: int = 0
    false: int = 0
    unrelated: int = 0
    halves: dict[str, list[int]] | None = None

    def cell(self) -> str:
        halves = self.halves or {}
        parts = " / ".join(
            f"{sum(halves.get(h, []))}/{len(halves.get(h, []))}" for h in ("tune", "eval")
        )
        recall = self.found / self.copies if self.copies else float("nan")
        return f"| {recall:.3f} ({parts}) | {self.false}/{self.unrelated} |"


def run(strangers: int, folder: Path, per_photo: int) -> None:
    stored, unseen = split(corpus_photos())
    started = time.process_time()
    index, keypoints = _archive(stored, strangers, folder)
    print(f"index: {len(index)} pictures, built in {time.process_time() - started:.0f} s CPU")
    pictures = folder / "pictures"
    pictures.mkdir(parents=True, exist_ok=True)
    fill_urls = [_jpeg_file(p, pictures) for p in unseen]
    tallies = {name: Tally(halves={}) for name in LAYOUTS}
    shots = folder / "shots"
    shots.mkdir(exist_ok=True)
    names = list(LAYOUTS)
    with tempfile.TemporaryDirectory() as scratch, chromium(Path(scratch)) as tools:
        browser = Browser(tools)
        for label, photos in (("stored", stored), ("unseen", unseen)):
            for i, photo in enumerate(photos):
                for j in range(per_photo):
                    layout = names[(i * per_photo + j) % len(names)]
                    rng = random.Random(f"{photo.name}|{layout}")
                    main = _jpeg_file(photo, pictures)
                    fills = [u for u in fill_urls if u != main]
                    rng.shuffle(fills)
                    page = LAYOUTS[layout](rng, Pictures(main, photo.image.size, fills))
                    path = sent_on(
                        browser.shoot(page, folder), rng, shots / f"{label}-{i:02d}-{layout}"
                    )
                    found = _found(index, probe(open_picture(path).image), keypoints)
                    tally = tallies[layout]
                    if label == "stored":
                        hit = photo.name in found
                        tally.copies += 1
                        tally.found += hit
                        assert tally.halves is not None
                        tally.halves.setdefault(_half(photo.name), []).append(hit)
                        if not hit:
                            print(
                                f"  missed: {layout} of {photo.name} ({path.name})", file=sys.stderr
                            )
                    else:
                        tally.unrelated += 1
                        tally.false += bool(found)
                        if found:
                            print(
                                f"  false: {layout} of {photo.name} -> {sorted(found)}",
                                file=sys.stderr,
                            )
    print("\n| layout | recall (tuning / evaluation half) | false matches |")
    print("|---|---|---|")
    total = Tally(halves={})
    for name, tally in tallies.items():
        print(f"| {name} {tally.cell()}")
        total.found += tally.found
        total.copies += tally.copies
        total.false += tally.false
        total.unrelated += tally.unrelated
        for half, hits in (tally.halves or {}).items():
            assert total.halves is not None
            total.halves.setdefault(half, []).extend(hits)
    print(f"| **all** {total.cell()}")


def _archive(stored: list[Photo], strangers: int, folder: Path):
    """The stored photos and ``strangers`` photo-like strangers, with their keypoints."""
    prints = [(p.name, fingerprint(p.image)) for p in stored]
    if strangers:
        pool = distractor_pool(folder / "pool")
        prints += [
            (f"stranger-{n}", fingerprint(distractor(pool, 30_000_000 + n)))
            for n in range(strangers)
        ]
    index = FingerprintIndex.from_prints((i, name, None, fp) for i, (name, fp) in enumerate(prints))
    keypoints = {i: fp.keypoints for i, (_, fp) in enumerate(prints)}
    return index, keypoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strangers", type=int, default=2000)
    parser.add_argument("--per-photo", type=int, default=len(LAYOUTS))
    parser.add_argument(
        "--folder", type=Path, default=Path(tempfile.gettempdir()) / "browser-reshares"
    )
    args = parser.parse_args()
    run(args.strangers, args.folder, args.per_photo)


if __name__ == "__main__":
    main()
