"""Form and query values as the core takes them: empty is None, URLs and times checked.

The same checks as the CLI's parameter types, one clear message naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from mediacheck.errors import InvalidValue

# Row ids are 32-bit integers on PostgreSQL: a larger one names no row, and is refused as such.
ROW_ID_MAX = 2**31 - 1


def optional(value: str | None) -> str | None:
    """``value`` stripped, or None when nothing was typed; a NUL in it is refused."""
    text = (value or "").strip()
    if "\x00" in text:
        raise InvalidValue("a field holds a NUL character")
    return text or None


def url_or_none(value: str | None, field: str) -> str | None:
    """An http(s) URL with a host, or None for an empty field."""
    text = optional(value)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in text:
        raise InvalidValue(f"{field}: {text!r} is not an http(s) URL")
    return text


def time_or_none(value: str | None, field: str) -> str | None:
    """An ISO 8601 time (UTC when it has no offset) as the store keeps it, or None."""
    text = optional(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidValue(
            f"{field}: {text!r} is not an ISO 8601 time such as 2026-01-03T06:10:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def tag_list(value: str | None) -> tuple[str, ...]:
    """Comma-separated tags, each stripped, empty ones left out."""
    return tuple(tag.strip() for tag in (value or "").split(",") if tag.strip())
