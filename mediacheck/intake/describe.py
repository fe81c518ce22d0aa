"""One stored original -> everything intake learns from it, whatever its bytes hold.

Find out what the file is from its content, decode what can be decoded at
reduced size, extract its metadata, fingerprint its pictures and work out its
findings. Every step runs behind ``guarded``: an exception in one step (a
decoder tripping on crafted input) is recorded on the media, as an error and
an ``analysis-failed`` finding naming the step, and the other steps still
run. Only the store itself failing (a full disk) stops the file, and with it
the batch. No database is needed: this runs in worker processes.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from PIL import Image

from mediacheck.errors import StoreError, UnsupportedMedia, one_line
from mediacheck.findings.base import analysis_failed
from mediacheck.findings.service import finding_row, finding_rows
from mediacheck.history import chain as history
from mediacheck.intake.workers import Stopped
from mediacheck.match import search as seen
from mediacheck.match.fingerprints import Probe
from mediacheck.media.hashes import compute_hashes
from mediacheck.media.library_warnings import library_messages
from mediacheck.media.metadata import SUMMARY_KEYS, extract_metadata
from mediacheck.media.pictures import Picture, open_picture
from mediacheck.media.sniff import Sniffed, sniff
from mediacheck.media.video.keyframes import extract_keyframes
from mediacheck.media.video.probe import probe_video
from mediacheck.store.blobs import BlobStore, StoredBlob
from mediacheck.store.ids import new_media_id
from mediacheck.store.models import Case, CaseMedia, FindingRow, KeyframeRow, Media

T = TypeVar("T")

# Writing to the store failed, not reading the file: these stop the batch.
STORE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})
KEPT = "kept as evidence with its hashes only"
UNKNOWN_MIME = "application/octet-stream"


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
    fatal: str | None = None  # the file is kept as evidence but its analysis is incomplete
    picture: Picture | None = None
    failures: list[FindingRow] = field(default_factory=list)  # analysis-failed, one a step

    def guarded(self, step: str, work: Callable[[], T], fallback: T) -> T:
        """``work()``, or ``fallback`` with the failure recorded if it raises."""
        try:
            return work()
        except (StoreError, MemoryError):
            raise  # the first stops the batch, the second is the worker's memory bound
        except OSError as exc:
            if exc.errno in STORE_ERRNOS:
                raise
            self._failed(step, exc)
        except Exception as exc:  # noqa: BLE001 - any parser may trip on crafted input
            self._failed(step, exc)
        return fallback

    def _failed(self, step: str, exc: Exception) -> None:
        error = one_line(exc)
        line = f"{step} failed ({error}): kept as evidence, its analysis is incomplete"
        self.errors.append(line)
        self.failures.append(finding_row(analysis_failed(step, exc)))
        self.fatal = self.fatal or line


class StagedView:
    """The store as the checks see it while a new original waits in staging for its row."""

    def __init__(self, blobs: BlobStore, blob: StoredBlob):
        self.blobs = blobs
        self.blob = blob

    def __getattr__(self, name: str) -> Any:
        return getattr(self.blobs, name)

    def local_original(self, sha256: str) -> AbstractContextManager[Path]:
        if sha256 == self.blob.sha256:
            return nullcontext(self.blob.path)
        return self.blobs.local_original(sha256)

    def save_derived(self, sha256: str) -> None:
        if sha256 != self.blob.sha256:  # the staged original's go with it, once it is placed
            self.blobs.save_derived(sha256)


@dataclass
class Described:
    """New bytes, described: the media row and all that is worked out from its pictures."""

    media: Media
    fatal: str | None
    keyframes: list[KeyframeRow]
    probes: list[tuple[float | None, Probe]]
    findings: list[FindingRow]  # their case_id is set once the case is known


def describe(
    blobs: BlobStore, blob: StoredBlob, link: CaseMedia, claims: Case, skip: tuple[str, ...] = ()
) -> Described:
    """Describe an original (staged or stored); never raises but for the store's own errors."""
    if blob.path.is_file():
        return _describe(blobs, blob, link, claims, skip)
    # Stored, but not on this disk (in an object store): an interrupted intake left it.
    with blobs.local_original(blob.sha256) as path:
        return _describe(blobs, replace(blob, path=path), link, claims, skip)


