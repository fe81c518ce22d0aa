"""What a video or audio container says about itself, read with PyAV (FFmpeg's libraries).

Container and stream tags are hostile data: they are kept as strings, parsed only into
numbers and dates, and never used to build a path.
"""

from __future__ import annotations

import math
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import av

from mediacheck.errors import UnsupportedMedia
from mediacheck.media.metadata.summary import SUMMARY_KEYS as IMAGE_SUMMARY_KEYS
from mediacheck.media.video.gopro import read_gopro

VIDEO_KEYS = (
    "duration_s",
    "container",
    "video_codec",
    "audio_codec",
    "fps",
    "bit_rate",
    "width",
    "height",
    "rotation",
    "captured_at",
    "encoder",
    "make",
    "model",
    "software",
    "gps_latitude",
    "gps_longitude",
    "gps_altitude",
)
SUMMARY_KEYS = IMAGE_SUMMARY_KEYS + tuple(k for k in VIDEO_KEYS if k not in IMAGE_SUMMARY_KEYS)

# FFmpeg's "tty" demuxer shows any byte stream as ANSI art, so opening with it proves nothing.
CATCH_ALL_DEMUXERS = frozenset({"tty"})

# Tags are looked up in this order; the first one present wins.
MAKE_TAGS = ("com.apple.quicktime.make", "make", "com.android.manufacturer")
MODEL_TAGS = ("com.apple.quicktime.model", "model", "com.android.model")
LENS_TAGS = ("com.apple.quicktime.camera.lens_model",)
SOFTWARE_TAGS = ("com.apple.quicktime.software", "software", "com.android.version", "firmware")
LOCATION_TAGS = ("com.apple.quicktime.location.ISO6709", "location")
# Apple's creationdate carries the local offset; creation_time is the container's UTC field.
DATE_TAGS_WITH_OFFSET = ("com.apple.quicktime.creationdate", "date")
CREATION_TIME_TAGS = ("creation_time",)

# Brands of the ISO base media family that FFmpeg reports under one demuxer name.
BRAND_CONTAINERS = {"qt": "mov", "3g2": "3g2", "m4a": "m4a", "m4v": "m4v", "mj2": "mj2"}
WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "opus", "vorbis", "webvtt"})

# FFmpeg gives up on a single open or read that blocks this long (a stalled network share).
IO_TIMEOUT_S = 60.0
# Reading the first frame (for the display matrix) must not walk a whole broken file.
FIRST_FRAME_MAX_PACKETS = 600
FIRST_FRAME_MAX_SECONDS = 10.0

ISO6709 = re.compile(
    r"^(?P<lat>[+-]\d+(?:\.\d+)?)(?P<lon>[+-]\d+(?:\.\d+)?)(?P<alt>[+-]\d+(?:\.\d+)?)?(?:CRS.*)?/?$"
)


@dataclass(frozen=True)
class VideoProbe:
    kind: str  # "video" or "audio"
    summary: dict[str, Any]
    metadata: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    @property
    def video(self) -> dict[str, Any]:
        """The video keys of the summary (the `video` object of `show --json`)."""
        return {key: self.summary[key] for key in VIDEO_KEYS}


@contextmanager
def open_media(path: Path):
    """Open a file with FFmpeg, or raise UnsupportedMedia naming the cause."""
    try:
        container = av.open(str(path), metadata_errors="replace", timeout=IO_TIMEOUT_S)
    except (av.FFmpegError, OSError) as exc:
        raise UnsupportedMedia(path, f"FFmpeg cannot open it ({ffmpeg_cause(exc)})") from exc
    try:
        if container.format.name in CATCH_ALL_DEMUXERS:
            raise UnsupportedMedia(path, "FFmpeg recognises no audio or video format in it")
        yield container
    finally:
        container.close()


