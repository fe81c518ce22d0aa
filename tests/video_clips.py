"""Synthetic video and audio files for tests, written with PyAV."""

import random
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import ImageOps

from tests.reshare import scene


def write_clip(
    path: Path,
    *,
    codec: str = "libx264",
    seconds: float = 3,
    fps: int = 10,
    gop: int = 10,
    size: tuple[int, int] = (160, 96),
    rotation: int | None = None,
    tags: dict[str, str] | None = None,
    cut_at: float | None = None,
) -> Path:
    """Random 8x8 blocks panning sideways; a different picture after ``cut_at`` seconds."""
    width, height = size
    rng = np.random.default_rng(0)
    shots = [
        rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
        for _ in range(2)
    ]
    with av.open(str(path), "w") as container:
        container.metadata.update(tags or {})
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "g": str(gop), "sc_threshold": "0"}
        else:
            stream.codec_context.gop_size = gop
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(round(seconds * fps)):
            shot = shots[1] if cut_at is not None and i >= cut_at * fps else shots[0]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.roll(shot, i, 1)), "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_audio(path: Path, seconds: float = 2.0, rate: int = 16000) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        samples = (np.sin(np.arange(int(seconds * rate)) / 10) * 8000).astype(np.int16)
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + 1024], format="s16", layout="mono"
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def iphone_video(bit_rate: int) -> dict:
    """The video keys of the corpus's iPhone clip (mde/with-gps.mov), as ffprobe and
    ExifTool give them.

    The bit rate is FFmpeg's estimate, checked by range where it is used.
    """
    return {
        "duration_s": 4.001678,
        "container": "mov",
        "video_codec": "h264",
        "audio_codec": "aac",
        "fps": 29.988,
        "bit_rate": bit_rate,
        "width": 568,
        "height": 320,
        "rotation": 90,
        "captured_at": "2019-07-24T11:25:40+03:00",
        "encoder": "H.264",
        "make": "Apple",
        "model": "iPhone 6",
        "software": "12.3",
        "gps_latitude": 32.0929,
        "gps_longitude": 34.862,
        "gps_altitude": 28.516,
    }


def scene_clip(
    path: Path,
    seeds: list[int],
    *,
    shot_s: float = 3,
    fps: int = 10,
    gop: int = 10,
    size: tuple[int, int] = (320, 180),
) -> Path:
    """Shots of photo-like scenes (``tests.reshare.scene``, one per seed), each panning slowly."""
    width, height = size
    frames = []
    for seed in seeds:
        wide = scene(width * 3 // 2, height, random.Random(seed))
        steps = round(shot_s * fps)
        for i in range(steps):
            left = round(i * (wide.width - width) / steps)
            frames.append(np.asarray(wide.crop((left, 0, left + width, height))))
    return _encode(path, frames, fps, gop, bit_rate=None)


def excerpt(
    source: Path,
    path: Path,
    start_s: float,
    end_s: float,
    *,
    size: tuple[int, int] | None = None,
    mirror: bool = False,
    bit_rate: int | None = None,
    gop: int = 15,
) -> Path:
    """``start_s`` to ``end_s`` of ``source``, decoded and encoded again (resized, mirrored)."""
    return compilation(
        [(source, start_s, end_s)], path, size=size, mirror=mirror, bit_rate=bit_rate, gop=gop
    )


def compilation(
    parts: list[tuple[Path, float, float]],
    path: Path,
    *,
    size: tuple[int, int] | None = None,
    mirror: bool = False,
    bit_rate: int | None = None,
    gop: int = 15,
    fps: int = 10,
) -> Path:
    """Excerpts of several videos one after the other in one new encoding."""
    frames = []
    for source, start_s, end_s in parts:
        with av.open(str(source)) as container:
            for frame in container.decode(video=0):
                if start_s <= float(frame.time) < end_s:
                    picture = frame.to_image()
                    if size is not None:
                        picture = picture.resize(size)
                    if mirror:
                        picture = ImageOps.mirror(picture)
                    frames.append(np.asarray(picture))
    return _encode(path, frames, fps, gop, bit_rate)


def _encode(path: Path, frames: list, fps: int, gop: int, bit_rate: int | None) -> Path:
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(gop), "sc_threshold": "0"}
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        for i, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
