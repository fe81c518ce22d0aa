"""A bundle's media against its originals: what comes from the bytes is worked out again.

Each original is described again by the same step intake uses, in a scratch
store inside the import's temporary folder. The facts the bundle states
(kind, MIME type, size, hashes, summary, metadata, video facts, keyframes and
fingerprints) must be the ones the original gives, or the bundle is refused;
the rows imported are the re-derived ones, and the findings are recomputed
against the case's claims, so nothing a forger wrote about the bytes enters
the store. The derived pictures a bundle carries must be pictures mediacheck
would have made: JPEG or PNG, bounded, decodable and named by a row of the case.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mediacheck.errors import BundleError
from mediacheck.intake import describe as describing
from mediacheck.intake.match_rows import fingerprint_rows
from mediacheck.publish.bundle_history import shown
from mediacheck.store.blobs import FolderBlobs, StoredBlob
from mediacheck.store.models import Case, CaseMedia, FingerprintRow, KeyframeRow, Media
from mediacheck.store.transfer import CaseRecords

DERIVED_MAX_BYTES = 20 * 1024**2
DERIVED_MAX_PIXELS = 50_000_000
PICTURE_MAGIC = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG\r\n\x1a\n"}
# Media columns worked out from the bytes, under their ``show --json`` names.
FACTS = {
    "kind": "kind",
    "mime": "mime",
    "size": "size",
    "sha1": "sha1",
    "md5": "md5",
    "width": "width",
    "height": "height",
    "hashes": "hashes",
    "pdq_quality": "pdq_quality",
    "summary": "summary",
    "meta": "metadata",
    "video": "video",
}
# The columns of the rows made from a media item's pictures, compared as they are made.
ROW_FIELDS = {
    "keyframe": ("idx", "time_s", "path", "hashes", "pdq_quality"),
    "fingerprint": ("frame_time_s", "kind", "bits"),
}


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


MISSING = _Missing()


@dataclass(frozen=True)
class Difference:
    path: str
    said: Any
    found: Any


# Derived pictures


def referenced_pictures(records: CaseRecords) -> set[str]:
    """The derived pictures (relative to the store) that the case's rows name."""
    paths = {frame.path for frame in records.keyframes}
    paths |= {row.image for row in records.findings if row.image}
    for media in records.media:
        sheet = (media.video or {}).get("contact_sheet")
        if isinstance(sheet, str):
            paths.add(sheet)
    return paths


def check_derived_files(data: Path, names: Iterable[str], records: CaseRecords) -> None:
    """Every file under data/derived/ is a bounded JPEG or PNG that a row of the case names."""
    referenced = referenced_pictures(records)
    for name in sorted(n for n in names if n.startswith("data/derived/")):
        if name.removeprefix("data/") not in referenced:
            raise BundleError(f"{name}: no row of the case refers to this picture")
        check_picture(data.parent / name, name)


def check_picture(path: Path, name: str) -> None:
    """A JPEG or PNG that decodes whole, of at most DERIVED_MAX_PIXELS."""
    from PIL import Image  # heavy: imported when a bundle is, not for every command

    with open(path, "rb") as handle:
        head = handle.read(8)
    if not any(head.startswith(magic) for magic in PICTURE_MAGIC.values()):
        raise BundleError(f"{name}: not a JPEG or PNG picture")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with Image.open(path, formats=tuple(PICTURE_MAGIC)) as img:
                width, height = img.size
                if width * height > DERIVED_MAX_PIXELS:
                    raise BundleError(
                        f"{name}: {width}x{height} pixels, more than a derived picture "
                        f"has ({DERIVED_MAX_PIXELS})"
                    )
                img.load()
    except BundleError:
        raise
    except Image.DecompressionBombError as exc:
        raise BundleError(
            f"{name}: a decompression bomb, far more pixels than a derived picture has"
        ) from exc
    except (OSError, ValueError, SyntaxError, EOFError, Warning) as exc:
        raise BundleError(f"{name}: the picture does not decode: {_reason(exc)}") from exc


# Media