def _describe(
    blobs: BlobStore, blob: StoredBlob, link: CaseMedia, claims: Case, skip: tuple[str, ...]
) -> Described:
    heard: list[str] = []
    with library_messages(heard):
        analysis = read_content(blob)
        no_frames: tuple[list[KeyframeRow], list[Probe | Exception]] = ([], [])
        keyframes, looks = analysis.guarded(
            "keyframes", lambda: _video_pictures(blobs, blob, analysis), no_frames
        )
        image = analysis.picture.image if analysis.picture else None
        no_probes: list[tuple[float | None, Probe]] = []
        probes = analysis.guarded(
            "fingerprints", lambda: _probes(image, keyframes, looks), no_probes
        )
        media = new_media(blobs, blob, analysis, link.original_name)
        no_findings: list[FindingRow] = []
        view = StagedView(blobs, blob)
        findings = analysis.guarded(
            "findings",
            lambda: finding_rows(cast(BlobStore, view), claims, link, media, skip),
            no_findings,
        )
        media.errors = _errors(analysis)  # with a failure of the findings step, if any
        findings.extend(analysis.failures)
    media.errors = [*media.errors, *heard]
    return Described(media, analysis.fatal, keyframes, probes, findings)


def stopped(blobs: BlobStore, blob: StoredBlob, name: str, why: Exception) -> Described:
    """Bytes whose analysis was stopped (a bound exceeded, a worker lost): hashes only."""
    kind = guess_kind(blob)
    reason = str(why) if isinstance(why, Stopped) else f"failed ({one_line(why)})"
    fatal = f"analysis stopped: {reason}: {KEPT}"
    analysis = Analysis(kind.kind, kind.mime, dict.fromkeys(SUMMARY_KEYS), fatal=fatal)
    media = new_media(blobs, blob, analysis, name)
    return Described(media, fatal, [], [], [finding_row(analysis_failed("analysis", why))])


def guess_kind(blob: StoredBlob) -> Sniffed:
    """The kind of stored bytes from their first few KB, or ``other`` if even that fails."""
    try:
        return sniff(blob.path)
    except Exception:  # noqa: BLE001 - whatever the bytes hold, the file is still recorded
        return Sniffed(mime=UNKNOWN_MIME, kind="other")


def read_content(blob: StoredBlob) -> Analysis:
    """Everything intake learns from the content of one stored original."""
    analysis = Analysis("other", UNKNOWN_MIME, dict.fromkeys(SUMMARY_KEYS))
    sniffed = analysis.guarded("sniff", lambda: sniff(blob.path), None)
    if sniffed is None:
        return analysis
    analysis.kind, analysis.mime = sniffed.kind, sniffed.mime
    if analysis.kind == "image":
        _read_image(blob, analysis)
    elif analysis.kind in ("video", "audio"):
        analysis.guarded("video probe", lambda: _read_video(blob, analysis), None)
    else:
        analysis.fatal = _unsupported(analysis.mime)
    return analysis


def _read_image(blob: StoredBlob, analysis: Analysis) -> None:
    picture = analysis.guarded("decode", lambda: _decode(blob, analysis), None)
    if picture is not None:
        analysis.picture = picture
        analysis.width, analysis.height = picture.width, picture.height
        analysis.guarded("perceptual hashes", lambda: _hash(picture, analysis), None)
        if picture.truncated:
            analysis.fatal = analysis.fatal or "picture is truncated: hashed the part that decodes"
            analysis.errors.append("picture is truncated")
    size = (picture.width, picture.height) if picture else None
    analysis.guarded("metadata", lambda: _metadata(blob, analysis, size), None)


def _decode(blob: StoredBlob, analysis: Analysis) -> Picture | None:
    try:
        return open_picture(blob.path)
    except UnsupportedMedia as exc:
        analysis.fatal = f"{exc.cause}: {KEPT}"
        analysis.errors.append(exc.cause)
        return None


def _hash(picture: Picture, analysis: Analysis) -> None:
    perceptual = compute_hashes(picture.image)
    analysis.hashes, analysis.pdq_quality = perceptual.hashes, perceptual.pdq_quality


