"""Pictures of a video for reverse search and matching: keyframes, plus frames inside long shots.

Only keyframe packets reach the decoder, so the cost is close to a bare keyframe decode.
Where keyframes are further apart than ``LONG_GOP_S``, that group of pictures is decoded in
full and frames are also taken at scene cuts and at regular intervals, so every shot gets a
picture. Saving and hashing run in a worker thread while the next keyframe decodes.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.logging
import cv2
import numpy as np
import simplejpeg
from PIL import Image, ImageDraw, ImageFont

from mediacheck.media.hashes import KEYFRAME_HASH_NAMES, PDQ_INPUT_SIZE, compute_hashes
from mediacheck.media.pictures import DRAFT_SIZE, WORKING_SIZE
from mediacheck.media.video.probe import (
    clockwise_rotation,
    ffmpeg_cause,
    main_video_stream,
    open_media,
)
from mediacheck.media.video.timecode import timestamp

DEFAULT_MAX_SECONDS = 300.0
DEFAULT_MAX_FRAMES = 300
# 8K UHD is 33 MP; a header declaring more is a decompression bomb, as with pictures.
MAX_PIXELS = 8192 * 8192
# Keyframes closer together than this (GoPro writes three a second) add no new picture.
MIN_GAP_S = 0.5
LONG_GOP_S = 4.0
INTERVAL_S = 2.0
# Reordered B-frames step back a few frames; a clock that steps back further restarted.
JUMP_BACK_S = 2.0
# Mean absolute difference of 16x16-block luma means (0-255) that marks a cut.
SCENE_CUT = 30.0
SCENE_GRID = 16
# A long group of pictures is held back as packets until it is known to be long.
MAX_BUFFERED_BYTES = 64 * 1024 * 1024
# Decoded frames waiting for the worker: two keep it busy; an 8K frame is 50 MB.
# Saving and hashing a picture costs more than decoding it: two threads keep up on
# two cores (FFmpeg's conversion and libjpeg-turbo's encoder release the GIL).
SAVE_WORKERS = 2
MAX_PENDING = 2
JPEG_QUALITY = 90
FULL_RANGE = 2  # AVCOL_RANGE_JPEG: levels 0-255, as JPEG decoders read them
CONTACT_SHEET = "contact-sheet.jpg"
TILE_WIDTH = 240
LABEL_HEIGHT = 18
# Display-matrix rotation (clockwise degrees) to the turns that undo it, in OpenCV and PIL.
UPRIGHT = {
    90: (cv2.ROTATE_90_CLOCKWISE, Image.Transpose.ROTATE_270),
    180: (cv2.ROTATE_180, Image.Transpose.ROTATE_180),
    270: (cv2.ROTATE_90_COUNTERCLOCKWISE, Image.Transpose.ROTATE_90),
}


@dataclass(frozen=True)
class Keyframe:
    index: int
    time_s: float
    file: str  # name inside the output folder
    hashes: dict[str, str]  # phash, dhash, pdq
    pdq_quality: int
    width: int
    height: int
    reason: str  # "keyframe", "scene" or "interval"


@dataclass(frozen=True)
class KeyframeSet:
    keyframes: list[Keyframe]
    contact_sheet: str | None
    errors: list[str] = field(default_factory=list)
    looks: list[Any] = field(default_factory=list)  # what ``look`` said of each keyframe


# Called in a saving thread with a saved keyframe as ``open_picture`` would decode its file.
Look = Callable[[Image.Image], Any]


@dataclass
class Selection:
    """Which decoded frames become pictures."""

    min_gap: float
    interval: float
    max_frames: int
    last_kept: float = -math.inf
    previous: np.ndarray | None = None
    count: int = 0

    def reason(self, frame: av.VideoFrame, time_s: float) -> str | None:
        signature = luma_signature(frame)
        cut = self.previous is not None and scene_distance(signature, self.previous) > SCENE_CUT
        self.previous = signature
        since = time_s - self.last_kept
        if frame.key_frame and since >= self.min_gap:
            return "keyframe"
        if cut and since >= self.min_gap:
            return "scene"
        if since >= self.interval:
            return "interval"
        return None

    def keep(self, time_s: float) -> int:
        self.last_kept = time_s
        self.count += 1
        return self.count - 1


def keyframe_name(index: int, time_s: float) -> str:
    return f"keyframe-{index:04d}-{time_s:010.3f}s.jpg"


def extract_keyframes(
    path: Path,
    out_dir: Path,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_frames: int = DEFAULT_MAX_FRAMES,
    look: Look | None = None,
) -> KeyframeSet:
    """Save the pictures of a video as JPEGs in ``out_dir``, hashed, with a contact sheet.

    ``look``, if given, is called on each saved picture at working size while the next
    one decodes (intake fingerprints them so); its answers are ``looks``, one a keyframe.
    Raises UnsupportedMedia when FFmpeg cannot open the file. A file without video gives an
    empty set; a broken one gives what decoded, with the failures in ``errors``.
    """
    with open_media(path) as container:
        stream = main_video_stream(container)
        if stream is None:
            return KeyframeSet(keyframes=[], contact_sheet=None)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_PIXELS:
            refused = f"{width}x{height} frames are beyond the {MAX_PIXELS // 1_000_000} MP limit"
            return KeyframeSet(keyframes=[], contact_sheet=None, errors=[refused])
        out_dir.mkdir(parents=True, exist_ok=True)
        run = Extraction(container, stream, out_dir, max_seconds, max_frames, look)
        run.go()
    sheet = write_contact_sheet(run.tiles, out_dir, run.errors)
    return KeyframeSet(run.keyframes, sheet, run.errors, run.looks)


class Extraction:
    """One pass over the video packets, feeding the decoder only what is needed."""

    def __init__(
        self,
        container,
        stream,
        out_dir: Path,
        max_seconds: float,
        max_frames: int,
        look: Look | None,
    ):
        self.container = container
        self.stream = stream
        self.out_dir = out_dir
        self.deadline = time.monotonic() + max_seconds
        self.max_seconds = max_seconds
        self.start = stream_start(container, stream)
        self.tick = float(stream.time_base)  # Fraction arithmetic per packet shows in profiles
        duration = video_duration(container, stream)
        self.duration = duration
        spread = duration / max_frames if duration else 0.0
        self.select = Selection(max(MIN_GAP_S, spread), max(INTERVAL_S, spread), max_frames)
        self.errors: list[str] = []
        self.keyframes: list[Keyframe] = []
        self.tiles: list[tuple[float, Image.Image]] = []
        self.look = look
        self.looks: list[Any] = []
        self.pending: deque[Future] = deque()
        self.decode_failures: list[str] = []
        self.stopped = False
        self.last_packet_time = 0.0
        self.next_stamp = stream.start_time or 0
        self.shift = 0  # ticks added to every timestamp after a clock restart
        self.jump_ticks = round(JUMP_BACK_S / self.tick)
        self.aspect = stream.sample_aspect_ratio

    def go(self) -> None:
        with ffmpeg_log() as log, ThreadPoolExecutor(max_workers=SAVE_WORKERS) as pool:
            self.pool = pool
            self.read_packets()
            if not self.stopped:
                self.decode(None)
                self.check_end()
            while self.pending:
                self.collect(self.pending.popleft())
        if log:
            self.errors.append(
                f"FFmpeg reported {len(log)} errors while decoding "
                f"(first: {log[0][2].strip()[:200]})"
            )
        if self.decode_failures:
            self.errors.append(
                f"{len(self.decode_failures)} video packets did not decode "
                f"(first: {self.decode_failures[0]})"
            )
        if not self.keyframes and not self.errors:
            self.errors.append("no video frame could be decoded")

    def read_packets(self) -> None:
        gop: list[av.Packet] = []
        gop_start = 0.0
        gop_bytes = 0
        gop_sent = False  # the group's keyframe went to the decoder
        full = False  # the whole group goes to the decoder
        last_sent = -math.inf
        try:
            for packet in self.container.demux(self.stream):
                if self.out_of_time() or self.stopped:
                    return
                if packet.size == 0:
                    continue
                t = self.packet_time(packet)
                if packet.is_keyframe:
                    gop, gop_start, gop_bytes, full = [packet], t, packet.size, False
                    gop_sent = t - last_sent >= self.select.min_gap
                    if gop_sent:
                        last_sent = t
                        self.decode(packet)
                elif full:
                    self.decode(packet)
                else:
                    gop.append(packet)
                    gop_bytes += packet.size
                    if t - gop_start >= LONG_GOP_S or gop_bytes > MAX_BUFFERED_BYTES:
                        full = True
                        for held in gop[1:] if gop_sent else gop:
                            self.decode(held)
                        gop = []
        except av.FFmpegError as exc:
            self.errors.append(
                f"reading stopped at {self.last_packet_time:.3f} s: {ffmpeg_cause(exc)}"
            )

    def packet_time(self, packet: av.Packet) -> float:
        """Presentation time in seconds from the start.

        Raw streams (.h264 and the like) have no timestamps, only durations: the packet gets
        the end of the one before, so its decoded frame carries a time too. Recordings
        joined end to end (``cat a.ts b.ts``) restart their clock: later packets are moved
        on to follow the earlier ones, so each part gets its pictures.
        """
        raw = packet.pts if packet.pts is not None else packet.dts
        if raw is None:
            stamp = packet.pts = self.next_stamp
        else:
            if raw + self.shift < self.next_stamp - self.jump_ticks:
                self.errors.append(
                    f"timestamps start again at {self.next_stamp * self.tick - self.start:.3f} s "
                    "(recordings joined end to end?): later times count on from there"
                )
                self.shift = self.next_stamp - raw
            if self.shift:
                packet.pts = None if packet.pts is None else packet.pts + self.shift
                packet.dts = None if packet.dts is None else packet.dts + self.shift
            stamp = raw + self.shift
        self.next_stamp = max(self.next_stamp, stamp + (packet.duration or 0))
        self.last_packet_time = stamp * self.tick - self.start
        return self.last_packet_time

    def check_end(self) -> None:
        """A cut-off download or copy ends the packets well before the declared duration."""
        if not self.duration:
            return
        if self.last_packet_time < self.duration - max(1.0, 0.02 * self.duration):
            self.errors.append(
                f"video data ends at {self.last_packet_time:.3f} s of the "
                f"{self.duration:.3f} s the container declares (truncated?)"
            )

    def out_of_time(self) -> bool:
        if time.monotonic() <= self.deadline:
            return False
        self.errors.append(f"decoding stopped after {self.max_seconds:g} s (time limit)")
        self.stopped = True
        return True

    def decode(self, packet: av.Packet | None) -> None:
        try:
            frames = self.stream.decode(packet)
        except av.FFmpegError as exc:
            self.decode_failures.append(ffmpeg_cause(exc))
            return
        for frame in frames:
            self.consider(frame)

    def consider(self, frame: av.VideoFrame) -> None:
        if self.stopped:
            return
        time_s = self.frame_time(frame)
        reason = self.select.reason(frame, time_s)
        if reason is None:
            return
        if self.select.count >= self.select.max_frames:
            self.errors.append(
                f"kept the first {self.select.max_frames} pictures; stopped at {time_s:.3f} s"
            )
            self.stopped = True
            return
        index = self.select.keep(time_s)
        job = self.pool.submit(
            save_picture, frame, self.aspect, self.out_dir, index, time_s, reason, self.look
        )
        self.pending.append(job)
        if len(self.pending) >= MAX_PENDING:
            self.collect(self.pending.popleft())

    def frame_time(self, frame: av.VideoFrame) -> float:
        """Seconds from the start; frames drained at the end carry no time base of their own."""
        stamp = frame.pts if frame.pts is not None else frame.dts
        if stamp is None:
            return self.last_packet_time
        return max(0.0, stamp * self.tick - self.start)

    def collect(self, job: Future) -> None:
        try:
            keyframe, tile, looked = job.result()
        except (av.FFmpegError, OSError, ValueError, cv2.error) as exc:
            self.errors.append(f"a picture could not be saved: {ffmpeg_cause(exc)}")
            return
        self.keyframes.append(keyframe)
        self.tiles.append((keyframe.time_s, tile))
        if self.look is not None:
            self.looks.append(looked)


def save_picture(
    frame: av.VideoFrame,
    aspect: Fraction | None,
    out_dir: Path,
    index: int,
    time_s: float,
    reason: str,
    look: Look | None = None,
) -> tuple[Keyframe, Image.Image, Any]:
    """Upright JPEG, hashes, contact-sheet tile and ``look``'s answer of one frame.

    The full-size picture goes from the decoder's YUV planes straight to libjpeg-turbo:
    no RGB picture is made at full size. The hashes and the tile come from one small
    RGB copy that FFmpeg scales down; ``look`` gets the JPEG's bytes decoded from memory.
    """
    cv2_turn, pil_turn = UPRIGHT.get(clockwise_rotation(frame), (None, None))
    width, height = display_size(frame, aspect)
    name = keyframe_name(index, time_s)
    planes = jpeg_planes(frame, width, height, cv2_turn)
    saved_width, saved_height = planes[0].shape[1], planes[0].shape[0]
    data = simplejpeg.encode_jpeg_yuv_planes(*planes, quality=JPEG_QUALITY)
    (out_dir / name).write_bytes(data)
    looked = None if look is None else look(working_picture(data, saved_width, saved_height))
    small_width, small_height = fit(width, height, PDQ_INPUT_SIZE)
    small = Image.fromarray(
        frame.to_ndarray(width=small_width, height=small_height, format="rgb24")
    )
    if pil_turn is not None:
        small = small.transpose(pil_turn)
    found = compute_hashes(small, KEYFRAME_HASH_NAMES, imagehash_size=PDQ_INPUT_SIZE)
    small.thumbnail((TILE_WIDTH, TILE_WIDTH * 2), Image.Resampling.BILINEAR)
    keyframe = Keyframe(
        index=index,
        time_s=round(time_s, 3),
        file=name,
        hashes=found.hashes,
        pdq_quality=found.pdq_quality,
        width=saved_width,
        height=saved_height,
        reason=reason,
    )
    return keyframe, small, looked


def working_picture(data: bytes, width: int, height: int) -> Image.Image:
    """A saved keyframe as ``open_picture`` decodes its file, from its bytes in memory.

    The same pixels: libjpeg-turbo scales the DCT by the factor Pillow's draft mode picks
    (1/2, 1/4 or 1/8, the coarsest that keeps ``DRAFT_SIZE``), then the same thumbnail.
    """
    factor = min(width // DRAFT_SIZE[0], height // DRAFT_SIZE[1])
    scale = next((s for s in (8, 4, 2) if factor >= s), 1)
    rgb = simplejpeg.decode_jpeg(
        data, colorspace="RGB", min_width=-(-width // scale), min_height=-(-height // scale)
    )
    picture = Image.fromarray(rgb)
    picture.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BILINEAR)
    return picture


def jpeg_planes(
    frame: av.VideoFrame, width: int, height: int, turn: int | None
) -> list[np.ndarray]:
    """The Y, U and V planes of the upright picture as a JPEG holds them (4:2:0, full range).

    Most video already is 4:2:0; FFmpeg only moves HD video's BT.709 colours to the
    BT.601 ones of JPEG, stretches the levels of limited-range video (16-235) to the
    full range JPEG decoders expect, and rescales non-square pixels.
    """
    converted = frame.reformat(
        width, height, "yuv420p", dst_colorspace="ITU601", dst_color_range=FULL_RANGE
    )
    planes = [
        np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)[
            :, : plane.width
        ]
        for plane in converted.planes
    ]
    return planes if turn is None else [cv2.rotate(plane, turn) for plane in planes]


@contextmanager
def ffmpeg_log():
    """Collect FFmpeg's error messages: decoders conceal damage and only say so in the log."""
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as log:
            yield log
    finally:
        av.logging.set_level(previous)


