"""Case reports: HTML a person would rather look at, Markdown to paste, JSON for tools.

Every report is built from ``casefile.case_document`` plus the history, so each
part of a case appears in the reports as soon as the document carries it. The
HTML and Markdown reports open with what an editor needs in 30 seconds: a red
banner when the case fails its integrity check, a summary (``overview``), each
earlier sighting beside the new picture, and the history as sentences
(``narrative``); the details follow. Every
value that came from a file or a user is hostile: the HTML template escapes it,
the page forbids scripts, pictures are re-encoded thumbnails (never the bytes
of an original) and only http(s) URLs become links.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image

from mediacheck.history import chain as history
from mediacheck.integrity import verify as integrity
from mediacheck.media.pictures import open_picture
from mediacheck.publish import document as casefile
from mediacheck.publish import narrative, overview
from mediacheck.store.blobs import is_derived_key
from mediacheck.store.database import Store

THUMBNAIL_SIZE = 480
KEYFRAME_SIZE = 240
FINDING_SIZE = 480
JPEG_QUALITY = 80
OSM = "https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=16/{lat:.6f}/{lon:.6f}"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&])")
# Characters that start a list, quote or heading when they begin a line.
_MARKDOWN_LINE_START = ("-", "+", ".", "!", "=", ">")
_UNSAFE_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")


def report_document(store: Store, case_id: str) -> dict[str, Any]:
    """The whole case as data: ``show --json`` plus the history."""
    doc = casefile.case_document(store, case_id)
    doc["history"] = [casefile.event_document(e) for e in store.events(case_id)]
    return doc


def render(store: Store, doc: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return render_json(doc)
    if fmt == "md":
        return render_markdown(doc, untrusted_matches(store, doc))
    return render_html(store, doc)


def untrusted_matches(store: Store, doc: dict[str, Any]) -> frozenset[str]:
    """The earlier cases the report cites whose history or rows were altered since."""
    cited = {
        str(match.get("case_id"))
        for media in doc.get("media") or []
        for match in overview.earlier_matches(doc, media)
    }
    return frozenset(integrity.untrusted_cases(store, cited))


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


def render_markdown(doc: dict[str, Any], untrusted: frozenset[str] = frozenset()) -> str:
    """``untrusted``: the earlier cases whose verdicts are not to be cited (see above)."""
    return _environment().get_template("report.md").render(case=doc, **_shared(doc, untrusted))


def render_html(store: Store, doc: dict[str, Any]) -> str:
    untrusted = untrusted_matches(store, doc)
    media = [_media_view(store, item) for item in doc.get("media", [])]
    sightings = [
        _sighting(store, item, match)
        for item in media
        for match in overview.earlier_matches(doc, item["doc"])
    ]
    css, css_hash = _stylesheet()
    return (
        _environment()
        .get_template("report.html")
        .render(
            case=doc,
            media=media,
            sightings=sightings,
            css=css,
            css_hash=css_hash,
            **_shared(doc, untrusted),
        )
    )


@functools.cache
def _stylesheet() -> tuple[str, str]:
    """The page's CSS and its CSP hash: the page allows that stylesheet and no other style."""
    css = (resources.files("mediacheck.publish") / "templates" / "report.css").read_text("utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return css, f"sha256-{digest}"


def http_url(value: Any) -> str | None:
    """``value`` if it is a plain http(s) URL with a host, else None (never javascript:)."""
    if not isinstance(value, str) or _UNSAFE_URL_CHARS.search(value):
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def map_url(latitude: Any, longitude: Any) -> str | None:
    """An OpenStreetMap link, built from numbers only."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return OSM.format(lat=lat, lon=lon)


def markdown_text(value: Any) -> str:
    """Text that Markdown shows as written: no links, markup or table breaks from a file."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(("" if value is None else str(value)).split()))
    return "\\" + text if text.startswith(_MARKDOWN_LINE_START) else text


def markdown_url(value: Any) -> str | None:
    url = http_url(value)
    return None if url is None else quote(url, safe=":/?#@!$&*+,;=%~-._")


def metadata_rows(metadata: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested metadata flattened to (dotted key, text) rows, in a stable order."""
    if isinstance(metadata, dict):
        rows = []
        for key in sorted(metadata, key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            rows.extend(metadata_rows(metadata[key], name))
        return rows
    if isinstance(metadata, list) and any(isinstance(v, dict | list) for v in metadata):
        rows = []
        for index, value in enumerate(metadata):
            rows.extend(metadata_rows(value, f"{prefix}[{index}]"))
        return rows
    return [(prefix, _text(metadata))]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _shared(doc: dict[str, Any], untrusted: frozenset[str]) -> dict[str, Any]:
    location = doc.get("claimed_location") or {}

    def seen_verdict(match: dict[str, Any]) -> str:
        return overview.cited_verdict(match, untrusted)

    return {
        "generated_at": history.now(),
        "claimed_map": map_url(location.get("latitude"), location.get("longitude")),
        "canonical_json": history.canonical_json,
        "summary": overview.summarise(doc, untrusted),
        "seen_verdict": seen_verdict,
        "sentences": narrative.sentences(doc.get("history") or []),
        "short_media": narrative.media,
        "verdict_label": overview.verdict_label,
    }


@dataclass
class InlineImage:
    """A picture embedded in a report as a data URI, with its caption."""

    label: str
    data_uri: str


def _media_view(store: Store, media: dict[str, Any]) -> dict[str, Any]:
    """The pictures and derived values the template shows beside one media document."""
    summary = media.get("summary") or {}
    return {
        "doc": media,
        "thumbnail": _thumbnail(store, media),
        "keyframes": _keyframe_pictures(store, media),
        "contact_sheet": _stored_picture(store, media.get("contact_sheet"), THUMBNAIL_SIZE * 2),
        "findings": [_finding_view(store, f) for f in media.get("findings") or []],
        "map": map_url(summary.get("gps_latitude"), summary.get("gps_longitude")),
        "metadata": metadata_rows(media.get("metadata") or {}),
    }


@dataclass
class Sighting:
    """One item of the case beside the archive picture it matched, and that case's verdict."""

    media: dict[str, Any]  # the media document of this case's item
    match: dict[str, Any]  # its seen_before entry
    new_picture: str | None
    archive_picture: str | None
    archive_label: str  # what the archive picture is: the original, or a keyframe


def _sighting(store: Store, item: dict[str, Any], match: dict[str, Any]) -> Sighting:
    picture, label = _archive_picture(store, match)
    return Sighting(item["doc"], match, item["thumbnail"], picture, label)


def _archive_picture(store: Store, match: dict[str, Any]) -> tuple[str | None, str]:
    """The matched archive picture: a video's keyframe nearest the match, else the original."""
    media_id, sha256 = match.get("media_id"), match.get("sha256")
    frames = store.keyframes(media_id) if isinstance(media_id, str) else []
    if frames:
        at = match.get("frame_time_s")
        target = float(at) if isinstance(at, int | float) else 0.0
        nearest = min(frames, key=lambda frame: abs(frame.time_s - target))
        label = f"keyframe at {_seconds(nearest.time_s)}"
        return _stored_picture(store, nearest.path, THUMBNAIL_SIZE), label
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-f]{64}", sha256):
        return None, "original"
    return picture_uri(store.blobs.original_path(sha256), THUMBNAIL_SIZE), "original"


def _thumbnail(store: Store, media: dict[str, Any]) -> str | None:
    """The picture itself, or a video's first keyframe."""
    if media.get("kind") == "image":
        return _picture_of(store, store.blobs.original_key(media["sha256"]), THUMBNAIL_SIZE)
    frames = media.get("keyframes") or [{}]
    return _stored_picture(store, frames[0].get("path"), THUMBNAIL_SIZE)


def _keyframe_pictures(store: Store, media: dict[str, Any]) -> list[InlineImage]:
    pictures = []
    for frame in media.get("keyframes") or []:
        uri = _stored_picture(store, frame.get("path"), KEYFRAME_SIZE)
        if uri is not None:
            pictures.append(InlineImage(_seconds(frame.get("time_s")), uri))
    return pictures


def _finding_view(store: Store, finding: dict[str, Any]) -> dict[str, Any]:
    return {
        "doc": finding,
        "picture": _stored_picture(store, finding.get("image"), FINDING_SIZE),
        "evidence": metadata_rows(finding.get("evidence") or {}),
    }


def _seconds(value: Any) -> str:
    return f"{float(value):.2f} s" if isinstance(value, int | float) else ""


def _stored_picture(store: Store, relative: Any, size: int) -> str | None:
    """A derived picture named by its path relative to the store; None if absent or not one."""
    if not is_derived_key(relative):
        return None
    return _picture_of(store, relative, size)


def _picture_of(store: Store, key: str, size: int) -> str | None:
    """A thumbnail of a stored picture, read through the blob store; None if it is gone."""
    try:
        with store.blobs.local_blob(key) as path:
            return picture_uri(path, size)
    except OSError:
        return None


def picture_uri(path: Path, size: int) -> str | None:
    """A JPEG data URI of a thumbnail re-encoded by Pillow; None if it cannot be decoded."""
    data = thumbnail_jpeg(path, size)
    if data is None:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def thumbnail_jpeg(path: Path, size: int) -> bytes | None:
    """A thumbnail re-encoded by Pillow as JPEG (the web desk serves these); None if undecodable."""
    try:
        image = open_picture(path).image.copy()
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    except Exception:  # noqa: BLE001 - a stored original is hostile: the report goes on without it
        return None
    return buffer.getvalue()


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mediacheck.publish", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("md",)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        http_url=http_url,
        md=markdown_text,
        md_url=markdown_url,
        map_url=map_url,
        metadata_rows=metadata_rows,
    )
    return env
