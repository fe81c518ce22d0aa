"""Photoshop image resources and the IPTC-IIM records inside them."""

from __future__ import annotations

from typing import Any

from mediacheck.media.metadata.blocks import clean

IPTC_RESOURCE = 0x0404
THUMBNAIL_RESOURCES = {0x0409, 0x040C}  # Photoshop 4 and 5+ thumbnails
BINARY_DATASETS = {0}  # Record Version is a 16-bit number, not text
UTF8_MARKER = b"\x1b%G"  # ISO 2022 escape in dataset 1:90 (coded character set)
# Application record (2) datasets, with the names of the IPTC-IIM specification.
DATASETS = {
    0: "Record Version",
    3: "Object Type Reference",
    4: "Object Attribute Reference",
    5: "Object Name",
    7: "Edit Status",
    10: "Urgency",
    12: "Subject Reference",
    15: "Category",
    20: "Supplemental Category",
    22: "Fixture Identifier",
    25: "Keywords",
    26: "Content Location Code",
    27: "Content Location Name",
    30: "Release Date",
    35: "Release Time",
    37: "Expiration Date",
    38: "Expiration Time",
    40: "Special Instructions",
    45: "Reference Service",
    47: "Reference Date",
    50: "Reference Number",
    55: "Date Created",
    60: "Time Created",
    62: "Digital Creation Date",
    63: "Digital Creation Time",
    65: "Originating Program",
    70: "Program Version",
    75: "Object Cycle",
    80: "By-line",
    85: "By-line Title",
    90: "City",
    92: "Sub-location",
    95: "Province/State",
    100: "Country/Primary Location Code",
    101: "Country/Primary Location Name",
    103: "Original Transmission Reference",
    105: "Headline",
    110: "Credit",
    115: "Source",
    116: "Copyright Notice",
    118: "Contact",
    120: "Caption/Abstract",
    122: "Writer/Editor",
    130: "Image Type",
    131: "Image Orientation",
    135: "Language Identifier",
}


def photoshop_resources(irb: bytes) -> dict[int, bytes]:
    """Resource id -> data of each well-formed "8BIM" resource, up to the first broken one."""
    resources: dict[int, bytes] = {}
    pos = 0
    while irb[pos : pos + 4] == b"8BIM" and pos + 7 <= len(irb):
        resource_id = int.from_bytes(irb[pos + 4 : pos + 6], "big")
        name_length = irb[pos + 6]
        pos += 6 + name_length + 1 + ((name_length + 1) & 1)  # Pascal name, padded to even
        size = int.from_bytes(irb[pos : pos + 4], "big")
        resources.setdefault(resource_id, irb[pos + 4 : pos + 4 + size])
        pos += 4 + size + (size & 1)
    return resources


def parse_iptc(records: bytes) -> tuple[dict[str, Any], list[str]]:
    """Dataset name -> value (a list when the dataset repeats), and error lines."""
    raw: list[tuple[int, int, bytes]] = []
    pos = 0
    while pos + 5 <= len(records) and records[pos] == 0x1C:
        record, dataset = records[pos + 1], records[pos + 2]
        size, pos = int.from_bytes(records[pos + 3 : pos + 5], "big"), pos + 5
        if size & 0x8000:
            # Extended dataset: the low bits say how many bytes hold the real size.
            width = size & 0x7FFF
            size, pos = int.from_bytes(records[pos : pos + width], "big"), pos + width
        raw.append((record, dataset, records[pos : pos + size]))
        pos += size
    # Writers pad the block with NULs; anything else left over is damage.
    leftover = records[pos:].strip(b"\x00")
    errors = [f"IPTC: unreadable data after {len(raw)} datasets"] if leftover else []
    return _named(raw), errors


def _named(raw: list[tuple[int, int, bytes]]) -> dict[str, Any]:
    utf8 = any(r == 1 and d == 90 and UTF8_MARKER in v for r, d, v in raw)
    out: dict[str, Any] = {}
    for record, dataset, value in raw:
        if record != 2:
            continue
        name = DATASETS.get(dataset, f"2:{dataset}")
        decoded = (
            int.from_bytes(value, "big") if dataset in BINARY_DATASETS else _decode(value, utf8)
        )
        if name in out:
            previous = out[name]
            out[name] = [*previous, decoded] if isinstance(previous, list) else [previous, decoded]
        else:
            out[name] = decoded
    return out


def _decode(value: bytes, utf8: bool) -> str:
    try:
        decoded = value.decode("utf-8")
    except UnicodeDecodeError:
        # Without the UTF-8 marker, IIM text is most often Latin-1 (or a Windows code page).
        decoded = value.decode("utf-8" if utf8 else "latin-1", "replace")
    return clean(decoded).strip()