def display_size(frame: av.VideoFrame, aspect: Fraction | None) -> tuple[int, int]:
    """Stored size corrected by the sample aspect ratio (anamorphic DV, some broadcast)."""
    if not aspect or aspect == 1:
        return frame.width, frame.height
    return max(2, round(frame.width * float(aspect))), frame.height


def fit(width: int, height: int, longest: int) -> tuple[int, int]:
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def luma_signature(frame: av.VideoFrame) -> np.ndarray:
    """Mean brightness of a coarse grid of blocks: stable under noise and small motion."""
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    step = max(1, min(frame.width, frame.height) // (SCENE_GRID * 8))
    sampled = rows[::step, : frame.width : step].astype(np.float32)
    h, w = sampled.shape
    bh, bw = max(1, h // SCENE_GRID), max(1, w // SCENE_GRID)
    blocks = sampled[: bh * SCENE_GRID, : bw * SCENE_GRID]
    return blocks.reshape(SCENE_GRID, bh, -1, bw).mean(axis=(1, 3))


def scene_distance(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return math.inf
    return float(np.abs(a - b).mean())


def write_contact_sheet(
    tiles: list[tuple[float, Image.Image]], out_dir: Path, errors: list[str]
) -> str | None:
    """All pictures in a grid, each with its timestamp underneath, for reports."""
    if not tiles:
        return None
    cell_w = TILE_WIDTH
    cell_h = max(tile.height for _, tile in tiles) + LABEL_HEIGHT
    columns = min(len(tiles), max(6, math.ceil(math.sqrt(len(tiles)))))
    rows = math.ceil(len(tiles) / columns)
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for position, (time_s, tile) in enumerate(tiles):
        x = (position % columns) * cell_w
        y = (position // columns) * cell_h
        sheet.paste(tile, (x + (cell_w - tile.width) // 2, y))
        draw.text(
            (x + 4, y + cell_h - LABEL_HEIGHT + 3), timestamp(time_s), fill="black", font=font
        )
    try:
        sheet.save(out_dir / CONTACT_SHEET, "JPEG", quality=85)
    except OSError as exc:
        errors.append(f"the contact sheet could not be saved: {exc}")
        return None
    return CONTACT_SHEET


def stream_start(container, stream) -> float:
    """Timestamps are shown from the start of the video, as players show them."""
    if stream.start_time is not None and stream.time_base is not None:
        return float(stream.start_time * stream.time_base)
    if container.start_time is not None:
        return container.start_time / 1_000_000
    return 0.0


def video_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None
