"""The seed story on a test store: an approved case, then a case that re-shares its picture.

``MC-…1`` holds strike.jpg with an approved DecontextualizedContent verdict;
the later case holds reshared.jpg (the same picture, re-encoded and cropped:
the archive finds it by its keypoints) and an unrelated photo. ``tamper``
does what the issue found unnoticed: one byte of an original altered and a
verdict row edited behind mediacheck's back.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from mediacheck.store.database import Store

SAMPLES = Path(__file__).parent.parent / "mediacheck" / "samples"


@dataclass(frozen=True)
class Story:
    earlier: str  # the archive's case, approved
    later: str  # the re-share
    strike: dict  # intake results (--json) of each file
    reshared: dict
    unrelated: dict


def seed_story(cli) -> Story:
    [strike] = cli.json(
        "intake",
        SAMPLES / "strike.jpg",
        "--title",
        "IVIC building hit",
        "--source-url",
        "https://t.me/somechannel/1234",
        "--quick",
    )
    earlier = strike["case_id"]
    cli("note", earlier, "--engine", "tineye", "Same picture in a 2019 article")
    cli(
        "verdict",
        "propose",
        earlier,
        "DecontextualizedContent",
        "--rationale",
        "The picture is from 2019",
    )
    cli("verdict", "approve", earlier, user="bob")
    reshared, unrelated = cli.json(
        "intake",
        SAMPLES / "reshared.jpg",
        SAMPLES / "unrelated.png",
        "--one-case",
        "--title",
        "Hit by two missiles",
        "--quick",
    )
    return Story(earlier, reshared["case_id"], strike, reshared, unrelated)


def original_path(store_dir: Path, sha256: str) -> Path:
    return store_dir / "originals" / sha256[:2] / sha256[2:4] / sha256


def flip_a_byte(store_dir: Path, sha256: str) -> None:
    path = original_path(store_dir, sha256)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def edit_verdicts(store: Store, rating: str = "OriginalMediaContent") -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE verdicts SET rating = :rating"), {"rating": rating})


def tamper(store: Store, store_dir: Path, story: Story) -> None:
    """The re-share's original altered, the archive case's verdict row edited."""
    flip_a_byte(store_dir, story.reshared["sha256"])
    edit_verdicts(store)