def ffmpeg_cause(exc: BaseException) -> str:
    """FFmpeg's own words for an error, without the path PyAV appends."""
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def main_video_stream(container) -> Any | None:
    """The first real video stream that FFmpeg can decode.

    Cover art is stored as a one-picture video stream; a stream whose codec FFmpeg does
    not know (a damaged sample description, a camera raw's picture tracks) has no codec
    context and nothing can be read from its packets.
    """
    for stream in container.streams.video:
        if stream.codec_context is None:
            continue
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def probe_video(path: Path) -> VideoProbe:
    """Container and stream metadata of a video or audio file, in full and summarised."""
    with open_media(path) as container:
        video, audio, undecodable = decodable_streams(path, container)
        errors = [
            f"stream {s.index} ({s.type}): FFmpeg knows no codec for it, its parameters are unknown"
            for s in undecodable
        ]
        rotation = read_rotation(container, video, errors) if video is not None else None
        streams = [stream_metadata(s) for s in container.streams]
        if video is not None and rotation is not None:
            streams[video.index]["rotation"] = rotation
        metadata = {"format": format_metadata(container, path), "streams": streams}
        summary = summarise(container, video, audio, rotation, errors)
        if container.format.name.startswith("mov,"):
            add_gopro(path, summary, metadata, errors)
        # Streams are read while the container is open: PyAV's end with it.
        pictures = video is not None or any(s.type == "video" for s in undecodable)
    return VideoProbe(
        kind="video" if pictures else "audio",
        summary=summary,
        metadata=metadata,
        errors=errors,
    )


def decodable_streams(path: Path, container) -> tuple[Any | None, Any | None, list[Any]]:
    """The main video and audio streams, and the picture or sound streams with no codec.

    Raises UnsupportedMedia when nothing in the file can be decoded.
    """
    video = main_video_stream(container)
    audio = next((s for s in container.streams.audio if s.codec_context is not None), None)
    undecodable = [
        s for s in container.streams if s.type in ("video", "audio") and s.codec_context is None
    ]
    if video is None and audio is None:
        cause = " FFmpeg can decode" if undecodable else ""
        raise UnsupportedMedia(path, f"it holds no audio or video stream{cause}")
    return video, audio, undecodable


def add_gopro(
    path: Path, summary: dict[str, Any], metadata: dict[str, Any], errors: list[str]
) -> None:
    """GoPro names its model and serial number only in its own GPMF box."""
    try:
        gopro = read_gopro(path)
    except OSError as exc:
        errors.append(f"GoPro box not read: {exc.strerror or exc}")
        return
    if not gopro:
        return
    metadata["gopro"] = gopro
    if gopro.get("model") and not summary["model"]:
        summary["make"] = summary["make"] or "GoPro"
        summary["model"] = gopro["model"]


def read_rotation(container, stream, errors: list[str]) -> int | None:
    """Clockwise degrees to turn the picture upright, from the first frame's display matrix.

    FFmpeg attaches the display matrix (QuickTime tkhd matrix, the old ``rotate`` tag) to
    decoded frames; its angle is counter-clockwise, ExifTool's Rotation clockwise.
    """
    deadline = time.monotonic() + FIRST_FRAME_MAX_SECONDS
    try:
        for count, packet in enumerate(container.demux(stream)):
            for frame in stream.decode(packet):
                return clockwise_rotation(frame)
            if count >= FIRST_FRAME_MAX_PACKETS or time.monotonic() > deadline:
                break
    except av.FFmpegError as exc:
        errors.append(f"first video frame does not decode: {ffmpeg_cause(exc)}")
        return None
    errors.append("no video frame decodes near the start")
    return None


def clockwise_rotation(frame: av.VideoFrame) -> int:
    """FFmpeg's counter-clockwise display angle as clockwise degrees.

    A matrix that is no rotation at all (all zeros, in a crafted file) comes out of PyAV
    as NaN or INT_MIN: it is taken as no turn.
    """
    angle = frame.rotation
    return round(-angle) % 360 if math.isfinite(angle) and abs(angle) <= 360 else 0


def format_metadata(container, path: Path) -> dict[str, Any]:
    return {
        "format_name": container.format.name,
        "format_long_name": container.format.long_name,
        "duration_s": microseconds(container.duration),
        "start_time_s": microseconds(container.start_time),
        "bit_rate": container.bit_rate or None,
        "size": path.stat().st_size,
        "tags": dict(container.metadata),
    }