def rederive(records: CaseRecords, data: Path, scratch: FolderBlobs) -> CaseRecords:
    """The case's rows with every media row, keyframe, fingerprint and finding made again.

    Raises BundleError naming the first fact the bundle states that its original contradicts.
    """
    links = {link.media_id: link for link in records.memberships}
    media: list[Media] = []
    keyframes: list[KeyframeRow] = []
    prints: list[FingerprintRow] = []
    findings = []
    for claimed in records.media:
        original = data / "originals" / claimed.sha256
        described = _describe(scratch, original, links[claimed.id], records.case)
        found = described.media
        rows = fingerprint_rows(found.id, [(t, p.print) for t, p in described.probes])
        _compare_media(claimed, found)
        frames = described.keyframes
        _compare_rows(claimed.id, "keyframe", _of(records.keyframes, claimed.id), frames)
        _compare_rows(claimed.id, "fingerprint", _of(records.fingerprints, claimed.id), rows)
        # Provenance, not bytes: when and under which name the first desk took it in.
        found.first_name, found.created_at = claimed.first_name, claimed.created_at
        media.append(found)
        keyframes += frames
        prints += rows
        findings += described.findings
    return replace(
        records, media=media, keyframes=keyframes, fingerprints=prints, findings=findings
    )


def _describe(
    scratch: FolderBlobs, original: Path, link: CaseMedia, case: Case
) -> describing.Described:
    blob = _move_into(scratch, original)
    try:
        return describing.describe(scratch, blob, link, case)
    except Exception as exc:  # noqa: BLE001 - a decoder's bug on a hostile original refuses it
        raise BundleError(
            f"media {link.media_id}: the original cannot be described again "
            f"({type(exc).__name__}: {_reason(exc)})"
        ) from exc


def _move_into(scratch: FolderBlobs, original: Path) -> StoredBlob:
    """Put an unpacked original (named by its SHA-256) in the scratch store, hashed again."""
    sha256 = original.name
    target = scratch.original_path(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(original, target)
    digests = scratch.digests(sha256)
    if digests.sha256 != sha256:
        raise BundleError(f"the original {sha256} changed while it was imported")
    return StoredBlob(**vars(digests), path=target, existed=False)


def _compare_media(claimed: Media, found: Media) -> None:
    for column, name in FACTS.items():
        difference = first_difference(name, getattr(claimed, column), getattr(found, column))
        if difference is not None:
            raise BundleError(
                f"media {claimed.id}: {difference.path} says {_shown(difference.said)} "
                f"but the original says {_shown(difference.found)}"
            )


def _of(rows: Sequence[Any], media_id: str) -> list[Any]:
    return [row for row in rows if row.media_id == media_id]


def _compare_rows(media_id: str, label: str, claimed: Sequence[Any], found: Sequence[Any]) -> None:
    fields = ROW_FIELDS[label]
    said = [{name: _field(row, name) for name in fields} for row in claimed]
    made = [{name: _field(row, name) for name in fields} for row in found]
    if len(said) != len(made):
        raise BundleError(
            f"media {media_id}: the bundle has {len(said)} {label}s but the original gives "
            f"{len(made)}"
        )
    for i, (one, other) in enumerate(zip(said, made, strict=True)):
        difference = first_difference(f"{label} {i + 1}", one, other)
        if difference is not None:
            raise BundleError(
                f"media {media_id}: {difference.path} says {_shown(difference.said)} "
                f"but the original gives {_shown(difference.found)}"
            )


def _field(row: Any, name: str) -> Any:
    value = getattr(row, name)
    return value.hex() if isinstance(value, bytes) else value


def first_difference(path: str, said: Any, found: Any) -> Difference | None:
    """Where two values first differ, once both are shaped as a database returns JSON."""
    return _difference(path, _plain(said), _plain(found))


def _difference(path: str, said: Any, found: Any) -> Difference | None:
    if isinstance(said, dict) and isinstance(found, dict):
        for key in sorted(set(said) | set(found)):
            inner = _difference(f"{path}.{key}", said.get(key, MISSING), found.get(key, MISSING))
            if inner is not None:
                return inner
        return None
    if isinstance(said, list) and isinstance(found, list) and len(said) == len(found):
        for i, (one, other) in enumerate(zip(said, found, strict=True)):
            inner = _difference(f"{path}[{i}]", one, other)
            if inner is not None:
                return inner
        return None
    if type(said) is type(found) and said == found:
        return None
    return Difference(path, said, found)


def _plain(value: Any) -> Any:
    """JSON as a JSON column gives it back; NaN and infinity as null, as pydantic writes them."""
    if value is MISSING:
        return value
    return _finite(json.loads(json.dumps(value, default=str)))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _shown(value: Any) -> str:
    return "nothing" if value is MISSING else shown(value)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
