"""Synthetic video and audio files for tests, written with PyAV."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


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