def _metadata(blob: StoredBlob, analysis: Analysis, size: tuple[int, int] | None) -> None:
    extracted = extract_metadata(blob.path, analysis.mime, size)
    analysis.summary.update({k: extracted.summary.get(k) for k in SUMMARY_KEYS})
    analysis.metadata = extracted.metadata
    analysis.errors.extend(extracted.errors)


def _read_video(blob: StoredBlob, analysis: Analysis) -> None:
    try:
        probe = probe_video(blob.path)
    except UnsupportedMedia as exc:
        analysis.fatal = f"{exc.cause}: {KEPT}"
        analysis.errors.append(exc.cause)
        return
    analysis.kind = probe.kind
    analysis.summary = dict(probe.summary)
    analysis.width, analysis.height = probe.summary["width"], probe.summary["height"]
    analysis.metadata = probe.metadata
    analysis.video = probe.video
    analysis.errors.extend(probe.errors)


def _video_pictures(
    blobs: BlobStore, blob: StoredBlob, analysis: Analysis
) -> tuple[list[KeyframeRow], list[Probe | Exception]]:
    """Keyframes and contact sheet of a video, saved beside its original, and their probes.

    Each keyframe is probed in the thread that saved it, while the next one decodes, from
    the pixels its saved file decodes to: the file is not read back.
    """
    if analysis.kind != "video" or analysis.video is None:
        return [], []
    out_dir = blobs.derived_dir(blob.sha256)
    try:
        pictures = extract_keyframes(blob.path, out_dir, look=_probe_or_failure)
    except UnsupportedMedia as exc:
        analysis.errors.append(exc.cause)
        return [], []
    analysis.errors.extend(pictures.errors)
    if pictures.contact_sheet:
        sheet = blobs.relative(out_dir / pictures.contact_sheet)
        analysis.video["contact_sheet"] = sheet
    rows = [
        KeyframeRow(
            media_id=new_media_id(blob.sha256),
            idx=frame.index,
            time_s=frame.time_s,
            path=blobs.relative(out_dir / frame.file),
            hashes=frame.hashes,
            pdq_quality=frame.pdq_quality,
        )
        for frame in pictures.keyframes
    ]
    return rows, pictures.looks


def _probe_or_failure(image: Image.Image) -> Probe | Exception:
    # Every view worked out here, in the worker's saving threads, as a photo's are
    # (``picture_probes``): else the parent, which searches for every worker's files in
    # turn, made each keyframe's other views itself, from the grey copies sent to it.
    try:
        return Probe(image).complete()
    except Exception as exc:  # noqa: BLE001 - raised in the fingerprints step, as before
        return exc


def _probes(
    image: Image.Image | None, keyframes: list[KeyframeRow], looks: list[Probe | Exception]
) -> list[tuple[float | None, Probe]]:
    """The probe of a photo, or those its keyframes' saving threads made."""
    if image is not None:
        return seen.picture_probes([seen.PictureOf(None, image)])
    return [(frame.time_s, _probed(look)) for frame, look in zip(keyframes, looks, strict=True)]


def _probed(look: Probe | Exception) -> Probe:
    if isinstance(look, Exception):
        raise look
    return look


def _unsupported(mime: str) -> str:
    if mime == "text/plain":
        return f"content is text, not a picture or video: {KEPT}"
    return f"unsupported format ({mime}): {KEPT}"


def new_media(blobs: BlobStore, blob: StoredBlob, analysis: Analysis, name: str) -> Media:
    """The media row of a stored original; its first error is the fatal one, if any."""
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
        errors=_errors(analysis),
        blob_path=blobs.original_key(blob.sha256),
        first_name=name,
        created_at=history.now(),
    )


def _errors(analysis: Analysis) -> list[str]:
    """The analysis's errors, the fatal one first; an error it already states is not repeated.

    The fatal line is often an error with what it meant for the file ("picture is
    truncated: hashed the part that decodes"): the error alone would say it twice.
    """
    fatal = analysis.fatal
    if not fatal:
        return list(analysis.errors)
    return [fatal, *(error for error in analysis.errors if not fatal.startswith(error))]
