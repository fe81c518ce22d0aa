"""EXIF, XMP, IPTC, ICC, PNG text and JPEG comments of a picture, and the normalised summary.

Files are walked, never read whole and never decoded: every container is
parsed from its headers, with a size cap on each metadata block, so a 2 GB
file costs no more memory than a small one. Whatever cannot be read becomes
one line in ``errors`` and the rest is still returned.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from PIL import Image, UnidentifiedImageError

from mediacheck.media.metadata.blocks import Blocks, clean
from mediacheck.media.metadata.containers import WALKERS, detect
from mediacheck.media.metadata.exif import exif_json, read_exif
from mediacheck.media.metadata.icc import parse_icc
from mediacheck.media.metadata.iptc import (
    IPTC_RESOURCE,
    THUMBNAIL_RESOURCES,
    parse_iptc,
    photoshop_resources,
)
from mediacheck.media.metadata.summary import SUMMARY_KEYS, Sources, build_summary
from mediacheck.media.metadata.xmp import parse_xmp
from mediacheck.media.raw import raw_format

__all__ = ["SUMMARY_KEYS", "ExtractedMetadata", "extract_metadata"]

# Pillow logs what it refuses in hostile headers; without a handler Python would
# print those records to stderr, and the core never prints.
logging.getLogger("PIL").addHandler(logging.NullHandler())

# Pillow opens these lazily from the headers; its WebP, HEIF and AVIF plugins read the whole file.
PILLOW_STREAMS = {"JPEG", "PNG", "TIFF", "GIF", "BMP"}
HEAD_BYTES = 8192  # enough for IFD0 of a TIFF, which tells a camera raw from a TIFF
T = TypeVar("T")


@dataclass
class ExtractedMetadata:
    summary: dict[str, Any]
    metadata: dict[str, Any]
    errors: list[str]


def extract_metadata(
    path: Path, mime: str | None, pixel_size: tuple[int, int] | None = None
) -> ExtractedMetadata:
    """Everything readable from ``path``; never raises for a bad file."""
    try:
        with path.open("rb") as fh:
            return _extract(fh, mime, pixel_size)
    except OSError as exc:
        return _nothing(pixel_size, f"cannot read the file ({exc.strerror or exc})")


def _nothing(pixel_size: tuple[int, int] | None, error: str) -> ExtractedMetadata:
    return ExtractedMetadata(build_summary(Sources(), pixel_size), {}, [error])


def _extract(
    fh: BinaryIO, mime: str | None, pixel_size: tuple[int, int] | None
) -> ExtractedMetadata:
    head = fh.read(64)
    if not head:
        return _nothing(pixel_size, "empty file")
    kind = detect(head)
    if kind is None:
        declared = f" (content type {mime})" if mime else ""
        return _nothing(pixel_size, f"unrecognised image format{declared}")
    errors: list[str] = []
    blocks = Blocks(format=_raw_name(fh) if kind == "TIFF" else kind)
    _guarded(f"{kind} structure", lambda: WALKERS[kind](fh, blocks), errors, None)
    errors.extend(blocks.errors)
    metadata, sources = _decode_blocks(fh, blocks, errors)
    metadata["container"] = _container(fh, blocks, errors)
    empty = build_summary(Sources(), pixel_size)
    summary = _guarded("summary", lambda: build_summary(sources, pixel_size), errors, empty)
    return ExtractedMetadata(summary, metadata, errors)


def _raw_name(fh: BinaryIO) -> str:
    """The camera raw format ("CR2", "NEF", ...) a TIFF structure is, or "TIFF"."""
    fh.seek(0)
    return raw_format(fh.read(HEAD_BYTES)) or "TIFF"


def _guarded(what: str, step: Callable[[], T], errors: list[str], fallback: T) -> T:
    """Run one extraction step; a failure on hostile data becomes an error line, not a crash."""
    try:
        return step()
    except Exception as exc:  # any parser may trip on crafted input; the rest must still run
        errors.append(f"{what}: unreadable ({type(exc).__name__}: {clean(str(exc))[:200]})")
        return fallback


def _decode_blocks(fh: BinaryIO, blocks: Blocks, errors: list[str]) -> tuple[dict, Sources]:
    metadata: dict[str, Any] = {}
    sources = Sources(
        png_text=blocks.png_text,
        png_modified=blocks.container.pop("modified", None),
        header_size=blocks.size,
        exif_is_container=blocks.exif_in_file,
        embedded_thumbnail=blocks.thumbnail,
    )
    if blocks.exif is not None or blocks.exif_in_file:
        tags, exif_errors = read_exif(fh if blocks.exif_in_file else blocks.exif or b"")
        errors.extend(exif_errors)
        for directory in blocks.exif_directories:
            more, more_errors = read_exif(directory)
            tags = more | tags
            errors.extend(more_errors)
        sources.exif = tags
        if tags:
            no_json: dict[str, str] = {}
            metadata["exif"] = _guarded("EXIF", lambda: exif_json(tags), errors, no_json)
    no_xmp: tuple[dict[str, Any] | None, list[str]] = (None, [])
    xmp = _guarded("XMP", lambda: parse_xmp(blocks.xmp), errors, no_xmp)
    if xmp[0] is not None:
        metadata["xmp"], sources.xmp = xmp[0], xmp[0]["properties"]
    errors.extend(xmp[1])
    _photoshop(blocks, metadata, sources, errors)
    if icc_block := blocks.icc:
        no_icc: tuple[dict[str, Any], list[str]] = ({}, [])
        icc, icc_errors = _guarded("ICC", lambda: parse_icc(icc_block), errors, no_icc)
        metadata["icc"] = icc
        errors.extend(icc_errors)
    if blocks.png_text:
        metadata["png_text"] = blocks.png_text
    if blocks.comments:
        metadata["jpeg_comment"] = "\n".join(blocks.comments)
    return metadata, sources


def _photoshop(blocks: Blocks, metadata: dict, sources: Sources, errors: list[str]) -> None:
    iptc = blocks.iptc
    if irb := blocks.irb:
        no_resources: dict[int, bytes] = {}
        resources = _guarded("Photoshop", lambda: photoshop_resources(irb), errors, no_resources)
        metadata["photoshop"] = {"resource_ids": sorted(resources)}
        sources.embedded_thumbnail |= bool(THUMBNAIL_RESOURCES & resources.keys())
        iptc = iptc or resources.get(IPTC_RESOURCE)
    if iptc:
        records = iptc
        no_iptc: tuple[dict[str, Any], list[str]] = ({}, [])
        named, iptc_errors = _guarded("IPTC", lambda: parse_iptc(records), errors, no_iptc)
        errors.extend(iptc_errors)
        if named:
            metadata["iptc"] = sources.iptc = named


def _container(fh: BinaryIO, blocks: Blocks, errors: list[str]) -> dict[str, Any]:
    container: dict[str, Any] = {"format": blocks.format, **blocks.container}
    if blocks.size:
        container["size"] = list(blocks.size)
    limit = Image.MAX_IMAGE_PIXELS
    if blocks.size and limit and blocks.size[0] * blocks.size[1] > limit:
        width, height = blocks.size
        errors.append(f"decompression bomb: {width}x{height} pixels is over the limit of {limit}")
    elif blocks.format in PILLOW_STREAMS:
        no_view: dict[str, Any] = {}
        container.update(
            _guarded("container", lambda: _pillow_view(fh, blocks, errors), errors, no_view)
        )
    return container


def _pillow_view(fh: BinaryIO, blocks: Blocks, errors: list[str]) -> dict[str, Any]:
    fh.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's warnings about odd headers are not ours to raise
        try:
            image = Image.open(fh)
        except UnidentifiedImageError:
            errors.append(f"container: Pillow cannot open this {blocks.format}")
            return {}
        with image:
            return {
                "format": image.format,
                "mode": image.mode,
                "size": list(image.size),
                "frames": getattr(image, "n_frames", 1),
            }
