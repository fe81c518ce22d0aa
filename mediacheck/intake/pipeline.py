"""Intake: every file given becomes preserved, described media in a case.

For each file: copy and hash it into the evidence store in one read, find out
what it is from its content, decode what can be decoded at reduced size,
extract its metadata, fingerprint it and work out its findings (``prepare``,
no database needed: with ``jobs`` above 1 this runs in worker processes), then
search the archive and record it with a history event, one file after the
other in input order (``record``). A step that fails is recorded on the media
and the rest goes on; one bad file never stops the batch.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from mediacheck.errors import UnsupportedMedia
from mediacheck.findings import PIXEL_CHECKS
from mediacheck.findings.service import finding_rows
from mediacheck.history import chain as history
from mediacheck.match import search as seen
from mediacheck.match.fingerprints import Probe
from mediacheck.media.hashes import compute_hashes
from mediacheck.media.library_warnings import library_messages
from mediacheck.media.metadata import SUMMARY_KEYS, extract_metadata
from mediacheck.media.pictures import Picture, open_picture
from mediacheck.media.sniff import sniff
from mediacheck.media.video.keyframes import extract_keyframes
from mediacheck.media.video.probe import probe_video
from mediacheck.store.blobs import BlobStore, StoredBlob
from mediacheck.store.database import CaseFields, Store, new_media_id
from mediacheck.store.models import Case, CaseMedia, Finding, Keyframe, Media


@dataclass(frozen=True)
class IntakeRequest:
    user: str
    case_id: str | None = None  # None: every file becomes a case of its own...
    one_case: bool = False  # ...unless all files go into one new case
    fields: CaseFields = CaseFields()
    quick: bool = False  # leave the slow pixel forensics to a later ``analyze``

    @property
    def skipped_checks(self) -> tuple[str, ...]:
        return PIXEL_CHECKS if self.quick else ()


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


@dataclass
class Described:
    """New bytes, described: the media row and all that is worked out from its pictures."""

    media: Media
    fatal: str | None
    keyframes: list[Keyframe]
    probes: list[tuple[float | None, Probe]]
    findings: list[Finding]  # their case_id is set once the case is known


@dataclass
class Prepared:
    """One file after the work that needs no database."""

    shown: str  # the path as given
    failed: IntakeResult | None = None  # the file could not be read at all
    blob: StoredBlob | None = None
    link: CaseMedia | None = None
    described: Described | None = None  # None: the bytes were in the store already


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
    jobs: int = 1,
) -> list[IntakeResult]:
    """Take in every file; results come back in input order, one per file.

    ``jobs`` processes prepare files while this one records them: the results
    are the same whatever their number.
    """
    claims = _claims(store, request)
    items = files if files is not None else collect_files(paths)
    archive = seen.Archive(store)
    results = []
    for prepared in _prepare_all(store.blobs, items, request, claims, jobs):
        result = record(store, archive, prepared, request, claims)
        if request.one_case and request.case_id is None and result.case_id:
            request = replace(request, case_id=result.case_id)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _claims(store: Store, request: IntakeRequest) -> Case:
    """The case whose claims findings weigh, before any case row is written."""
    if request.case_id is not None:
        return store.get_case(request.case_id)  # an unknown case stops everything before any write
    fields = request.fields
    return Case(
        posted_at=fields.posted_at, claimed_lat=fields.claimed_lat, claimed_lon=fields.claimed_lon
    )


def _prepare_all(
    blobs: BlobStore, items: list[InputFile], request: IntakeRequest, claims: Case, jobs: int
) -> Iterator[Prepared]:
    work = partial(prepare, blobs, user=request.user, claims=claims, skip=request.skipped_checks)
    if jobs <= 1 or len(items) < 2:
        yield from map(work, items)
        return
    pool = ProcessPoolExecutor(min(jobs, len(items)))
    try:
        yield from pool.map(work, items)
    finally:
        pool.shutdown(cancel_futures=True)


def prepare(
    blobs: BlobStore, item: InputFile, user: str, claims: Case, skip: tuple[str, ...] = ()
) -> Prepared:
    """Copy, hash and describe one file: everything before the database."""
    shown = str(item.path)
    if item.problem:
        return _failed(shown, item.problem)
    try:
        file_stat = item.path.stat()
        if file_stat.st_size == 0:
            return _failed(shown, "file is empty (0 bytes)")
        blob = blobs.put(item.path)
    except OSError as exc:
        return _failed(shown, f"cannot be read: {exc.strerror or exc}")
    link = CaseMedia(
        case_id="",
        media_id=new_media_id(blob.sha256),
        original_name=_storable(item.path.name),
        original_path=_storable(str(item.path.absolute())),
        file_mtime=_iso_mtime(file_stat.st_mtime),
        was_symlink=item.was_symlink,
        added_by=user,
        added_at=history.now(),
    )
    # Bytes new to the store cannot be known media; others most likely are: record() checks.
    described = None if blob.existed else describe(blobs, blob, link, claims, skip)
    return Prepared(shown, blob=blob, link=link, described=described)


def _storable(name: str) -> str:
    """A file name as a database can keep it: bytes that are not UTF-8 become \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _failed(shown: str, problem: str) -> Prepared:
    error = IntakeResult(path=shown, status="error", error=f"{shown}: {problem}")
    return Prepared(shown, failed=error)


