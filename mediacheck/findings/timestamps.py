"""Capture times that contradict each other or the claimed posting time."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from mediacheck.findings.base import NOTICE, WARNING, Finding, FindingContext, string_tags

# A time without a UTC offset can be anywhere from UTC-12 to UTC+14.
UNKNOWN_ZONE_SLACK = timedelta(hours=14)
MAX_WEST, MAX_EAST = timedelta(hours=12), timedelta(hours=14)
# Phones stamp the time of their last GPS fix, which can lag the shot.
GPS_CLOCK_TOLERANCE = timedelta(hours=1)
# Older than this at posting time, a picture may be recycled from another event.
RECYCLING_GAP = timedelta(days=30)
# Container clocks are often local time mislabelled as UTC; beyond a day
# they cannot describe the same recording.
CONTAINER_TOLERANCE = timedelta(days=1)
DATE = re.compile(
    r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[T ](\d{2}):(\d{2}):?(\d{2})?(?:[.,]\d+)?"
    r"\s*(Z|[+\-]\d{2}:?\d{2})?"
)
OFFSET = re.compile(r"^\s*([+\-])(\d{2}):?(\d{2})\s*$")
# QuickTime and MP4 write 1904 or 1970 when the clock was never set.
PLACEHOLDER_YEAR = 1970
CONTAINER_DATE_KEYS = ("creation_time", "com.apple.quicktime.creationdate", "date")


def check_capture_time(ctx: FindingContext) -> list[Finding]:
    if ctx.kind not in ("image", "video"):
        return []
    captured = parse_datetime(ctx.summary.get("captured_at"))
    findings = _against_posting(captured, ctx.posted_at)
    if ctx.kind == "image":
        exif = ctx.metadata.get("exif") or {}
        findings += _modified_before_capture(exif)
        findings += _offsets_disagree(exif)
        findings += _gps_clock_disagrees(exif)
    else:
        findings += _container_dates_disagree(captured, ctx.metadata)
    return findings


def parse_datetime(value: Any) -> datetime | None:
    """A date from metadata (EXIF, ISO 8601 or QuickTime style); None if unreadable."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    match = DATE.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None
    if zone:
        offset = timedelta(0) if zone == "Z" else parse_offset(zone)
        if offset is None:
            return None
        moment = moment.replace(tzinfo=timezone(offset))
    return moment


def parse_offset(value: Any) -> timedelta | None:
    match = OFFSET.match(value) if isinstance(value, str) else None
    if not match:
        return None
    sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    if offset > UNKNOWN_ZONE_SLACK:
        return None
    return -offset if sign == "-" else offset


def _gap(captured: datetime, posted: datetime) -> tuple[timedelta, timedelta]:
    """How much later the posting was, and the uncertainty of that difference."""
    if captured.tzinfo is None:
        naive_posted = posted.astimezone(UTC).replace(tzinfo=None)
        return naive_posted - captured, UNKNOWN_ZONE_SLACK
    return posted - captured, timedelta(0)


def _against_posting(captured: datetime | None, posted: datetime | None) -> list[Finding]:
    if captured is None or posted is None or posted.tzinfo is None:
        return []
    gap, slack = _gap(captured, posted)
    evidence = {
        "captured_at": captured.isoformat(),
        "posted_at": posted.isoformat(),
        "gap_days": round(gap / timedelta(days=1), 2),
        "zone_known": slack == timedelta(0),
    }
    if gap < -slack:
        message = (
            "The capture time in the file is later than the time the post was published. "
            "A camera clock can be wrong, but a recording cannot be posted before it exists: "
            "check the claimed posting time and the device clock."
        )
        return [
            Finding("capture-time-inconsistent", WARNING, message, _why("after-posting", evidence))
        ]
    if gap > RECYCLING_GAP + slack:
        message = (
            f"The file says it was captured {evidence['gap_days']:g} days before it was posted. "
            "Old material is often recycled as new: look for earlier copies. "
            "Camera clocks can be wrong or never set, so this is not proof on its own."
        )
        return [
            Finding(
                "capture-time-inconsistent", NOTICE, message, _why("long-before-posting", evidence)
            )
        ]
    return []


def _why(reason: str, evidence: dict) -> dict:
    return {"reason": reason, **evidence}


def _modified_before_capture(exif: dict) -> list[Finding]:
    captured = parse_datetime(exif.get("EXIF DateTimeOriginal"))
    modified = parse_datetime(exif.get("Image DateTime"))
    if captured is None or modified is None or modified.tzinfo or captured.tzinfo:
        return []
    if modified >= captured:
        return []
    message = (
        "The file's last-modified time is earlier than its capture time, which a camera "
        "does not write. Someone or some program changed one of the two dates; "
        "the capture time should not be trusted without other evidence."
    )
    evidence = {
        "reason": "modified-before-capture",
        "captured_at": captured.isoformat(),
        "modified_at": modified.isoformat(),
    }
    return [Finding("capture-time-inconsistent", NOTICE, message, evidence)]


