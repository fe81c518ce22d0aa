"""Where the case store and its database live, and who is at the keyboard."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STORE = Path("cases")
DB_FILENAME = "mediacheck.db"


@dataclass(frozen=True)
class Settings:
    store: Path
    db_url: str
    user: str
    blobs: str = ""  # s3://bucket/prefix, or empty: the originals live in the store folder


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"


def resolve(
    store: Path | None = None,
    db_url: str | None = None,
    user: str | None = None,
    blobs: str | None = None,
) -> Settings:
    """Settings from explicit values, falling back to the environment and defaults."""
    store = store or Path(os.environ.get("MEDIACHECK_HOME") or DEFAULT_STORE)
    db_url = db_url or os.environ.get("MEDIACHECK_DATABASE_URL") or sqlite_url(store)
    user = user or os.environ.get("MEDIACHECK_USER") or default_user()
    blobs = blobs or os.environ.get("MEDIACHECK_BLOBS") or ""
    return Settings(store=store, db_url=db_url, user=user, blobs=blobs)


def sqlite_url(store: Path) -> str:
    return f"sqlite:///{(store / DB_FILENAME).absolute()}"
