"""The normalised summary: the handful of facts a fact-checker looks at first.

Each field takes the first source that has a usable value, EXIF before the
mirrors that editors and converters write (PNG text, XMP, IPTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mediacheck.media.metadata.blocks import text

SUMMARY_KEYS = (
    "make",
    "model",
    "lens",
    "software",
    "captured_at",
    "gps_latitude",
    "gps_longitude",
    "gps_altitude",
    "orientation",
    "declared_width",
    "declared_height",
    "width",
    "height",
    "has_thumbnail",
)

# The summary is for people and tables; a longer "camera make" is junk or an attack.
MAX_TEXT = 1024
DATE = re.compile(
    r"\s*(\d{4})[:-](\d\d)[:-](\d\d)"
    r"(?:[ T](\d\d):(\d\d)(?::(\d\d))?(?:\.(\d+))?)?"
    r"\s*(Z|[+-]\d\d:?\d\d)?"
)
OFFSET = re.compile(r"\s*(Z|[+-]\d\d:?\d\d)")
IPTC_TIME = re.compile(r"(\d\d):?(\d\d):?(\d\d)?\s*([+-]\d\d:?\d\d)?")
XMP_COORDINATE = re.compile(r"\s*(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?\s*([NSEW])")


@dataclass
class Sources:
    exif: dict[str, Any] = field(default_factory=dict)  # exifread tag name -> IfdTag
    xmp: dict[str, Any] = field(default_factory=dict)  # "prefix:Name" -> value
    iptc: dict[str, Any] = field(default_factory=dict)
    png_text: dict[str, str] = field(default_factory=dict)
    png_modified: str | None = None
    header_size: tuple[int, int] | None = None
    exif_is_container: bool = False  # a TIFF file, whose second directory may be a page
    embedded_thumbnail: bool = False  # Photoshop or HEIF thumbnail


def build_summary(src: Sources, pixel_size: tuple[int, int] | None) -> dict[str, Any]:
    width, height = pixel_size or src.header_size or (None, None)
    latitude, longitude = _gps_position(src)
    return {
        "make": _first_text(src, "Image Make", "Make", "tiff:Make"),
        "model": _first_text(src, "Image Model", "Model", "tiff:Model"),
        "lens": _first_text(src, "EXIF LensModel", None, "aux:Lens", "exifEX:LensModel"),
        "software": _first_text(
            src, "Image Software", "Software", "tiff:Software", "xmp:CreatorTool"
        ),
        "captured_at": captured_at(src),
        "gps_latitude": latitude,
        "gps_longitude": longitude,
        "gps_altitude": _gps_altitude(src),
        "orientation": _orientation(src),
        "declared_width": _exif_int(src, "EXIF ExifImageWidth"),
        "declared_height": _exif_int(src, "EXIF ExifImageLength"),
        "width": width,
        "height": height,
        "has_thumbnail": _has_thumbnail(src),
    }


def _first_text(src: Sources, exif_name: str, png_key: str | None, *xmp_names: str) -> str | None:
    candidates = [_exif_text(src, exif_name)]
    candidates.append(src.png_text.get(png_key) if png_key else None)
    candidates.extend(_xmp_text(src, name) for name in xmp_names)
    return next((c.strip()[:MAX_TEXT] for c in candidates if c and c.strip()), None)


def _exif_text(src: Sources, name: str) -> str | None:
    tag = src.exif.get(name)
    values = getattr(tag, "values", None)
    if isinstance(values, bytes):
        values = text(values)
    elif isinstance(values, list) and all(isinstance(v, int) and 0 <= v < 256 for v in values):
        values = text(bytes(values))  # UNDEFINED-typed strings arrive as byte lists
    return values.strip(" \x00") if isinstance(values, str) else None


def _xmp_text(src: Sources, name: str) -> str | None:
    value = src.xmp.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _exif_number(src: Sources, name: str, index: int = 0) -> float | None:
    values = getattr(src.exif.get(name), "values", None)
    if not isinstance(values, list) or len(values) <= index:
        return None
    return _to_float(values[index])


def _to_float(value: Any) -> float | None:
    if isinstance(value, int):
        return float(value)
    numerator, denominator = getattr(value, "numerator", None), getattr(value, "denominator", 0)
    if isinstance(numerator, int) and isinstance(denominator, int) and denominator:
        return numerator / denominator
    return None


def _exif_int(src: Sources, name: str) -> int | None:
    number = _exif_number(src, name)
    return int(number) if number is not None and number > 0 else None


def _orientation(src: Sources) -> int | None:
    number = _exif_number(src, "Image Orientation")
    return int(number) if number in (1, 2, 3, 4, 5, 6, 7, 8) else None


def _has_thumbnail(src: Sources) -> bool:
    length = _exif_number(src, "Thumbnail JPEGInterchangeFormatLength") or 0
    # In a TIFF file the second directory is a thumbnail only when marked reduced-resolution.
    reduced = int(_exif_number(src, "Thumbnail SubfileType") or 0) & 1
    strips = "Thumbnail StripOffsets" in src.exif and (reduced or not src.exif_is_container)
    return bool(length > 0 or strips or src.embedded_thumbnail)


def _gps_position(src: Sources) -> tuple[float | None, float | None]:
    latitude = _exif_coordinate(src, "GPSLatitude")
    longitude = _exif_coordinate(src, "GPSLongitude")
    if latitude is None or longitude is None:
        latitude = _xmp_coordinate(src, "exif:GPSLatitude")
        longitude = _xmp_coordinate(src, "exif:GPSLongitude")
    if latitude is None or longitude is None:
        return None, None
    return latitude, longitude


def _exif_coordinate(src: Sources, name: str) -> float | None:
    whole, minutes, seconds = (_exif_number(src, f"GPS {name}", i) for i in range(3))
    if whole is None or minutes is None or seconds is None:
        return None  # an empty or partial coordinate, as GPS IFDs without a fix have
    degrees = whole + minutes / 60 + seconds / 3600
    ref = (_exif_text(src, f"GPS {name}Ref") or "").upper()[:1]
    return -degrees if ref in ("S", "W") else degrees


def _xmp_coordinate(src: Sources, name: str) -> float | None:
    match = XMP_COORDINATE.match(_xmp_text(src, name) or "")
    if not match:
        return None
    degrees = float(match[1]) + float(match[2]) / 60 + float(match[3] or 0) / 3600
    return -degrees if match[4] in ("S", "W") else degrees


def _gps_altitude(src: Sources) -> float | None:
    altitude = _exif_number(src, "GPS GPSAltitude")
    below = _exif_number(src, "GPS GPSAltitudeRef") == 1
    if altitude is None:
        altitude = _xmp_rational(_xmp_text(src, "exif:GPSAltitude"))
        below = (_xmp_text(src, "exif:GPSAltitudeRef") or "").strip() == "1"
    if altitude is None:
        return None
    return -altitude if below else altitude


def _xmp_rational(value: str | None) -> float | None:
    numerator, _, denominator = (value or "").partition("/")
    try:
        return float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return None


def captured_at(src: Sources) -> str | None:
    """ISO 8601 capture time: original capture first, then digitising, then last change."""
    candidates = (
        lambda: _exif_date(
            src, "EXIF DateTimeOriginal", "OffsetTimeOriginal", "SubSecTimeOriginal"
        ),
        lambda: _exif_date(
            src, "Image DateTimeOriginal", "OffsetTimeOriginal", "SubSecTimeOriginal"
        ),
        lambda: iso_date(_xmp_text(src, "exif:DateTimeOriginal")),
        lambda: _iptc_date(src),
        lambda: iso_date(_xmp_text(src, "photoshop:DateCreated")),
        lambda: _exif_date(
            src, "EXIF DateTimeDigitized", "OffsetTimeDigitized", "SubSecTimeDigitized"
        ),
        lambda: iso_date(_xmp_text(src, "xmp:CreateDate")),
        lambda: _exif_date(src, "Image DateTime", "OffsetTime", "SubSecTime"),
        lambda: iso_date(_xmp_text(src, "xmp:ModifyDate")),
        lambda: src.png_modified,
    )
    return next((value for candidate in candidates if (value := candidate())), None)


def _exif_date(src: Sources, name: str, offset_tag: str, subsec_tag: str) -> str | None:
    stamp = iso_date(_exif_text(src, name))
    if stamp is None or "T" not in stamp or OFFSET.search(stamp[19:]):
        return stamp
    subsec = re.sub(r"\D", "", _exif_text(src, f"EXIF {subsec_tag}") or "")
    offset = OFFSET.fullmatch(_exif_text(src, f"EXIF {offset_tag}") or "")
    suffix = (f".{subsec}" if subsec else "") + (_offset(offset[1]) if offset else "")
    return stamp + suffix


def iso_date(value: str | None) -> str | None:
    """EXIF, XMP or IPTC-derived date text as ISO 8601; None if it is not a date.

    Takes "2015:12:05 00:59:26", "2009-05-19T09:57:21-07:00" and "2003-08-30".
    """
    match = DATE.match(value or "")
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None  # "0000:00:00 00:00:00" and blank-filled dates mean "unknown"
    if hour is None:
        return moment.date().isoformat()
    stamp = moment.isoformat()
    return stamp + (f".{fraction}" if fraction else "") + (_offset(offset) if offset else "")


def _offset(offset: str) -> str:
    if offset == "Z":
        return "+00:00"
    digits = offset.replace(":", "")
    return f"{digits[:3]}:{digits[3:5]}"


def _iptc_date(src: Sources) -> str | None:
    day = src.iptc.get("Date Created")
    day = day[0] if isinstance(day, list) and day else day
    # The standard says CCYYMMDD; some agencies write 2015-01-22.
    day = re.sub(r"\D", "", day) if isinstance(day, str) else ""
    if len(day) != 8:
        return None
    clock = src.iptc.get("Time Created")
    clock = clock[0] if isinstance(clock, list) and clock else clock
    match = IPTC_TIME.match(clock) if isinstance(clock, str) else None
    if not match:
        return iso_date(f"{day[:4]}:{day[4:6]}:{day[6:]}")
    offset = match[4] or ""
    return iso_date(
        f"{day[:4]}:{day[4:6]}:{day[6:]} {match[1]}:{match[2]}:{match[3] or '00'}{offset}"
    )
