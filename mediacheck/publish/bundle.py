"""Case bundles: a BagIt bag in a zip file that carries a case to another store.

Layout (BagIt 1.0, RFC 8493)::

    bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    data/case.json            the case as ``report --format json`` prints it
    data/report.html          the HTML report
    data/history.jsonl        the hash-chained events, exactly as stored
    data/records.json         the case's rows (fingerprints and time-stamp tokens too),
                              for ``import``
    data/originals/<sha256>   every original, byte for byte
    data/warcs/<sha256>       the WARC of each link the case's media were taken in from
    data/derived/...          pictures made from them (keyframes, ELA, ...)

A bundle is hostile until proven otherwise: ``import_bundle`` checks every
entry name, the size (against what the bag declares, while it unpacks), every
checksum, the rows and the history chain, then proves the rows against the
history and the originals (``bundle_history``, ``bundle_media``) before it adds
anything, and it never replaces a case or an original the store holds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from mediacheck import __version__
from mediacheck.digests import hash_stream
from mediacheck.errors import BundleError, CaseExists, CaseNotFound, IntegrityError
from mediacheck.integrity.verify import check_history, check_sources
from mediacheck.links.capture import warc_records
from mediacheck.publish import reports
from mediacheck.publish.bundle_history import check_against_history, check_timestamps
from mediacheck.publish.bundle_media import (
    DERIVED_MAX_BYTES,
    check_derived_files,
    rederive,
    referenced_pictures,
)
from mediacheck.review import rules
from mediacheck.store.blobs import FolderBlobs, is_derived_key
from mediacheck.store.database import Store
from mediacheck.store.ids import CaseNumber, new_media_id, parse_case_id
from mediacheck.store.models import (
    Case,
    CaseMedia,
    Event,
    FindingRow,
    FingerprintRow,
    KeyframeRow,
    Media,
    Note,
    Source,
    SourceMedia,
    TableRow,
    TimestampRow,
    Verdict,
)
from mediacheck.store.transfer import CaseRecords
from mediacheck.timestamps.tsa import load_anchors

BAGIT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
TAG_FILES = ("bagit.txt", "bag-info.txt", MANIFEST)
PAYLOAD_FILES = ("data/case.json", "data/report.html", "data/history.jsonl", "data/records.json")
TAG_MAX_BYTES = 32 * 1024**2  # a manifest of 100,000 entries fits
# What a bundle may unpack to: twice the payload bag-info.txt declares, plus a margin.
PAYLOAD_FACTOR = 2
PAYLOAD_MARGIN = 16 * 1024**2
# Originals are stored and pictures barely compress, so only the text files shrink:
# a declared payload far beyond the zip's own size is a zip bomb, not a case.
MAX_RATIO = 8
# What a corrupt, encrypted or exotic zip entry raises when it is read.
UNREADABLE = (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, zlib.error)
RECORD_TYPES: dict[str, type[TableRow]] = {
    "media": Media,
    "links": CaseMedia,
    "notes": Note,
    "verdicts": Verdict,
    "keyframes": KeyframeRow,
    "findings": FindingRow,
    "sources": Source,
    "source_media": SourceMedia,
}
# Keys a bundle of an earlier mediacheck lacks: read as empty.
LATER_RECORDS = ("sources", "source_media")


Binary = TypeVar("Binary", FingerprintRow, TimestampRow)


@dataclass(frozen=True)
class Limits:
    max_bytes: int | None = None  # a cap on the unpacked size, below the bag's own bound
    max_entries: int = 100_000


@dataclass(frozen=True)
class ExportResult:
    case_id: str
    path: Path
    files: int
    payload_bytes: int


@dataclass(frozen=True)
class ImportResult:
    case_id: str
    media_added: list[str]
    media_already_stored: list[str]
    files: int
    events: int


# Export


def export_case(store: Store, case_id: str, out: Path) -> ExportResult:
    """Write the case's bag to ``out`` (through a temporary file: never a half-written zip)."""
    records = store.case_records(case_id)
    doc = reports.report_document(store, case_id)
    out = Path(out)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=".export-", suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as zf:
            payload = _write_payload(zf, store, records, doc)
            _write_tag_files(zf, case_id, doc.get("title"), payload)
        os.replace(tmp_name, out)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return ExportResult(case_id, out, len(payload), sum(size for _, size in payload.values()))


