"""Copying a case's video keyframes and contact sheets out of the store for reverse search.

Exported names are made from the case id, media id and time only: nothing a file's own
metadata says reaches a path.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from mediacheck.errors import OutputError
from mediacheck.store.blobs import is_derived_key
from mediacheck.store.database import Store

UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class ExportedPicture:
    media_id: str
    kind: str  # "keyframe" or "contact_sheet"
    time_s: float | None
    source: str  # path inside the store
    file: str  # the copy
    hashes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyframeExport:
    case_id: str
    out_dir: str
    pictures: list[ExportedPicture]
    problems: list[str]  # stored pictures that could not be copied


def export_keyframes(store: Store, case_id: str, out_dir: Path | None = None) -> KeyframeExport:
    """Copy every keyframe and contact sheet of the case's videos into ``out_dir``.

    The default folder, ``CASE-keyframes`` in the working directory, is named from the
    stored case id rather than from what was typed.
    """
    case = store.get_case(case_id)
    out_dir = out_dir or Path(f"{safe(case.id)}-keyframes")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(out_dir, f"cannot create the folder: {exc.strerror or exc}") from exc
    wanted: list[ExportedPicture] = []
    for _, media in store.case_media(case.id):
        if media.kind != "video":
            continue
        prefix = safe(f"{case.id}_{media.id}")
        for frame in store.keyframes(media.id):
            name = f"{prefix}_{frame.time_s:010.3f}s.jpg"
            wanted.append(
                ExportedPicture(media.id, "keyframe", frame.time_s, frame.path, name, frame.hashes)
            )
        sheet = (media.video or {}).get("contact_sheet")
        if sheet:
            wanted.append(
                ExportedPicture(
                    media.id, "contact_sheet", None, sheet, f"{prefix}_contact-sheet.jpg"
                )
            )
    copied, problems = [], []
    for picture in wanted:
        problem = copy_picture(store, picture.source, out_dir / picture.file)
        if problem:
            problems.append(problem)
        else:
            copied.append(picture)
    return KeyframeExport(case.id, str(out_dir), copied, problems)


def copy_picture(store: Store, source: str, target: Path) -> str | None:
    """Copy one stored picture; the reason it could not be copied, or None."""
    if not is_derived_key(source):
        return f"{source}: not a derived picture of this store"
    try:
        with store.blobs.open_blob(source) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    except FileNotFoundError:
        return f"{source}: missing from the store"
    except OSError as exc:
        raise OutputError(target, f"cannot be written: {exc.strerror or exc}") from exc
    return None


def safe(name: str) -> str:
    return UNSAFE.sub("_", name)