def stream_metadata(stream) -> dict[str, Any]:
    ctx = stream.codec_context
    meta: dict[str, Any] = {
        "index": stream.index,
        "type": stream.type,
        "codec": codec_name(stream),
        "decoder": ctx.name if ctx is not None else None,
        "codec_long_name": ctx.codec.long_name if ctx is not None else None,
        "profile": stream.profile,
        "time_base": str(stream.time_base) if stream.time_base else None,
        "start_time_s": stream_seconds(stream, stream.start_time),
        "duration_s": stream_seconds(stream, stream.duration),
        "frames": stream.frames or None,
        "disposition": disposition_names(stream),
        "tags": dict(stream.metadata),
    }
    if stream.type == "video":
        meta.update(video_params(stream))
    elif stream.type == "audio":
        meta.update(audio_params(ctx))
    return meta


def video_params(stream) -> dict[str, Any]:
    """Picture parameters; those only the codec context knows are None without one."""
    ctx = stream.codec_context
    return {
        "width": (ctx.width or None) if ctx is not None else None,
        "height": (ctx.height or None) if ctx is not None else None,
        "pixel_format": ctx.format.name if ctx is not None and ctx.format else None,
        "average_frame_rate": str(stream.average_rate) if stream.average_rate else None,
        "base_frame_rate": str(stream.base_rate) if stream.base_rate else None,
        "sample_aspect_ratio": str(stream.sample_aspect_ratio)
        if stream.sample_aspect_ratio
        else None,
        "bit_rate": (ctx.bit_rate or None) if ctx is not None else None,
    }


def audio_params(ctx) -> dict[str, Any]:
    if ctx is None:
        return dict.fromkeys(
            ("sample_rate", "channels", "channel_layout", "sample_format", "bit_rate")
        )
    return {
        "sample_rate": ctx.sample_rate,
        "channels": ctx.channels,
        "channel_layout": ctx.layout.name if ctx.layout else None,
        "sample_format": ctx.format.name if ctx.format else None,
        "bit_rate": ctx.bit_rate or None,
    }


def disposition_names(stream) -> list[str]:
    flags = stream.disposition
    return [str(flag.name) for flag in av.stream.Disposition if flag.value and flags & flag]


def summarise(container, video, audio, rotation: int | None, errors: list[str]) -> dict[str, Any]:
    tags = tag_lookup(container, video)
    latitude, longitude, altitude = location(tags, errors)
    ctx = video.codec_context if video is not None else None
    summary = dict.fromkeys(SUMMARY_KEYS)
    summary.update(
        make=first_tag(tags, MAKE_TAGS),
        model=first_tag(tags, MODEL_TAGS),
        lens=first_tag(tags, LENS_TAGS),
        software=first_tag(tags, SOFTWARE_TAGS) or container.metadata.get("encoder"),
        captured_at=captured_at(tags, errors),
        gps_latitude=latitude,
        gps_longitude=longitude,
        gps_altitude=altitude,
        width=(ctx.width or None) if ctx else None,
        height=(ctx.height or None) if ctx else None,
        has_thumbnail=any(
            s.disposition & av.stream.Disposition.attached_pic for s in container.streams.video
        ),
        duration_s=duration_seconds(container, video, audio),
        container=container_name(container),
        video_codec=codec_name(video),
        audio_codec=codec_name(audio),
        fps=frame_rate(video),
        bit_rate=container.bit_rate or None,
        rotation=rotation,
        encoder=container.metadata.get("encoder")
        or (video.metadata.get("encoder") if video is not None else None),
    )
    return summary


def tag_lookup(container, video) -> dict[str, str]:
    """Container tags over video-stream tags, keys in lower case (Matroska shouts them)."""
    tags: dict[str, str] = {}
    sources = [video.metadata] if video is not None else []
    for source in [*sources, container.metadata]:
        tags.update({key.lower(): value for key, value in source.items() if value})
    return tags


