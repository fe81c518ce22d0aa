"""Where the case store and its database live, who is at the keyboard, and which desk."""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STORE = Path("cases")
DB_FILENAME = "mediacheck.db"
DEFAULT_DESK = "MC"
# A desk prefix starts every case id it numbers (KYIV-2026-0001): letters and digits only,
# so that an id still reads as PREFIX-YEAR-NUMBER, and short enough for the id column.
DESK_PATTERN = re.compile(r"[A-Za-z0-9]{1,8}")


@dataclass(frozen=True)
class Settings:
    store: Path
    db_url: str
    user: str
    desk: str = DEFAULT_DESK
    blobs: str = ""  # s3://bucket/prefix, or empty: the originals live in the store folder
    # declared: the user is who --user says; database: who the PostgreSQL session is (issue 16)
    identity: str = "declared"


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"


def desk_prefix(text: str) -> str:
    """The case-id prefix ``text`` names, in capitals; ValueError if it cannot be one."""
    if not DESK_PATTERN.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not a desk prefix: use 1 to 8 letters or digits, e.g. KYIV")
    return text.strip().upper()


def resolve(
    store: Path | None = None,
    db_url: str | None = None,
    user: str | None = None,
    desk: str | None = None,
    blobs: str | None = None,
) -> Settings:
    """Settings from explicit values, falling back to the environment and defaults."""
    store = store or Path(os.environ.get("MEDIACHECK_HOME") or DEFAULT_STORE)
    db_url = db_url or os.environ.get("MEDIACHECK_DATABASE_URL") or sqlite_url(store)
    user = user or os.environ.get("MEDIACHECK_USER") or default_user()
    desk = desk_prefix(desk or os.environ.get("MEDIACHECK_DESK") or DEFAULT_DESK)
    blobs = blobs or os.environ.get("MEDIACHECK_BLOBS") or ""
    identity = identity_mode(os.environ.get("MEDIACHECK_IDENTITY") or IDENTITY_MODES[0])
    return Settings(
        store=store, db_url=db_url, user=user, desk=desk, blobs=blobs, identity=identity
    )


IDENTITY_MODES = ("declared", "database")


def identity_mode(text: str) -> str:
    """The MEDIACHECK_IDENTITY mode ``text`` names; ValueError if it names none."""
    mode = text.strip().lower()
    if mode not in IDENTITY_MODES:
        raise ValueError(
            f"MEDIACHECK_IDENTITY={text!r} is not an identity mode: "
            f"one of {', '.join(IDENTITY_MODES)}"
        )
    return mode


def sqlite_url(store: Path) -> str:
    return f"sqlite:///{(store / DB_FILENAME).absolute()}"