def _write_payload(zf, store: Store, records: CaseRecords, doc: dict) -> dict[str, tuple]:
    """Write data/ and return {name: (sha256, size)} for the manifest."""
    written: dict[str, tuple[str, int]] = {}

    def add_text(name: str, text: str) -> None:
        data = text.encode("utf-8")
        zf.writestr(name, data)
        written[name] = (hashlib.sha256(data).hexdigest(), len(data))

    add_text("data/case.json", reports.render_json(doc))
    add_text("data/report.html", reports.render_html(store, doc))
    add_text("data/history.jsonl", "".join(_event_line(e) for e in records.events))
    add_text("data/records.json", json.dumps(_records_json(records), indent=1, ensure_ascii=False))
    for media in records.media:
        written.update(_add_original(zf, store, media))
    for source in records.sources:
        written.update(_add_warc(zf, store, source))
    for key in _derived_files(store, records):
        written.update(_add_file(zf, store, key, "data/" + key, zipfile.ZIP_DEFLATED))
    return written


def _add_original(zf, store: Store, media: Media) -> dict[str, tuple[str, int]]:
    """The original, byte for byte; one that no longer matches its hash is never exported."""
    name = f"data/originals/{media.sha256}"
    try:
        key = store.blobs.original_key(media.sha256)
        added = _add_file(zf, store, key, name, zipfile.ZIP_STORED)
    except FileNotFoundError:
        raise IntegrityError(f"original {media.id} is missing: run `mediacheck verify`") from None
    if added[name][0] != media.sha256:
        raise IntegrityError(f"original {media.id} was altered: run `mediacheck verify`")
    return added


def _add_warc(zf, store: Store, source: Source) -> dict[str, tuple[str, int]]:
    """A source's WARC, byte for byte; one that no longer matches its hash is never exported."""
    name = f"data/warcs/{source.warc_sha256}"
    try:
        added = _add_file(zf, store, source.warc_path, name, zipfile.ZIP_STORED)
    except FileNotFoundError:
        raise IntegrityError(
            f"the WARC of {source.url} is missing: run `mediacheck verify`"
        ) from None
    if added[name][0] != source.warc_sha256:
        raise IntegrityError(f"the WARC of {source.url} was altered: run `mediacheck verify`")
    return added


def _event_line(event: Event) -> str:
    return json.dumps(event.model_dump(exclude={"id"}), ensure_ascii=False) + "\n"


def _records_json(records: CaseRecords) -> dict[str, Any]:
    rows = {
        key: [row.model_dump(mode="json") for row in getattr(records, _field(key))]
        for key in RECORD_TYPES
    }
    prints = [_fingerprint_json(row) for row in records.fingerprints]
    tokens = [_timestamp_json(row) for row in records.timestamps]
    return {
        "case": records.case.model_dump(mode="json"),
        **rows,
        "fingerprints": prints,
        "timestamps": tokens,
    }


def _fingerprint_json(row: FingerprintRow) -> dict[str, Any]:
    return _binary_json(row, "bits")


def _fingerprint(raw: dict[str, Any]) -> FingerprintRow:
    return _binary_row(FingerprintRow, raw, "bits")


def _timestamp_json(row: TimestampRow) -> dict[str, Any]:
    return _binary_json(row, "token")


def _timestamp(raw: dict[str, Any]) -> TimestampRow:
    return _binary_row(TimestampRow, raw, "token")


def _binary_json(row: TableRow, name: str) -> dict[str, Any]:
    """A row whose ``name`` field is bytes: JSON carries it as base64."""
    data = base64.b64encode(getattr(row, name)).decode("ascii")
    return row.model_dump(exclude={"id", name}) | {name: data}


def _binary_row(model: type[Binary], raw: dict[str, Any], name: str) -> Binary:
    return model.model_validate(raw | {name: base64.b64decode(raw[name], validate=True)})


def _derived_files(store: Store, records: CaseRecords) -> list[str]:
    """The pictures the case's rows name (another case's finding pictures stay behind)."""
    return [
        key
        for key in sorted(referenced_pictures(records))
        if is_derived_key(key) and store.blobs.exists(key)
    ]


def _add_file(zf, store: Store, key: str, name: str, compression: int) -> dict[str, tuple]:
    with store.blobs.open_blob(key) as src, zf.open(_entry(name, compression), "w") as dst:
        found = hash_stream(src, write=dst.write)
    return {name: (found.hexdigests["sha256"], found.size)}


