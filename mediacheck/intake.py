"""Intake: every file given becomes preserved, described media in a case.

One file at a time: copy and hash it into the evidence store in one read,
find out what it is from its content, decode what can be decoded at reduced
size, extract its metadata, and record it with a history event. A step that
fails is recorded on the media and the rest goes on; one bad file never stops
the batch.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mediacheck import history
from mediacheck.blobstore import StoredBlob
from mediacheck.errors import UnsupportedMedia
from mediacheck.imaging import Picture, open_picture
from mediacheck.keyframes import extract_keyframes
from mediacheck.metadata import extract_metadata
from mediacheck.models import CaseMedia, Keyframe, Media
from mediacheck.perceptual import compute_hashes
from mediacheck.sniff import sniff
from mediacheck.storage import CaseFields, Store, new_media_id
from mediacheck.video import probe_video

SUMMARY_KEYS = (
    "make",
    "model",
    "lens",
    "software",
    "captured_at",
    "gps_latitude",
    "gps_longitude",
    "gps_altitude",
    "orientation",
    "declared_width",
    "declared_height",
    "width",
    "height",
    "has_thumbnail",
)


@dataclass(frozen=True)
class IntakeRequest:
    user: str
    case_id: str | None = None  # None: every file becomes a case of its own...
    one_case: bool = False  # ...unless all files go into one new case
    fields: CaseFields = CaseFields()


@dataclass
class IntakeResult:
    path: str
    status: str  # added, already-stored or error
    case_id: str | None = None
    media_id: str | None = None
    sha256: str | None = None
    kind: str | None = None
    mime: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class InputFile:
    path: Path
    was_symlink: bool = False
    problem: str | None = None  # why it cannot be read at all


@dataclass
class Analysis:
    """What a file says about itself, before it is stored."""

    kind: str
    mime: str
    summary: dict[str, Any]
    width: int | None = None
    height: int | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    pdq_quality: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    video: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    fatal: str | None = None  # the file is kept as evidence but could not be analysed
    picture: Picture | None = None


def collect_files(paths: Iterable[Path]) -> list[InputFile]:
    """Every file named or found below a named folder, in a stable order."""
    found: list[InputFile] = []
    for path in paths:
        found.extend(_collect(Path(path)))
    return found


def _collect(path: Path) -> Iterator[InputFile]:
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                yield _input_file(Path(root) / name)
        return
    yield _input_file(path)


def _input_file(path: Path) -> InputFile:
    is_link = path.is_symlink()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        cause = "broken symbolic link" if is_link else "no such file or directory"
        return InputFile(path, is_link, cause)
    except OSError as exc:
        return InputFile(path, is_link, f"cannot be read: {exc.strerror or exc}")
    if not stat.S_ISREG(mode):
        return InputFile(path, is_link, "not a regular file")
    if not os.access(path, os.R_OK):
        return InputFile(path, is_link, "cannot be read: permission denied")
    return InputFile(path, is_link)


def intake(
    store: Store,
    paths: Iterable[Path],
    request: IntakeRequest,
    on_result: Callable[[IntakeResult], None] | None = None,
    files: list[InputFile] | None = None,
) -> list[IntakeResult]:
    """Take in every file; results come back in input order, one per file."""
    if request.case_id is not None:
        store.get_case(request.case_id)  # an unknown case stops everything before any write
    results = []
    for item in files if files is not None else collect_files(paths):
        result = intake_file(store, item, request)
        if request.one_case and request.case_id is None and result.case_id:
            request = replace(request, case_id=result.case_id)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def intake_file(store: Store, item: InputFile, request: IntakeRequest) -> IntakeResult:
    shown = str(item.path)
    if item.problem:
        return IntakeResult(path=shown, status="error", error=f"{shown}: {item.problem}")
    try:
        file_stat = item.path.stat()
        if file_stat.st_size == 0:
            return IntakeResult(
                path=shown, status="error", error=f"{shown}: file is empty (0 bytes)"
            )
        blob = store.blobs.put(item.path)
    except OSError as exc:
        cause = exc.strerror or str(exc)
        return IntakeResult(path=shown, status="error", error=f"{shown}: cannot be read: {cause}")
    # Bytes new to the store cannot be known media: skip the lookup.
    known = store.media_by_sha256(blob.sha256) if blob.existed else None
    analysis = None if known else analyze(blob.path)
    keyframes = _video_pictures(store, blob, analysis) if analysis else []
    media = known or _new_media(store, blob, analysis, item.path.name)
    link = CaseMedia(
        case_id=request.case_id or "",
        media_id=media.id,
        original_name=item.path.name,
        original_path=str(item.path.absolute()),
        file_mtime=_iso_mtime(file_stat.st_mtime),
        was_symlink=item.was_symlink,
        added_by=request.user,
        added_at=history.now(),
    )
    case_id, stored, _ = store.add_media_to_case(
        request.case_id,
        media,
        link,
        _event_details(link, media),
        _new_case_fields(request, item),
        keyframes,
    )
    status = "already-stored" if known or stored is not media else "added"
    fatal = analysis.fatal if analysis else _stored_problem(stored)
    return IntakeResult(
        path=shown,
        status="error" if fatal else status,
        case_id=case_id,
        media_id=stored.id,
        sha256=stored.sha256,
        kind=stored.kind,
        mime=stored.mime,
        error=f"{shown}: {fatal}" if fatal else None,
    )


def analyze(path: Path) -> Analysis:
    """Everything intake learns from the content of one stored original."""
    sniffed = sniff(path)
    analysis = Analysis(kind=sniffed.kind, mime=sniffed.mime, summary=dict.fromkeys(SUMMARY_KEYS))
    if sniffed.kind == "image":
        _analyze_image(path, analysis)
    elif sniffed.kind in ("video", "audio"):
        _analyze_video(path, analysis)
    else:
        analysis.fatal = _unsupported(sniffed.mime)
    return analysis


def _analyze_image(path: Path, analysis: Analysis) -> None:
    try:
        picture = open_picture(path)
    except UnsupportedMedia as exc:
        analysis.fatal = f"{exc.cause}: kept as evidence with its hashes only"
        analysis.errors.append(exc.cause)
        picture = None
    if picture is not None:
        analysis.picture = picture
        analysis.width, analysis.height = picture.width, picture.height
        perceptual = compute_hashes(picture.image)
        analysis.hashes, analysis.pdq_quality = perceptual.hashes, perceptual.pdq_quality
        if picture.truncated:
            analysis.fatal = "picture is truncated: hashed the part that decodes"
            analysis.errors.append("picture is truncated")
    size = (picture.width, picture.height) if picture else None
    extracted = extract_metadata(path, analysis.mime, size)
    analysis.summary.update({k: extracted.summary.get(k) for k in SUMMARY_KEYS})
    analysis.metadata = extracted.metadata
    analysis.errors.extend(extracted.errors)


def _analyze_video(path: Path, analysis: Analysis) -> None:
    try:
        probe = probe_video(path)
    except UnsupportedMedia as exc:
        analysis.fatal = f"{exc.cause}: kept as evidence with its hashes only"
        analysis.errors.append(exc.cause)
        return
    analysis.kind = probe.kind
    analysis.summary = dict(probe.summary)
    analysis.width, analysis.height = probe.summary["width"], probe.summary["height"]
    analysis.metadata = probe.metadata
    analysis.video = probe.video
    analysis.errors.extend(probe.errors)


def _video_pictures(store: Store, blob: StoredBlob, analysis: Analysis) -> list[Keyframe]:
    """Keyframes and contact sheet of a video, saved beside its original."""
    if analysis.kind != "video" or analysis.video is None:
        return []
    out_dir = store.blobs.derived_dir(blob.sha256)
    try:
        pictures = extract_keyframes(blob.path, out_dir)
    except UnsupportedMedia as exc:
        analysis.errors.append(exc.cause)
        return []
    analysis.errors.extend(pictures.errors)
    if pictures.contact_sheet:
        sheet = store.blobs.relative(out_dir / pictures.contact_sheet)
        analysis.video["contact_sheet"] = sheet
    return [
        Keyframe(
            media_id=new_media_id(blob.sha256),
            idx=frame.index,
            time_s=frame.time_s,
            path=store.blobs.relative(out_dir / frame.file),
            hashes=frame.hashes,
            pdq_quality=frame.pdq_quality,
        )
        for frame in pictures.keyframes
    ]


def _unsupported(mime: str) -> str:
    if mime == "text/plain":
        return "content is text, not a picture or video: kept as evidence with its hashes only"
    return f"unsupported format ({mime}): kept as evidence with its hashes only"


def _new_media(store: Store, blob: StoredBlob, analysis: Analysis, name: str) -> Media:
    errors = list(analysis.errors)
    if analysis.fatal and analysis.fatal not in errors:
        errors.insert(0, analysis.fatal)
    return Media(
        id=new_media_id(blob.sha256),
        sha256=blob.sha256,
        sha1=blob.sha1,
        md5=blob.md5,
        size=blob.size,
        kind=analysis.kind,
        mime=analysis.mime,
        width=analysis.width,
        height=analysis.height,
        hashes=analysis.hashes,
        pdq_quality=analysis.pdq_quality,
        summary=analysis.summary,
        meta=analysis.metadata,
        video=analysis.video,
        errors=errors,
        blob_path=store.blobs.relative(blob.path),
        first_name=name,
        created_at=history.now(),
    )


def _new_case_fields(request: IntakeRequest, item: InputFile) -> CaseFields:
    fields = request.fields
    return fields if fields.title else replace(fields, title=item.path.name)


def _stored_problem(media: Media) -> str | None:
    """For bytes taken in before: the problem recorded then, if it was fatal."""
    first = media.errors[0] if media.errors else None
    return first if first and "kept as evidence" in first else None


def _event_details(link: CaseMedia, media: Media) -> dict[str, Any]:
    return {
        "media_id": media.id,
        "sha256": media.sha256,
        "kind": media.kind,
        "mime": media.mime,
        "size": media.size,
        "original_name": link.original_name,
        "was_symlink": link.was_symlink,
    }


def _iso_mtime(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
