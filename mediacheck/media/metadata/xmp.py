"""Parse XMP packets without entity expansion and flatten them to {"prefix:Name": value}."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from mediacheck.media.metadata.blocks import clean, text

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Writers may bind any prefix; the summary looks properties up by the usual ones.
CANONICAL_PREFIXES = {
    RDF: "rdf",
    "adobe:ns:meta/": "x",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://ns.adobe.com/camera-raw-settings/1.0/": "crs",
}
RDF_DESCRIPTION = f"{{{RDF}}}Description"
CONTAINERS = {f"{{{RDF}}}{name}" for name in ("Seq", "Bag", "Alt")}
CONTROL_TO_SPACE = bytes.maketrans(bytes(c for c in range(32) if c not in b"\t\n\r"), b" " * 29)
MAX_DEPTH = 16  # structures nest a few levels; deeper is hostile
MAX_VALUE = 65536
MAX_ITEMS = 1000


def parse_xmp(packets: list[bytes]) -> tuple[dict[str, Any] | None, list[str]]:
    """{"packet": main packet text, "properties": {...}} and one error line per bad packet."""
    if not packets:
        return None, []
    properties: dict[str, Any] = {}
    errors = []
    for packet in packets:
        try:
            root, prefixes = _parse(_trim(packet))
        except (ParseError, DefusedXmlException, ValueError) as exc:
            errors.append(f"XMP: not well-formed ({clean(str(exc))[:200]})")
            continue
        flattener = _Flattener(prefixes, properties, errors)
        for description in _descriptions(root):
            flattener.flatten(description)
    return {"packet": text(packets[0]), "properties": properties}, errors


def _trim(packet: bytes) -> bytes:
    """From the first tag to the last: padding, BOM noise and NULs around a packet are common.

    Control bytes are never legal in XML; damaged packets carry runs of NULs
    between intact elements (ExifTool still reads those), so they become spaces.
    """
    start, end = packet.find(b"<"), packet.rfind(b">")
    if start < 0 or end < start:
        raise ValueError("no XML in the packet")
    return packet[start : end + 1].translate(CONTROL_TO_SPACE)


def _parse(body: bytes) -> tuple[Element, dict[str, str]]:
    prefixes: dict[str, str] = {}
    root = None
    events = iterparse(io.BytesIO(body), events=("start", "start-ns"), forbid_dtd=True)
    for event, item in events:
        if event == "start-ns":
            prefix, uri = item
            prefixes.setdefault(uri, prefix)
        elif root is None:
            root = item
    if root is None:
        raise ValueError("empty packet")
    return root, {**prefixes, **CANONICAL_PREFIXES}


def _descriptions(root: Element) -> list[Element]:
    """Top-level rdf:Description elements (nested ones are structure values, not properties)."""
    rdf_name = f"{{{RDF}}}RDF"
    rdf = root if root.tag == rdf_name else root.find(f".//{rdf_name}")
    return [] if rdf is None else [child for child in rdf if child.tag == RDF_DESCRIPTION]


@dataclass
class _Flattener:
    prefixes: dict[str, str]
    out: dict[str, Any]
    errors: list[str]

    def flatten(self, element: Element, path: str = "", depth: int = 0) -> None:
        for name, value in element.attrib.items():
            if not name.startswith(f"{{{RDF}}}") and name != XML_LANG:
                self.out[path + _qname(name, self.prefixes)] = clean(value)[:MAX_VALUE]
        if depth >= MAX_DEPTH:
            return
        for child in element:
            self.property(child, path + _qname(child.tag, self.prefixes), depth)

    def property(self, element: Element, key: str, depth: int) -> None:
        resource = element.get(f"{{{RDF}}}resource")
        children = list(element)
        if resource is not None:
            self.out[key] = clean(resource)[:MAX_VALUE]
        elif children and children[0].tag in CONTAINERS:
            self.out[key] = self.items(children[0], key)
        elif children or element.get(f"{{{RDF}}}parseType") == "Resource":
            # A structure: its fields become "prefix:Name/prefix:Field".
            first = children[0] if children else None
            holder = first if first is not None and first.tag == RDF_DESCRIPTION else element
            self.flatten(holder, key + "/", depth + 1)
        else:
            self.out[key] = clean(element.text or "").strip()[:MAX_VALUE]

    def items(self, container: Element, key: str) -> list[str]:
        items = list(container)
        if len(items) > MAX_ITEMS:
            # Photoshop's DocumentAncestors can run to hundreds of thousands of ids.
            self.errors.append(f"XMP: {key} cut to {MAX_ITEMS} of {len(items)} items")
        return [_item_text(li) for li in items[:MAX_ITEMS]]


def _item_text(li: Element) -> str:
    return clean("".join(li.itertext())).strip()[:MAX_VALUE]


def _qname(tag: str, prefixes: dict[str, str]) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{prefixes.get(uri, uri)}:{local}"
    return tag
