"""Signals read from a picture's metadata: stripped EXIF, software that saved it, declared size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from PIL import Image

from mediacheck.findings.base import NOTICE, Finding, FindingContext
from mediacheck.findings.firmware import is_firmware

# Tags only a capture device writes; orientation or resolution alone can come
# from any program that saves a picture.
CAMERA_TAGS = (
    "Image Make",
    "Image Model",
    "EXIF DateTimeOriginal",
    "EXIF ExposureTime",
    "EXIF FNumber",
    "EXIF ISOSpeedRatings",
    "EXIF FocalLength",
    "EXIF LensModel",
    "EXIF MakerNote",
    "GPS GPSLatitude",
)

# Long edges that messaging apps and platforms resize photos to. A match is a
# resemblance, not an identification: any program can produce these sizes.
PLATFORM_LONG_EDGES = {
    960: ("Facebook (small)",),
    1080: ("Instagram",),
    1280: ("Telegram",),
    1600: ("WhatsApp",),
    2048: ("Facebook", "X/Twitter"),
    2560: ("Telegram (HD)",),
    4096: ("WhatsApp (HD)", "X/Twitter"),
}

# Editors named with their version, most specific first. Any other program
# that is not the device's firmware is reported too (``firmware.is_firmware``):
# this list only gives well-known editors their usual names.
EDITORS = [
    (r"lightroom", "Adobe Lightroom"),
    (r"photoshop elements", "Adobe Photoshop Elements"),
    (r"photoshop album", "Adobe Photoshop Album"),
    (r"photoshop express", "Adobe Photoshop Express"),
    (r"photoshop", "Adobe Photoshop"),
    (r"imageready", "Adobe ImageReady"),
    (r"camera raw", "Adobe Camera Raw"),
    (r"\bgimp\b", "GIMP"),
    (r"^photos\b", "Apple Photos"),
    (r"darktable", "darktable"),
    (r"rawtherapee", "RawTherapee"),
    (r"capture one", "Capture One"),
    (r"affinity photo", "Affinity Photo"),
    (r"pixelmator", "Pixelmator"),
    (r"snapseed", "Snapseed"),
    (r"picsart", "PicsArt"),
    (r"paint\.net", "Paint.NET"),
    (r"paint ?shop ?pro", "PaintShop Pro"),
    (r"acdsee", "ACDSee"),
    (r"irfanview", "IrfanView"),
    (r"xnview", "XnView"),
    (r"imagemagick", "ImageMagick"),
    (r"graphicsmagick", "GraphicsMagick"),
    (r"picasa", "Picasa"),
    (r"\bcanva\b", "Canva"),
    (r"fotor", "Fotor"),
    (r"photoscape", "PhotoScape"),
    (r"luminar", "Luminar"),
    (r"facetune", "Facetune"),
    (r"meitu", "Meitu"),
    (r"\bvsco\b", "VSCO"),
    (r"pixlr", "Pixlr"),
    (r"photopea", "Photopea"),
    (r"\bkrita\b", "Krita"),
    (r"inkscape", "Inkscape"),
    (r"\bdxo\b", "DxO"),
    (r"ptgui", "PTGui"),
    (r"\bhugin\b", "Hugin"),
    (r"faceapp", "FaceApp"),
    (r"polarr", "Polarr"),
    (r"windows photo|microsoft photos", "Microsoft Photos"),
]
VERSION = re.compile(r"\b(CC(?: \d{4})?|CS\d*|v?\d+(?:\.\d+)*[a-z]?)\b", re.IGNORECASE)
XMP_CREATOR_TOOL = re.compile(
    r"xmp:CreatorTool(?:=\"([^\"]*)\"|>([^<]*)</xmp:CreatorTool>)", re.IGNORECASE
)
XMP_HISTORY_AGENT = re.compile(
    r"stEvt:softwareAgent(?:=\"([^\"]*)\"|>([^<]*)</stEvt:softwareAgent>)", re.IGNORECASE
)
XMP_HISTORY_ACTION = re.compile(
    r"stEvt:action(?:=\"([^\"]*)\"|>([^<]*)</stEvt:action>)", re.IGNORECASE
)
# Image resources every IPTC captioning tool writes; the others are Photoshop's own.
IPTC_ONLY_RESOURCES = {0x0404, 0x0425}
MAX_TEXT = 200
# Hostile files can repeat a field thousands of times; evidence keeps the first ones.
MAX_LIST = 50
MAX_SCAN = 1000


def check_stripped(ctx: FindingContext) -> list[Finding]:
    if ctx.kind != "image":
        return []
    exif = ctx.metadata.get("exif") or {}
    if any(tag in exif for tag in CAMERA_TAGS):
        return []
    width, height = ctx.summary.get("width"), ctx.summary.get("height")
    segments = jpeg_segments(ctx.path) if ctx.mime == "image/jpeg" else []
    patterns = _platform_patterns(segments, width, height)
    resembles = sorted({name for p in patterns for name in p["platforms"]})
    message = (
        "The file carries no camera metadata (no make, model, capture time or exposure). "
        "Messaging apps and social platforms remove it when they re-encode pictures, "
        "and so do screenshots and many editors."
    )
    if resembles:
        message += f" Its header and size resemble files re-encoded by {', '.join(resembles)}."
    message += " Missing metadata neither proves nor disproves where the picture comes from."
    evidence = {
        "exif_tag_count": len(exif),
        "jpeg_segments": segments,
        "width": width,
        "height": height,
        "patterns": [p["pattern"] for p in patterns],
        "resembles": resembles,
    }
    return [Finding("metadata-stripped", NOTICE, message, evidence)]


def _platform_patterns(segments: list[str], width: Any, height: Any) -> list[dict]:
    patterns = []
    if segments and all(s == "APP0:JFIF" for s in segments):
        patterns.append(
            {
                "pattern": "jfif-only-header",
                "platforms": ("Telegram", "WhatsApp", "Facebook", "X/Twitter"),
            }
        )
    if isinstance(width, int) and isinstance(height, int):
        long_edge = max(width, height)
        if long_edge in PLATFORM_LONG_EDGES:
            patterns.append(
                {"pattern": f"long-edge-{long_edge}", "platforms": PLATFORM_LONG_EDGES[long_edge]}
            )
    return patterns


def jpeg_segments(path: Path) -> list[str]:
    """The application segments of a JPEG header, as ``APPn:identifier`` (and ``COM``).

    Empty when the header cannot be parsed: the file is still stripped of metadata.
    """
    try:
        with Image.open(path) as img:
            applist = getattr(img, "applist", [])
            return [_segment_name(marker, data) for marker, data in applist[:MAX_LIST]]
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return []


def _segment_name(marker: str, data: bytes) -> str:
    if marker == "COM":
        return "COM"
    ident = data.split(b"\0", 1)[0][:32].decode("ascii", "replace")
    if ident.startswith("http://ns.adobe.com/xap"):
        ident = "XMP"
    return f"{marker}:{ident}"


def check_editing_software(ctx: FindingContext) -> list[Finding]:
    if ctx.kind != "image":
        return []
    make, model = ctx.summary.get("make"), ctx.summary.get("model")
    sources = _software_sources(ctx.metadata)
    programs = [s for s in sources if s["program"]]
    unnamed = [s for s in sources if not s["program"]]
    firmware = [s for s in unnamed if is_firmware(s["value"], _text(make), _text(model))]
    other = [s for s in unnamed if s not in firmware]
    history = _xmp_history(ctx.metadata)
    photoshop_ids = _photoshop_only_resources(ctx.metadata)
    if not programs and not other and not history["actions"] and not photoshop_ids:
        return []
    evidence = {
        "programs": programs,
        "other_software": [_where(s) for s in other],
        "firmware": [_where(s) for s in firmware],
        "make": make,
        "model": model,
        "xmp_history": history,
        "photoshop_resource_ids": photoshop_ids,
    }
    message = _editing_message(programs, other, history)
    return [Finding("editing-software", NOTICE, message, evidence)]


def _editing_message(programs: list[dict], other: list[dict], history: dict) -> str:
    sentences = []
    if programs:
        named = sorted({f"{p['program']} {p['version'] or ''}".strip() for p in programs})
        sentences.append(f"This file was saved by editing software: {', '.join(named)}.")
    if other:
        names = " and ".join(f'"{value}"' for value in sorted({s["value"] for s in other}))
        also = "It was also" if programs else "This file was"
        sentences.append(f"{also} saved by software {names}, not recognised as camera firmware.")
    if not sentences and history["actions"]:
        sentences.append("The file's XMP metadata holds an edit history, left by an editor.")
    elif not sentences:
        sentences.append(
            "The file has a Photoshop image resource block, which Photoshop writes when it saves."
        )
    sentences.append(
        "Newsrooms and photographers routinely crop, correct colour and caption pictures, "
        "so this shows the file is not straight from the camera, not that its content was altered."
    )
    return " ".join(sentences)


def _software_sources(metadata: dict) -> list[dict]:
    """Every software name the file holds, with the editor it names (if a known one)."""
    exif = metadata.get("exif") or {}
    found = [
        ("EXIF Software", exif.get("Image Software")),
        ("EXIF IFD1 Software", exif.get("Thumbnail Software")),
    ]
    found.append(("PNG Software", (metadata.get("png_text") or {}).get("Software")))
    packet = _xmp_packet(metadata)
    found += [("XMP CreatorTool", _group(m)) for m in _first(XMP_CREATOR_TOOL, packet)]
    found += [("XMP History", _group(m)) for m in _first(XMP_HISTORY_AGENT, packet)]
    sources, seen = [], set()
    for source, value in found:
        text = _text(value)
        if text is None or (source, text) in seen:
            continue
        seen.add((source, text))
        sources.append({"source": source, "value": text, **identify(text)})
    return sources[:MAX_LIST]


def _text(value: Any) -> str | None:
    """A tag's text, trimmed and bounded; None when it holds no letter or digit."""
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\0").strip()[:MAX_TEXT]
    return text if any(c.isalnum() for c in text) else None


