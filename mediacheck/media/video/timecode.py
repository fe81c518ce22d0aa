"""Video times as people read them; no video library, so the CLI can print them cheaply."""

from __future__ import annotations


def timestamp(time_s: float) -> str:
    """H:MM:SS.mmm, the form video players show."""
    millis = round(time_s * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest / 1000:06.3f}"


def clock(time_s: float) -> str:
    """M:SS (H:MM:SS from an hour on), to the nearest second: how people name a moment."""
    minutes, seconds = divmod(round(time_s), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def span(start_s: float, end_s: float) -> str:
    """0:05-0:21"""
    return f"{clock(start_s)}-{clock(end_s)}"
