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
    (r"^lav[fc]\d", "FFmpeg (libavformat/libavcodec), used by most apps, platforms and converters"),
    (r"handbrake", "HandBrake"),
    (r"\bx26[45]\b", "x264/x265 encoder"),
    (r"produced by google", "Google/YouTube processing"),
    (r"premiere|after effects", "Adobe Premiere/After Effects"),
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
    (r"mainconcept", "MainConcept encoder"),
    (r"telegram", "Telegram"),
    (r"whatsapp", "WhatsApp"),
    (r"tiktok", "TikTok"),
]
# The MP4 brands FFmpeg writes by default; cameras and phones write their own.
FFMPEG_BRANDS = ("isom", "isomiso2avc1mp41")
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
                "program": "FFmpeg default MP4 brands",
            }
        )
    if not matches:
        return []
    programs = sorted({m["program"] for m in matches})
    message = (
        f"The video's tags show it was written by {'; '.join(programs)}, not straight "
        "by a phone or camera. Messaging apps and platforms re-encode every upload, so "
        "this is expected for shared video; it means the file is a copy, possibly trimmed "
        "or edited, and an earlier original may exist."
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