def describe(
    blobs: BlobStore, blob: StoredBlob, link: CaseMedia, claims: Case, skip: tuple[str, ...] = ()
) -> Described:
    heard: list[str] = []
    with library_messages(heard):
        analysis = analyze(blob.path)
        keyframes = _video_pictures(blobs, blob, analysis)
        image = analysis.picture.image if analysis.picture else None
        pictures = seen.media_pictures(blobs.root, image, keyframes, analysis.errors)
        probes = seen.picture_probes(pictures)
        media = _new_media(blobs, blob, analysis, link.original_name)
        findings = finding_rows(blobs, claims, link, media, skip)
    media.errors = [*media.errors, *heard]
    return Described(media, analysis.fatal, keyframes, probes, findings)


def record(
    store: Store, archive: seen.Archive, prepared: Prepared, request: IntakeRequest, claims: Case
) -> IntakeResult:
    """Search the archive for a prepared file, store it in its case and log the event."""
    if prepared.failed is not None:
        return prepared.failed
    blob, link, described = prepared.blob, prepared.link, prepared.described
    known = store.media_by_sha256(blob.sha256) if blob.existed else None
    if known is None and described is None:
        # The bytes came moments ago with another file of this batch or from another desk.
        described = describe(store.blobs, blob, link, claims, request.skipped_checks)
    prints, seen_rows = (
        seen.intake_look_up(archive, link.media_id, described.probes) if described else ([], [])
    )
    media = known or described.media
    link.case_id = request.case_id or ""
    case_id, stored, linked = store.add_media_to_case(
        request.case_id,
        media,
        link,
        _event_details(link, media),
        _new_case_fields(request, link.original_name),
        described.keyframes if described else [],
        prints,
        seen_rows,
        described.findings if described else [],
    )
    if linked and described is None:
        # Known bytes in a new case: findings weigh this case's claims.
        _record_findings(store, case_id, link, stored, request.skipped_checks)
    status = "already-stored" if known or stored is not media else "added"
    fatal = described.fatal if described else _stored_problem(stored)
    shown = prepared.shown
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


def _video_pictures(blobs: BlobStore, blob: StoredBlob, analysis: Analysis) -> list[Keyframe]:
    """Keyframes and contact sheet of a video, saved beside its original."""
    if analysis.kind != "video" or analysis.video is None:
        return []
    out_dir = blobs.derived_dir(blob.sha256)
    try:
        pictures = extract_keyframes(blob.path, out_dir)
    except UnsupportedMedia as exc:
        analysis.errors.append(exc.cause)
        return []
    analysis.errors.extend(pictures.errors)
    if pictures.contact_sheet:
        sheet = blobs.relative(out_dir / pictures.contact_sheet)
        analysis.video["contact_sheet"] = sheet
    return [
        Keyframe(
            media_id=new_media_id(blob.sha256),
            idx=frame.index,
            time_s=frame.time_s,
            path=blobs.relative(out_dir / frame.file),
            hashes=frame.hashes,
            pdq_quality=frame.pdq_quality,
        )
        for frame in pictures.keyframes
    ]


def _record_findings(
    store: Store, case_id: str, link: CaseMedia, media: Media, skip: tuple[str, ...]
) -> None:
    """Work out and store the findings of known media just linked to another case."""
    rows = finding_rows(store.blobs, store.get_case(case_id), link, media, skip)
    for row in rows:
        row.case_id = case_id
    store.replace_findings(case_id, {media.id: rows})


def _unsupported(mime: str) -> str:
    if mime == "text/plain":
        return "content is text, not a picture or video: kept as evidence with its hashes only"
    return f"unsupported format ({mime}): kept as evidence with its hashes only"


def _new_media(blobs: BlobStore, blob: StoredBlob, analysis: Analysis, name: str) -> Media:
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
        blob_path=blobs.relative(blob.path),
        first_name=name,
        created_at=history.now(),
    )


def _new_case_fields(request: IntakeRequest, name: str) -> CaseFields:
    fields = request.fields
    return fields if fields.title else replace(fields, title=name)


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
