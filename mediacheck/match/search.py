"""Have we seen this before? The archive search shared by ``match`` and intake.

A file becomes pictures (a photo, or a video's keyframes), each picture a probe; the
archive's fingerprints are loaded once into a ``FingerprintIndex`` and topped up with the
rows added since, so a batch intake loads the archive once.
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from PIL import Image

from mediacheck.digests import file_sha256
from mediacheck.errors import (
    InputFileError,
    MediacheckError,
    StoreError,
    UnsupportedMedia,
    one_line,
)
from mediacheck.match.fingerprints import VERSION, Keypoints, Probe
from mediacheck.match.index import FingerprintIndex, Match, best_per_media, search
from mediacheck.match.spans import KeyframeMatch, Span, video_spans
from mediacheck.media.pictures import open_picture
from mediacheck.media.sniff import sniff
from mediacheck.media.video.keyframes import extract_keyframes
from mediacheck.review import ratings

# Fingerprint rows: what the index loads (the fixed-width record, then the keypoint words it
# keeps in posting lists), and the keypoints beside it (read for the short list only).
RECORD_KIND = f"match-v{VERSION}"
KEYPOINTS_KIND = f"orb-v{VERSION}"
# Rows read one by one cost about a microsecond each, and rows added since the snapshot are
# held in memory beside it (about 1.2 kB a picture): past this many, write a new one.
SNAPSHOT_AFTER = 20_000
# Snapshots in the formats of earlier versions, which this one never reads: removed once a
# new one is saved (the numpy archive of the index was as large as the index itself).
OLD_SNAPSHOTS = (f"index/{RECORD_KIND}.npz",)
# Decoded keypoints of the rows verified last, kept (about 20 KB each).
KEYPOINTS_KEPT = 256


class ArchivedMedia(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def kind(self) -> str: ...


class ArchivedCase(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str | None: ...


class SharedFiles(Protocol):
    """Where every machine of a desk finds the snapshot of the index (the blob store)."""

    def shared_file(self, key: str) -> Path | None: ...

    def write_shared_file(self, key: str, write: Callable[[BinaryIO], object]) -> None: ...

    def remove_shared_file(self, key: str) -> None: ...


class ArchiveReads(Protocol):
    """The few reads the search makes of the case store (``Store`` has them)."""

    @property
    def blobs(self) -> SharedFiles:
        """The blob store, beside which the search may keep a snapshot of its index."""
        ...

    def fingerprint_rows(
        self, kind: str, after_id: int = 0
    ) -> Sequence[tuple[int, str, float | None, bytes]]: ...

    def fingerprint_count(self, kind: str, up_to_id: int) -> int: ...

    def sibling_fingerprints(self, ids: Sequence[int], kind: str) -> Mapping[int, bytes]: ...

    def media_by_sha256(self, sha256: str) -> ArchivedMedia | None: ...

    def media_cases(
        self, media_ids: Sequence[str]
    ) -> Mapping[str, tuple[ArchivedMedia, Sequence[ArchivedCase]]]: ...

    def final_verdicts(
        self, case_ids: Collection[str]
    ) -> Mapping[tuple[str, str], ratings.Rated]: ...


@dataclass(frozen=True)
class PictureOf:
    """One picture of a media item: the photo itself (time None) or a video keyframe."""

    time_s: float | None
    image: Image.Image


@dataclass(frozen=True)
class ArchiveMatch:
    """A match as the desk sees it: a case that holds the media, its verdict, why it matched.

    ``verdict`` is the final (approved) rating of that media item in that case, or
    Unverified. A video found in a video has ``span``: which stretch of the stored one
    the query shows, and where (``spans.Span``); None otherwise.
    """

    case_id: str | None
    case_title: str | None
    verdict: str
    media_id: str
    sha256: str
    kind: str
    method: str
    distance: float
    score: float
    frame_time_s: float | None
    span: Span | None = None

    def document(self) -> dict:
        """The ``match --json`` fields (and those of intake's ``seen_before``)."""
        fields = ("case_id", "case_title", "verdict", "media_id", "sha256", "kind", "method")
        found = {name: getattr(self, name) for name in fields}
        return (
            found
            | {"distance": self.distance, "score": self.score, "frame_time_s": self.frame_time_s}
            | span_fields(self.span)
        )


SPAN_FIELDS = ("stored_start_s", "stored_end_s", "query_start_s", "query_end_s")


def span_fields(span: Span | None) -> dict[str, float | None]:
    """The four span fields of a match (None each when it is no video found in a video)."""
    return {name: None if span is None else getattr(span, name) for name in SPAN_FIELDS}


@dataclass(frozen=True)
class MediaMatches:
    """What the archive holds of one media item: matches best first, spans per video."""

    matches: list[Match]
    spans: dict[str, Span]


@dataclass(frozen=True)
class FileMatches:
    path: str
    matches: list[ArchiveMatch]
    error: str | None = None


class ArchiveSearch:
    """The store's fingerprints in memory, searched without ever writing to the database.

    A large archive starts from a snapshot of the index (a file of the blob store, mapped
    into memory: ``FingerprintIndex.load``), checked against the database, plus the rows
    written after it, which are added in place. Once SNAPSHOT_AFTER rows are held that
    the snapshot lacks, a new one is written beside it (base and new rows merged a range
    at a time), put in its place in one rename, and mapped instead: a process still
    searching the old one keeps its file until it lets go.
    """

    def __init__(self, store: ArchiveReads):
        self.store = store
        self.index = FingerprintIndex.empty()
        self.last_id = 0
        self.snapshot = f"index/{RECORD_KIND}.snapshot"
        self.unsaved = 0  # rows held that the snapshot lacks
        self._started = False
        self._decoded: OrderedDict[int, Keypoints] = OrderedDict()

    def refresh(self) -> None:
        """Load the fingerprint rows written since the last load (all of them the first time)."""
        if not self._started:
            self._start_from_snapshot()
            self._started = True
        rows = self.store.fingerprint_rows(RECORD_KIND, after_id=self.last_id)
        if rows:
            if len(self.index) == 0:
                self.index = FingerprintIndex.from_rows(rows)  # sorted once, not appended
            else:
                self.index.append_rows(rows)
            self.last_id = rows[-1][0]
            self.unsaved += len(rows)
        if self.unsaved >= SNAPSHOT_AFTER:
            self._save_snapshot()

    def _start_from_snapshot(self) -> None:
        index = self._mapped()
        if index is None:
            return
        last = index.last_key
        # Rows deleted since the snapshot (or committed late below its last id) make it stale.
        if self.store.fingerprint_count(RECORD_KIND, up_to_id=last) == len(index):
            self.index, self.last_id = index, last

    def _mapped(self) -> FingerprintIndex | None:
        """The shared snapshot, memory-mapped; None when there is none or it is unreadable."""
        try:
            path = self.store.blobs.shared_file(self.snapshot)
            return None if path is None else FingerprintIndex.load(path)
        except (OSError, StoreError, ValueError, KeyError):
            return None

    def _save_snapshot(self) -> None:
        self.unsaved = 0  # a store that cannot take one is tried again as many rows later
        try:
            self.store.blobs.write_shared_file(self.snapshot, self.index.save)
        except (OSError, StoreError):
            return  # a read-only store: every load reads the database, only slower
        self._remove_old_snapshots()
        saved = self._mapped()
        # Another process may have put its own in place since: only ours replaces the index.
        if saved is not None and len(saved) == len(self.index) and saved.last_key == self.last_id:
            self.index = saved

    def _remove_old_snapshots(self) -> None:
        for key in OLD_SNAPSHOTS:
            # One that cannot be removed (a locked bucket) costs room, never a wrong answer.
            with suppress(OSError, StoreError):
                self.store.blobs.remove_shared_file(key)

    def search(self, probes: Iterable[Probe], sha256: str | None = None) -> list[Match]:
        """Archive media the probed pictures are copies of, best first; same bytes first."""
        return self.search_timed([(None, p) for p in probes], sha256).matches

    def search_timed(
        self, pictures: Sequence[tuple[float | None, Probe]], sha256: str | None = None
    ) -> MediaMatches:
        """``search`` for a media item's pictures with their times: a video's keyframes
        also give the span of every stored video they were found in."""
        self.refresh()
        each = [(time_s, search(self.index, p, self._keypoints)) for time_s, p in pictures]
        found = best_per_media(m for _, matches in each for m in matches)
        timed = (KeyframeMatch(t, m) for t, matches in each if t is not None for m in matches)
        spans = video_spans(timed)
        if sha256 is not None:
            same = self.store.media_by_sha256(sha256)
            if same is not None:
                found = best_per_media([_identical(same.id), *found])
                spans.pop(same.id, None)  # the same file: all of it, not an excerpt
        return MediaMatches(found, spans)

    def identical(self, media_id: str, exclude_case: str | None = None) -> list[ArchiveMatch]:
        """The cases that hold these very bytes (but ``exclude_case``), as sha256 matches."""
        return self.describe([_identical(media_id)], exclude_case)

    def describe(
        self,
        matches: Iterable[Match],
        exclude_case: str | None = None,
        spans: Mapping[str, Span] | None = None,
    ) -> list[ArchiveMatch]:
        """Matches named by every case that holds their media, with its title and verdict.

        ``exclude_case`` is the case the searched file belongs to: its own items are
        never shown as seen before. ``spans`` are those of ``search_timed``.
        """
        matches = list(matches)
        held = self.store.media_cases([m.media_id for m in matches])
        case_ids = {case.id for _, cases in held.values() for case in cases}
        verdicts = self.store.final_verdicts(case_ids) if case_ids else {}
        described = []
        for match in matches:
            media, cases = held[match.media_id]
            holders: Sequence[ArchivedCase | None] = cases or [None]
            for case in holders:
                if case is not None and case.id == exclude_case:
                    continue
                final = verdicts.get((case.id, media.id)) if case else None
                described.append(
                    ArchiveMatch(
                        case_id=case.id if case else None,
                        case_title=case.title if case else None,
                        verdict=final.rating if final else ratings.UNVERIFIED,
                        media_id=media.id,
                        sha256=media.sha256,
                        kind=media.kind,
                        method=match.method,
                        distance=match.distance,
                        score=match.score,
                        frame_time_s=match.frame_time_s,
                        span=(spans or {}).get(media.id) if media.kind == "video" else None,
                    )
                )
        return described

    def _keypoints(self, keys: Sequence[int]) -> dict[int, Keypoints]:
        """The stored keypoints of rows ``keys``; those verified lately are kept decoded
        (a video's keyframes, a batch of one event's pictures verify the same rows)."""
        missing = [key for key in keys if key not in self._decoded]
        if missing:
            stored = self.store.sibling_fingerprints(missing, KEYPOINTS_KIND)
            for key, data in stored.items():
                self._decoded[key] = Keypoints.from_bytes(data)
        found = {}
        for key in keys:
            if key in self._decoded:
                self._decoded.move_to_end(key)
                found[key] = self._decoded[key]
        while len(self._decoded) > KEYPOINTS_KEPT:
            self._decoded.popitem(last=False)
        return found


def _identical(media_id: str) -> Match:
    return Match(media_id, None, "sha256", 0.0, 1.0)


def match_files(store: ArchiveReads, paths: Iterable[Path]) -> Iterable[FileMatches]:
    """Search the archive for each file; a file that cannot be read gets an error, not a stop."""
    archive = ArchiveSearch(store)
    for path in paths:
        try:
            probes = picture_probes(file_pictures(path))
            found = archive.search_timed(probes, sha256=_sha256(path))
        except StoreError:
            raise  # the archive itself cannot be read: no file could be searched
        except MediacheckError as exc:
            yield FileMatches(str(path), [], error=str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - a decoder tripping on one file stops no batch
            yield FileMatches(str(path), [], error=f"{path}: cannot be searched: {one_line(exc)}")
            continue
        yield FileMatches(str(path), archive.describe(found.matches, spans=found.spans))


def file_pictures(path: Path) -> list[PictureOf]:
    """The pictures of a photo or video file, decoded at working size."""
    try:
        kind = sniff(path).kind
    except OSError as exc:
        raise InputFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    if kind == "image":
        return [PictureOf(None, open_picture(path).image)]
    if kind != "video":
        raise UnsupportedMedia(path, "not a picture or a video")
    with tempfile.TemporaryDirectory(prefix="mediacheck-match-") as tmp:
        # ``look`` is handed each keyframe as open_picture would decode its file.
        frames = extract_keyframes(path, Path(tmp), look=lambda picture: picture)
        pictures = [
            PictureOf(f.time_s, picture)
            for f, picture in zip(frames.keyframes, frames.looks, strict=True)
        ]
    if not pictures:
        raise UnsupportedMedia(path, "no video frame could be decoded")
    return pictures


def picture_probes(pictures: Sequence[PictureOf]) -> list[tuple[float | None, Probe]]:
    """Each picture's probe, with its time in a video: the costly part, done before the search
    (every view of it: in intake, this runs in the worker)."""
    return [(p.time_s, Probe(p.image).complete()) for p in pictures]


def _sha256(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError as exc:
        raise InputFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
