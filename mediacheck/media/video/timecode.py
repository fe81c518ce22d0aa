"""Video times as people read them; no video library, so the CLI can print them cheaply."""

from __future__ import annotations


def timestamp(time_s: float) -> str:
    """H:MM:SS.mmm, the form video players show."""
    millis = round(time_s * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest / 1000:06.3f}"
