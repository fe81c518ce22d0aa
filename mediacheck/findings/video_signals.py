"""Traces of re-encoding in a video's container and stream tags."""

from __future__ import annotations

import re
from typing import Any

from mediacheck.findings.base import NOTICE, Finding, FindingContext, string_tags

# Tags where muxers, encoders and editors sign their work.
SIGNATURE_KEYS = {
    "encoder",
    "handler_name",
    "software",
    "comment",
    "tool",
    "encoded_by",
    "writing_application",
    "com.apple.quicktime.software",
}
# Program patterns, most specific first. Phones and cameras write their own
# names here (e.g. "Core Media Video", "GoPro AVC"), which are not listed.
ENCODERS = [
    (r"^lav[fc]\d", "FFmpeg"),
    (r"handbrake", "HandBrake"),
    (r"\bx264\b", "the x264 encoder"),
    (r"\bx265\b", "the x265 encoder"),
    (r"produced by google", "Google's (YouTube's) processing"),
    (r"premiere", "Adobe Premiere"),
    (r"after effects", "Adobe After Effects"),
    (r"capcut", "CapCut"),
    (r"inshot", "InShot"),
    (r"kinemaster", "KineMaster"),
    (r"imovie", "iMovie"),
    (r"final cut", "Final Cut Pro"),
    (r"davinci|resolve", "DaVinci Resolve"),
    (r"filmora", "Filmora"),
    (r"clipchamp", "Clipchamp"),
    (r"shotcut", "Shotcut"),
    (r"openshot", "OpenShot"),
    (r"\bvlc\b", "VLC"),
    (r"movavi", "Movavi"),
    (r"mainconcept", "the MainConcept encoder"),
    (r"telegram", "Telegram"),
    (r"whatsapp", "WhatsApp"),
    (r"tiktok", "TikTok"),
]
# The MP4 brands FFmpeg writes by default; cameras and phones write their own.
FFMPEG_BRANDS = ("isom", "isomiso2avc1mp41")
FFMPEG = "FFmpeg"
# Said once when FFmpeg is named: most people have never heard of it.
FFMPEG_NOTE = "FFmpeg is the converter inside most apps, platforms and video tools."
MAX_TEXT = 200
MAX_MATCHES = 50


def check_reencoded(ctx: FindingContext) -> list[Finding]:
    if ctx.kind != "video":
        return []
    tags = list(string_tags(ctx.metadata, SIGNATURE_KEYS))
    if ctx.summary.get("encoder"):
        tags.insert(0, ("summary.encoder", str(ctx.summary["encoder"])))
    matches = _matches(tags)
    brands = _brands(ctx.metadata)
    if brands == FFMPEG_BRANDS:
        matches.append(
            {
                "tag": "major_brand/compatible_brands",
                "value": " ".join(brands),
                "program": FFMPEG,
            }
        )
    if not matches:
        return []
    programs = sorted({m["program"] for m in matches})
    named = ", ".join(programs[:-1]) + " and " + programs[-1] if len(programs) > 1 else programs[0]
    message = (
        f"This video file was written by {named}, not straight by a phone or camera: "
        "its tags name the program that made it."
    )
    if FFMPEG in programs:
        message += f" {FFMPEG_NOTE}"
    message += (
        " Messaging apps and platforms re-encode every upload, so this is expected for "
        "shared video. It means the file is a copy, possibly trimmed or edited, and an "
        "earlier original may exist."
    )
    return [Finding("video-reencoded", NOTICE, message, {"matches": matches})]


def _matches(tags: list[tuple[str, str]]) -> list[dict]:
    matches, seen = [], set()
    for where, value in tags:
        for pattern, program in ENCODERS:
            if re.search(pattern, value, re.IGNORECASE) and (program, value) not in seen:
                seen.add((program, value))
                matches.append({"tag": where, "value": value[:MAX_TEXT], "program": program})
                break
    return matches[:MAX_MATCHES]


def _brands(metadata: Any) -> tuple[str, str] | None:
    """The container's major and compatible brands, wherever the probe put them."""
    if isinstance(metadata, dict):
        major, compatible = metadata.get("major_brand"), metadata.get("compatible_brands")
        if isinstance(major, str) and isinstance(compatible, str):
            return major.strip(), compatible.strip()
        for value in metadata.values():
            found = _brands(value)
            if found:
                return found
    return None