def _entry(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = compression
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def _write_tag_files(zf, case_id: str, title: str | None, payload: dict[str, tuple]) -> None:
    size = sum(s for _, s in payload.values())
    info = [
        f"Bag-Software-Agent: mediacheck {__version__}",
        f"Bagging-Date: {datetime.now(UTC).date().isoformat()}",
        f"External-Identifier: {case_id}",
        f"Payload-Oxum: {size}.{len(payload)}",
    ]
    if title:
        info.append(f"External-Description: {' '.join(title.split())}")
    tags = {
        "bagit.txt": BAGIT,
        "bag-info.txt": "\n".join(info) + "\n",
        MANIFEST: "".join(f"{digest}  {name}\n" for name, (digest, _) in sorted(payload.items())),
    }
    for name, text in tags.items():
        zf.writestr(name, text)
    zf.writestr(TAG_MANIFEST, "".join(f"{_sha256_text(t)}  {n}\n" for n, t in tags.items()))


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Import


def import_bundle(store: Store, bundle: Path, user: str, limits: Limits = Limits()) -> ImportResult:
    """Verify a bundle completely, then add its case; refuse it whole on any doubt."""
    try:
        zf = zipfile.ZipFile(bundle)
        bundle_size = bundle.stat().st_size
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{bundle}: not a readable zip file ({exc})") from exc
    with zf, tempfile.TemporaryDirectory(dir=store.root, prefix=".import-") as tmp:
        names = check_entries(zf.infolist(), limits)
        manifest, bag_info = _read_manifests(zf, names)
        declared = _declared_payload(zf, manifest, bag_info, bundle_size)
        _extract_verified(zf, manifest, Path(tmp), declared, limits)
        records = _load_records(Path(tmp) / "data", manifest)
        _check_absent(store, records.case.id)
        scratch = FolderBlobs(Path(tmp) / "scratch")
        anchors = load_anchors(store.settings.tsa_ca) if store.settings.tsa_ca else None
        proven = _prove(records, Path(tmp) / "data", manifest, scratch, bundle, anchors)
        return _add(store, proven, scratch, user, bundle, Path(tmp) / "data")


def _check_absent(store: Store, case_id: str) -> None:
    """The case id is part of every event hash: a case is never renamed, so never replaced."""
    try:
        store.get_case(case_id)
    except CaseNotFound:
        return
    raise CaseExists(case_id)


def check_entries(infos: list[zipfile.ZipInfo], limits: Limits) -> set[str]:
    """The file names of a zip, once every entry is proven safe to extract."""
    if len(infos) > limits.max_entries:
        raise BundleError(f"too many entries: {len(infos)} (the limit is {limits.max_entries})")
    total = sum(info.file_size for info in infos)
    if limits.max_bytes is not None and total > limits.max_bytes:
        raise BundleError(f"too large: {total} bytes unpacked (the limit is {limits.max_bytes})")
    names: set[str] = set()
    for info in infos:
        _check_name(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BundleError(f"refused entry {info.filename!r}: a symbolic link")
        if info.filename in names:
            raise BundleError(f"refused entry {info.filename!r}: the name appears twice")
        names.add(info.filename)
    return {n for n in names if not n.endswith("/")}


def _check_name(name: str) -> None:
    unsafe = (
        not name
        or name.startswith("/")
        or "\\" in name
        or any(ord(c) < 32 for c in name)
        or (len(name) > 1 and name[1] == ":")
        or any(part in ("", ".", "..") for part in name.rstrip("/").split("/"))
    )
    if unsafe:
        raise BundleError(f"refused entry {name!r}: the path escapes the bundle")


def _read_manifests(zf: zipfile.ZipFile, names: set[str]) -> tuple[dict[str, str], str]:
    """The payload manifest {name: sha256}, checked against the tag manifest, and bag-info."""
    if _read_text(zf, names, "bagit.txt").splitlines()[:1] != ["BagIt-Version: 1.0"]:
        raise BundleError("bagit.txt does not declare BagIt-Version 1.0: not a mediacheck bundle")
    tags = _parse_manifest(_read_text(zf, names, TAG_MANIFEST), TAG_MANIFEST)
    for name in TAG_FILES:
        if tags.get(name) != _sha256_text(_read_text(zf, names, name)):
            raise BundleError(f"{name} does not match {TAG_MANIFEST}: the bundle was altered")
    manifest = _parse_manifest(_read_text(zf, names, MANIFEST), MANIFEST)
    payload = {n for n in names if n.startswith("data/")}
    extra = sorted(payload - set(manifest)) + sorted(set(manifest) - payload)
    if extra:
        raise BundleError(f"{extra[0]} is not both in {MANIFEST} and in the bundle: altered")
    unknown = names - payload - set(TAG_FILES) - {TAG_MANIFEST}
    if unknown:
        raise BundleError(f"unexpected file {sorted(unknown)[0]!r} outside data/")
    return manifest, _read_text(zf, names, "bag-info.txt")


def _read_text(zf: zipfile.ZipFile, names: set[str], name: str) -> str:
    """A tag file, read no further than TAG_MAX_BYTES whatever its entry declares."""
    if name not in names:
        raise BundleError(f"{name} is missing: not a mediacheck bundle")
    if zf.getinfo(name).file_size > TAG_MAX_BYTES:
        raise BundleError(f"{name} is larger than a tag file may be ({TAG_MAX_BYTES} bytes)")
    try:
        with zf.open(name) as src:
            return src.read(TAG_MAX_BYTES).decode("utf-8")
    except (UnicodeDecodeError, *UNREADABLE) as exc:
        raise BundleError(f"{name} cannot be read: {exc}") from exc


@dataclass(frozen=True)
class Declared:
    """What bag-info.txt's Payload-Oxum says the payload is: checked before unpacking."""

    octets: int
    files: int


def _declared_payload(
    zf: zipfile.ZipFile, manifest: dict[str, str], bag_info: str, bundle_size: int
) -> Declared:
    declared = _payload_oxum(bag_info)
    if declared.files != len(manifest):
        raise BundleError(
            f"bag-info.txt declares {declared.files} payload files "
            f"but {MANIFEST} lists {len(manifest)}"
        )
    if declared.octets > MAX_RATIO * bundle_size + PAYLOAD_MARGIN:
        raise BundleError(
            f"bag-info.txt declares {declared.octets} bytes of payload, more than a "
            f"{bundle_size}-byte zip holds: refused as a zip bomb"
        )
    for name in manifest:
        size = zf.getinfo(name).file_size
        if name.startswith("data/derived/") and size > DERIVED_MAX_BYTES:
            raise BundleError(
                f"{name}: {size} bytes, more than a derived picture may be ({DERIVED_MAX_BYTES})"
            )
    return declared


def _payload_oxum(bag_info: str) -> Declared:
    for line in bag_info.splitlines():
        label, _, value = line.partition(":")
        if label.strip().lower() == "payload-oxum":
            octets, dot, files = value.strip().partition(".")
            if dot and octets.isdigit() and files.isdigit():
                return Declared(int(octets), int(files))
    raise BundleError("bag-info.txt has no valid Payload-Oxum: the payload size is unknown")


def _payload_bound(declared: Declared, limits: Limits) -> int:
    bound = PAYLOAD_FACTOR * declared.octets + PAYLOAD_MARGIN
    return bound if limits.max_bytes is None else min(bound, limits.max_bytes)


def _parse_manifest(text: str, label: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or name in entries:
            raise BundleError(f"{label}: malformed line {line[:120]!r}")
        _check_name(name)
        entries[name] = digest.lower()
    return entries


def _extract_verified(
    zf: zipfile.ZipFile, manifest: dict[str, str], target: Path, declared: Declared, limits: Limits
) -> None:
    """Unpack the payload into ``target``, hashing and counting each file as it is written.

    Every chunk is counted before it is written: an entry stops at the size its
    header declares, and the payload at the bound its declared size sets.
    """
    bound = _payload_bound(declared, limits)
    in_headers = sum(zf.getinfo(name).file_size for name in manifest)
    if in_headers > bound:
        raise BundleError(f"too large: {in_headers} bytes unpacked (the limit is {bound})")
    total = 0
    for name, expected in sorted(manifest.items()):
        digest, size = _extract_one(zf, zf.getinfo(name), target / name, bound - total)
        total += size
        if digest != expected:
            raise BundleError(f"{name} does not match its SHA-256 in {MANIFEST}: altered")
    if total != declared.octets:
        raise BundleError(
            f"the payload is {total} bytes but bag-info.txt declares {declared.octets}: altered"
        )


def _extract_one(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, room: int
) -> tuple[str, int]:
    name = info.filename
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, open(path, "xb") as dst:
            found = hash_stream(src, write=_bounded(dst, name, info.file_size, room))
    except UNREADABLE as exc:
        raise BundleError(f"{name} cannot be unpacked: {exc}") from exc
    return found.hexdigests["sha256"], found.size


def _bounded(dst: BinaryIO, name: str, declared: int, room: int) -> Callable[[bytes], None]:
    """A writer that counts each chunk before writing it: an entry stops at the size its
    header declares, and at the room the payload's bound leaves."""
    written = 0

    def write(chunk: bytes) -> None:
        nonlocal written
        written += len(chunk)
        if written > declared:
            raise BundleError(f"{name} unpacks to more than it declares: refused")
        if written > room:
            raise BundleError(f"too large: {name} unpacks beyond the payload's limit")
        dst.write(chunk)

    return write


def _load_records(data: Path, manifest: dict[str, str]) -> CaseRecords:
    try:
        raw = json.loads((data / "records.json").read_text("utf-8"))
        case = Case.model_validate(raw["case"])
        rows: dict[str, Any] = {
            _field(key): [
                model.model_validate(r)
                for r in (raw.get(key, []) if key in LATER_RECORDS else raw[key])
            ]
            for key, model in RECORD_TYPES.items()
        }
        rows["fingerprints"] = [_fingerprint(r) for r in raw["fingerprints"]]
        # A bundle of a mediacheck before time-stamps carries none.
        rows["timestamps"] = [_timestamp(r) for r in raw.get("timestamps", [])]
        events = [
            Event.model_validate(json.loads(line))
            for line in (data / "history.jsonl").read_text("utf-8").splitlines()
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BundleError(f"records.json or history.jsonl is malformed: {detail}") from exc
    records = _rated_items(CaseRecords(case=case, events=events, **rows))
    _check_records(records, manifest)
    return records


def _rated_items(records: CaseRecords) -> CaseRecords:
    """A bundle of an older mediacheck, whose verdicts rate whole cases: one per item.

    As migration 0002 does in a store: each verdict goes to every item the case
    held when it was proposed, so the rows agree with the bundle's history.
    """
    if not records.verdicts or any(v.media_id is not None for v in records.verdicts):
        return records
    events = []
    for event in records.events:
        try:
            details = json.loads(event.details)
        except ValueError:
            continue  # the history checks refuse it
        if isinstance(details, dict):
            events.append((event.user, event.action, details))
    rated = rules.rated_by_proposals(events)
    verdicts = [
        Verdict.model_validate(verdict.model_dump() | {"media_id": media_id})
        for i, verdict in enumerate(records.verdicts)
        for media_id in (rated[i] if i < len(rated) else [None])
    ]
    return replace(records, verdicts=verdicts)


def _field(key: str) -> str:
    """The ``CaseRecords`` field of a records.json key, where case-media rows are "links"."""
    return "memberships" if key == "links" else key


def _check_records(records: CaseRecords, manifest: dict[str, str]) -> None:
    """Rows that belong together, originals under their own hash and an intact history."""
    problems = [str(p.message) for p in check_history(records.case, records.events)]
    if problems:
        raise BundleError(f"the history chain is broken: {problems[0]}")
    _check_ids(records)
    _check_sources(records, manifest)
    for media in records.media:
        if manifest.get(f"data/originals/{media.sha256}") != media.sha256:
            raise BundleError(f"the original of media {media.id} is missing or altered")
    warcs = {f"data/warcs/{s.warc_sha256}" for s in records.sources}
    stray = [n for n in manifest if n not in warcs and not _expected_payload(n, records.media)]
    if stray:
        raise BundleError(f"unexpected file {stray[0]!r}: it belongs to no media of the case")


def _check_ids(records: CaseRecords) -> None:
    """Ids as a desk would make them, and every row tied to the case and its media."""
    case = records.case
    number = parse_case_id(case.id)  # any desk's prefix: bundles travel between desks
    if number is None or CaseNumber(number.desk, case.year, case.seq).case_id != case.id:
        raise BundleError(f"records.json: case id {case.id!r} does not match its year and number")
    media = {m.id: m for m in records.media}
    if any(key != new_media_id(m.sha256) for key, m in media.items()):
        raise BundleError("records.json: a media id is not the start of its SHA-256")
    owned: list[CaseMedia | Event | Note | Verdict | FindingRow | TimestampRow]
    owned = [
        *records.memberships,
        *records.events,
        *records.notes,
        *records.verdicts,
        *records.findings,
        *records.timestamps,
    ]
    if any(row.case_id != case.id for row in owned):
        raise BundleError(f"records.json holds rows of another case than {case.id}")
    derived: list[KeyframeRow | FindingRow | CaseMedia | FingerprintRow | Verdict]
    derived = [*records.keyframes, *records.findings, *records.memberships, *records.fingerprints]
    derived += [v for v in records.verdicts if v.media_id is not None]
    if any(row.media_id not in media for row in derived):
        raise BundleError("records.json names media that the bundle does not carry")
    pictures = [(k.media_id, k.path) for k in records.keyframes]
    pictures += [(f.media_id, f.image) for f in records.findings if f.image is not None]
    if not all(_in_derived_folder(path, media[key].sha256) for key, path in pictures):
        raise BundleError("records.json: a picture path leads outside its media's folder")


def _check_sources(records: CaseRecords, manifest: dict[str, str]) -> None:
    """Sources of this case, their media its own, their WARCs carried and as the history says."""
    case, media = records.case, {m.id for m in records.media}
    ids = {s.id for s in records.sources}
    if any(s.case_id != case.id for s in records.sources) or len(ids) != len(records.sources):
        raise BundleError(f"records.json holds sources of another case than {case.id}")
    if any(
        link.source_id not in ids or link.media_id not in media for link in records.source_media
    ):
        raise BundleError(
            "records.json: a source names media or a source the bundle does not carry"
        )
    for source in records.sources:
        if manifest.get(f"data/warcs/{source.warc_sha256}") != source.warc_sha256:
            raise BundleError(f"the WARC of source {source.url} is missing or altered")
    pairs = [
        (s, [link.media_id for link in records.source_media if link.source_id == s.id])
        for s in records.sources
    ]
    problems = check_sources(case.id, records.events, pairs)
    if problems:
        raise BundleError(f"records.json disagrees with the history: {problems[0].message}")


def _in_derived_folder(path: str, sha256: str) -> bool:
    return path.startswith(f"derived/{sha256[:2]}/{sha256}/") and ".." not in path.split("/")


def _expected_payload(name: str, media: list[Media]) -> bool:
    if name in PAYLOAD_FILES:
        return True
    return any(
        name == f"data/originals/{m.sha256}"
        or name.startswith(f"data/derived/{m.sha256[:2]}/{m.sha256}/")
        for m in media
    )


def _prove(
    records: CaseRecords,
    data: Path,
    manifest: dict[str, str],
    scratch: FolderBlobs,
    bundle: Path,
    anchors: list | None,
) -> CaseRecords:
    """The rows to import, once they agree with their history and with their originals.

    Time-stamp tokens must cover the events they name and, with the desk's trust
    anchor (``anchors``), verify against it: ``verify`` would fail the case otherwise.
    """
    try:
        check_against_history(records)
        check_timestamps(records, anchors)
        check_derived_files(data, manifest, records)
        return rederive(records, data, scratch)
    except BundleError as exc:
        raise BundleError(f"bundle {bundle}: {exc}") from exc


def _add(
    store: Store, records: CaseRecords, scratch: FolderBlobs, user: str, bundle: Path, data: Path
) -> ImportResult:
    for media in records.media:
        stored = store.blobs.put(scratch.original_path(media.sha256))
        if stored.sha256 != media.sha256:
            raise BundleError(f"the original of media {media.id} changed while it was imported")
    records = replace(records, sources=[_put_warc(store, s, data) for s in records.sources])
    files = _copy_derived(store, scratch.derived)
    details = {"bundle": bundle.name, "events_imported": len(records.events)}
    added = store.import_case(records, user, details)
    kept = sorted(m.id for m in records.media if m.id not in added)
    return ImportResult(records.case.id, added, kept, files, len(records.events))


def _put_warc(store: Store, source: Source, data: Path) -> Source:
    """Store a source's WARC, once it parses to its end; the row names it by its key here."""
    path = data / "warcs" / source.warc_sha256
    try:
        with open(path, "rb") as stream:
            for _ in warc_records(stream):
                pass
    except Exception as exc:  # noqa: BLE001 - warcio and zlib raise many kinds on a bad WARC
        raise BundleError(f"the WARC of source {source.url} does not parse: {exc}") from exc
    stored = store.blobs.put(path)
    if stored.sha256 != source.warc_sha256:
        raise BundleError(f"the WARC of source {source.url} changed while it was imported")
    key = store.blobs.original_key(stored.sha256)
    return Source.model_validate(source.model_dump() | {"warc_path": key})


def _copy_derived(store: Store, source_root: Path) -> int:
    """Copy re-derived pictures the store lacks; a picture already there is kept as it is."""
    copied = 0
    if not source_root.is_dir():
        return 0
    for source in sorted(p for p in source_root.rglob("*") if p.is_file()):
        key = "derived/" + source.relative_to(source_root).as_posix()
        copied += store.blobs.put_derived(key, source)
    return copied