def _where(source: dict) -> dict:
    return {"source": source["source"], "value": source["value"]}


def identify(software: str) -> dict:
    """Name the editing program and its version in a software string, if it is one."""
    text = software.strip()
    for pattern, program in EDITORS:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            version = VERSION.search(text[match.end() :])
            return {"program": program, "version": version.group(1) if version else None}
    return {"program": None, "version": None}


def _xmp_packet(metadata: dict) -> str:
    xmp = metadata.get("xmp") or {}
    packet = xmp.get("packet") if isinstance(xmp, dict) else None
    return packet if isinstance(packet, str) else ""


def _xmp_history(metadata: dict) -> dict:
    packet = _xmp_packet(metadata)
    actions = [_group(m) for m in _first(XMP_HISTORY_ACTION, packet)]
    agents = {_group(m) for m in _first(XMP_HISTORY_AGENT, packet)}
    return {
        "actions": [a[:MAX_TEXT] for a in actions[:MAX_LIST]],
        "agents": sorted(a[:MAX_TEXT] for a in agents)[:MAX_LIST],
    }


def _first(pattern: re.Pattern, text: str) -> Iterator[re.Match]:
    return islice(pattern.finditer(text), MAX_SCAN)


def _group(match: re.Match) -> str:
    return (match.group(1) or match.group(2) or "").strip()