def _offsets_disagree(exif: dict) -> list[Finding]:
    # Both offsets describe the moment of capture; a modify-time offset may
    # legitimately differ (edited in another time zone).
    tags = ("EXIF OffsetTimeOriginal", "EXIF OffsetTimeDigitized")
    offsets = {tag: exif.get(tag) for tag in tags if parse_offset(exif.get(tag)) is not None}
    if len({parse_offset(v) for v in offsets.values()}) < 2:
        return []
    message = (
        "The time zone recorded for the capture differs between two EXIF fields "
        f"({', '.join(f'{k} {v}' for k, v in offsets.items())}). Devices write both at the "
        "same moment, so one was changed later; the capture time and place are less reliable."
    )
    evidence = {"reason": "offsets-disagree", "offsets": offsets}
    return [Finding("capture-time-inconsistent", NOTICE, message, evidence)]


def _gps_clock_disagrees(exif: dict) -> list[Finding]:
    """The GPS clock (UTC) against the camera's local capture time and its offset."""
    local = parse_datetime(exif.get("EXIF DateTimeOriginal"))
    gps = _gps_time(exif.get("GPS GPSDate"), exif.get("GPS GPSTimeStamp"))
    if local is None or local.tzinfo is not None or gps is None:
        return []
    implied = local - gps
    declared = parse_offset(exif.get("EXIF OffsetTimeOriginal"))
    if declared is not None:
        consistent = abs(implied - declared) <= GPS_CLOCK_TOLERANCE
    else:
        consistent = -MAX_WEST - GPS_CLOCK_TOLERANCE <= implied <= MAX_EAST + GPS_CLOCK_TOLERANCE
    if consistent:
        return []
    hours = round(implied / timedelta(hours=1), 2)
    declared_text = exif.get("EXIF OffsetTimeOriginal") if declared is not None else None
    message = (
        "The GPS clock (in UTC) and the camera's capture time disagree by more than "
        f"{'the declared time zone' if declared_text else 'any time zone'} explains "
        f"({hours:g} hours apart). A stale GPS fix or a wrong camera clock can do this; "
        "so can metadata copied from another file or an edited date."
    )
    evidence = {
        "reason": "gps-clock-disagrees",
        "captured_at": local.isoformat(),
        "gps_time": gps.isoformat() + "Z",
        "offset_hours": hours,
        "declared_offset": declared_text,
    }
    return [Finding("capture-time-inconsistent", NOTICE, message, evidence)]


def _gps_time(date: Any, stamp: Any) -> datetime | None:
    """GPSDateStamp and GPSTimeStamp (as exifread prints them) as a naive UTC time."""
    if not isinstance(date, str) or not isinstance(stamp, str):
        return None
    parts = [_rational(p) for p in stamp.strip("[] ").split(",")]
    numbers = [p for p in parts if p is not None and p >= 0]
    if len(parts) != 3 or len(numbers) != 3:
        return None
    day = parse_datetime(f"{date.strip()} 00:00:00")
    if day is None:
        return None
    hours, minutes, seconds = numbers
    return day + timedelta(hours=hours, minutes=minutes, seconds=round(seconds))


def _rational(text: str) -> float | None:
    numerator, _, denominator = text.strip().partition("/")
    try:
        value = float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) else None


def _container_dates_disagree(captured: datetime | None, metadata: dict) -> list[Finding]:
    dates = {
        key: parse_datetime(value) for key, value in string_tags(metadata, CONTAINER_DATE_KEYS)
    }
    aware = {
        key: moment
        for key, moment in dates.items()
        if moment and moment.tzinfo and moment.year > PLACEHOLDER_YEAR
    }
    if captured is not None and captured.tzinfo is not None:
        aware.setdefault("captured_at", captured)
    if len(aware) < 2:
        return []
    earliest = min(aware, key=aware.__getitem__)
    latest = max(aware, key=aware.__getitem__)
    spread = aware[latest] - aware[earliest]
    if spread <= CONTAINER_TOLERANCE:
        return []
    days = round(spread / timedelta(days=1), 2)
    message = (
        f"The dates stored in the video container are {days:g} days apart "
        f"({aware[earliest]:%Y-%m-%d} and {aware[latest]:%Y-%m-%d}). A recording straight "
        "from a phone or camera has matching dates; a gap means the file was rewritten "
        "later (edited, exported or re-encoded), so its capture date is uncertain."
    )
    evidence = {
        "reason": "container-dates-disagree",
        "dates": {key: moment.isoformat() for key, moment in sorted(aware.items())},
        "spread_days": days,
    }
    return [Finding("capture-time-inconsistent", NOTICE, message, evidence)]