def first_tag(tags: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = tags.get(name.lower(), "").strip()
        if value:
            return value
    return None


def captured_at(tags: dict[str, str], errors: list[str]) -> str | None:
    """ISO 8601 capture time: Apple's local time with offset first, else the UTC field.

    The QuickTime creation time is UTC by the specification, but many cameras write their
    local clock there, so it is given without an offset rather than with a false ``Z``.
    """
    for name in DATE_TAGS_WITH_OFFSET:
        value = first_tag(tags, (name,))
        if value and (parsed := parse_datetime(value)) is not None and parsed.tzinfo:
            return parsed.isoformat()
    value = first_tag(tags, CREATION_TIME_TAGS)
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        errors.append(f"creation time is not a date: {value[:80]!r}")
        return None
    # An unset clock writes 0, which FFmpeg shows as 1904 or 1970.
    if parsed.year <= 1970:
        return None
    return parsed.replace(tzinfo=None, microsecond=0).isoformat()


def parse_datetime(value: str) -> datetime | None:
    text = value.strip().replace("Z", "+00:00")
    # Apple writes offsets as -0800; fromisoformat wants -08:00.
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(microsecond=0)


def location(tags: dict[str, str], errors: list[str]) -> tuple[float | None, ...]:
    value = first_tag(tags, LOCATION_TAGS)
    if value is None:
        return None, None, None
    parsed = parse_iso6709(value)
    if parsed is None:
        errors.append(f"location tag is not an ISO 6709 point: {value[:80]!r}")
        return None, None, None
    return parsed


def parse_iso6709(value: str) -> tuple[float, float, float | None] | None:
    """Latitude, longitude and altitude from ISO 6709, e.g. ``+38.1893-119.9558+2004.158/``.

    Degrees may also be written as ±DDMM.M or ±DDMMSS.S (±DDDMM... for longitude).
    """
    match = ISO6709.match(value.strip())
    if match is None:
        return None
    latitude = iso6709_degrees(match["lat"], degree_digits=2)
    longitude = iso6709_degrees(match["lon"], degree_digits=3)
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    altitude = float(match["alt"]) if match["alt"] else None
    return latitude, longitude, altitude


def iso6709_degrees(text: str, degree_digits: int) -> float | None:
    sign = -1.0 if text[0] == "-" else 1.0
    whole, _, fraction = text[1:].partition(".")
    extra = len(whole) - degree_digits
    if extra <= 0:
        return sign * float(text[1:])
    if extra not in (2, 4):
        return None
    degrees = int(whole[:degree_digits])
    minutes_text = whole[degree_digits : degree_digits + 2]
    if extra == 2:
        minutes = float(f"{minutes_text}.{fraction or 0}")
        seconds = 0.0
    else:
        minutes = float(minutes_text)
        seconds = float(f"{whole[degree_digits + 2 :]}.{fraction or 0}")
    if minutes >= 60 or seconds >= 60:
        return None
    return sign * round(degrees + minutes / 60 + seconds / 3600, 7)


def duration_seconds(container, video, audio) -> float | None:
    """Length of the picture and sound; data tracks (telemetry, timecode) can run longer."""
    durations = [
        seconds
        for s in (video, audio)
        if s is not None and s.duration
        if (seconds := stream_seconds(s, s.duration)) is not None
    ]
    if durations:
        return round(max(durations), 6)
    return microseconds(container.duration)


def container_name(container) -> str:
    """A specific name where FFmpeg's demuxer covers a family (mov,mp4,... or matroska,webm)."""
    name = container.format.name
    if name.startswith("mov,"):
        brand = container.metadata.get("major_brand", "").strip().lower()
        if brand.startswith("3g2"):
            return "3g2"
        if brand.startswith("3g"):
            return "3gp"
        return BRAND_CONTAINERS.get(brand, "mp4")
    if name == "matroska,webm":
        codecs = {codec_name(s) for s in container.streams if s.codec_context is not None}
        return "webm" if codecs and codecs <= WEBM_CODECS else "matroska"
    return name


def codec_name(stream) -> str | None:
    """FFmpeg's name of the codec ("av1"), not of the decoder that reads it ("libdav1d")."""
    if stream is None or stream.codec_context is None:
        return None
    return stream.codec_context.codec.canonical_name


def frame_rate(video) -> float | None:
    if video is None:
        return None
    rate = video.average_rate or video.guessed_rate
    return round(float(rate), 3) if rate else None


def stream_seconds(stream, value: int | None) -> float | None:
    if value is None or stream.time_base is None:
        return None
    return round(float(value * stream.time_base), 6)


def microseconds(value: int | None) -> float | None:
    return round(value / 1_000_000, 6) if value is not None else None