def _photoshop_only_resources(metadata: dict) -> list[int]:
    photoshop = metadata.get("photoshop") or {}
    ids = {_resource_id(r) for r in photoshop.get("resource_ids") or []}
    return sorted(i for i in ids if i is not None and i not in IPTC_ONLY_RESOURCES)


def _resource_id(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 0)
    except ValueError:
        return None


def check_dimensions(ctx: FindingContext) -> list[Finding]:
    if ctx.kind != "image":
        return []
    declared = _size(ctx.summary, "declared_width", "declared_height")
    real = _size(ctx.summary, "width", "height")
    if declared is None or real is None:
        return []
    # Rotated pictures may record their size upright or as stored.
    if declared in (real, real[::-1]):
        return []
    same_shape = abs(declared[0] / declared[1] - real[0] / real[1]) < 0.01 * real[0] / real[1]
    change = "resized" if same_shape else "cropped (or resized to another shape)"
    message = (
        f"The metadata says the picture was {declared[0]}x{declared[1]} pixels when it was "
        f"taken, but it is {real[0]}x{real[1]}: it was {change} after capture. "
        "Platforms and editors resize pictures routinely; a crop can also remove context, "
        "so look for a larger original."
    )
    evidence = {
        "declared_width": declared[0],
        "declared_height": declared[1],
        "width": real[0],
        "height": real[1],
        "same_aspect_ratio": same_shape,
    }
    return [Finding("dimension-mismatch", NOTICE, message, evidence)]


def _size(summary: dict, width_key: str, height_key: str) -> tuple[int, int] | None:
    width, height = summary.get(width_key), summary.get(height_key)
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    return None
