"""Video intake speed: bare PyAV keyframe-only decode against mediacheck's keyframe extraction.

    python scripts/bench_video.py              # 60 s 1080p H.264, a keyframe every 2 s
    python scripts/bench_video.py --memory-gb 2  # also peak memory on a file of about 2 GB

The clip is generated (textured, panning picture so keyframes are camera-sized) in a
temporary folder; --keep DIR keeps it there to rerun faster.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from scipy.ndimage import gaussian_filter

from mediacheck.media.video.keyframes import extract_keyframes
from mediacheck.media.video.probe import probe_video

FPS = 30
WIDTH, HEIGHT = 1920, 1080
PAN_PX = 4  # per frame


def textured_plane(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth shapes plus grain: compresses like camera footage, not like flat test cards."""
    shapes = gaussian_filter(rng.normal(0, 1, (height // 4, width // 4)), 3)
    shapes = np.kron(shapes / shapes.std() * 40 + 128, np.ones((4, 4)))
    grain = rng.normal(0, 2, (height, width))
    return np.clip(shapes + grain, 16, 235).astype(np.uint8)


def make_clip(path: Path, seconds: int, gop_s: int, crf: int) -> None:
    rng = np.random.default_rng(7)
    span = WIDTH + seconds * FPS * PAN_PX
    luma = textured_plane(HEIGHT, span, rng)
    chroma = [textured_plane(HEIGHT // 2, span // 2, rng) for _ in range(2)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        keyint = str(FPS * gop_s)
        stream.options = {
            "preset": "ultrafast",
            "crf": str(crf),
            "g": keyint,
            "keyint_min": keyint,
            "sc_threshold": "0",
        }
        for i in range(seconds * FPS):
            x = i * PAN_PX
            u, v = (c[:, x // 2 : x // 2 + WIDTH // 2] for c in chroma)
            packed = np.concatenate(
                [luma[:, x : x + WIDTH], np.concatenate([u, v], axis=1).reshape(-1, WIDTH)]
            )
            frame = av.VideoFrame.from_ndarray(packed, format="yuv420p")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(work) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (all threads) and the count the work returns."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    count = work()
    return time.perf_counter() - wall, cpu_seconds() - cpu, count


def bare_keyframe_decode(path: Path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        return sum(1 for _ in container.decode(stream))


def intake(path: Path, out_dir: Path) -> int:
    probe_video(path)
    return len(extract_keyframes(path, out_dir, max_seconds=3600).keyframes)


def repeat_clip(clip: Path, target: Path, size_bytes: int) -> None:
    """Concatenate the clip (stream copy) until the file reaches size_bytes."""
    offset = written = 0
    with av.open(str(clip)) as source:
        step = source.streams.video[0].duration
    with av.open(str(target), "w") as out:
        with av.open(str(clip)) as source:
            out_stream = out.add_stream_from_template(source.streams.video[0])
        while written < size_bytes:
            with av.open(str(clip)) as source:
                for packet in source.demux(source.streams.video[0]):
                    if packet.dts is None:
                        continue
                    packet.pts += offset
                    packet.dts += offset
                    packet.stream = out_stream
                    written += packet.size
                    out.mux(packet)
            offset += step


def peak_memory_mb(path: Path, out_dir: Path) -> tuple[float, float, int]:
    """Run the intake in a fresh process so its peak resident size is its own."""
    code = (
        "import resource, sys, time; from pathlib import Path;"
        "from mediacheck.media.video.keyframes import extract_keyframes;"
        "from mediacheck.media.video.probe import probe_video;"
        "t = time.perf_counter(); probe_video(Path(sys.argv[1]));"
        "r = extract_keyframes(Path(sys.argv[1]), Path(sys.argv[2]), max_seconds=3600);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " len(r.keyframes))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path), str(out_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, rss_kb, count = result.stdout.split()
    return float(seconds), int(rss_kb) / 1024, int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--gop", type=int, default=2, help="seconds between keyframes")
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-gb", type=float, default=0, help="also measure a file this big")
    parser.add_argument("--keep", type=Path, help="folder to keep the generated clips in")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_video_"))
    work.mkdir(parents=True, exist_ok=True)
    clip = work / f"clip-{args.seconds}s-gop{args.gop}-crf{args.crf}.mp4"
    if not clip.exists():
        started = time.perf_counter()
        make_clip(clip, args.seconds, args.gop, args.crf)
        print(f"generated {clip.name} in {time.perf_counter() - started:.1f} s")
    print(
        f"clip: {args.seconds} s {WIDTH}x{HEIGHT} H.264, keyframe every {args.gop} s, "
        f"{clip.stat().st_size / 1e6:.1f} MB"
    )

    intake(clip, work / "warm-up")  # imports, first-call set-up
    # Alternate the two so a burst of load from elsewhere hits both alike; keep the best.
    rounds = [
        (timed(lambda: bare_keyframe_decode(clip)), timed(lambda: intake(clip, work / "frames")))
        for _ in range(args.rounds)
    ]
    bare, bare_cpu, frames = min(r[0] for r in rounds)
    ours, ours_cpu, kept = min(r[1] for r in rounds)
    print(
        f"bare PyAV keyframe decode: {bare:.3f} s, {args.seconds / bare:.1f}x real time, "
        f"{bare_cpu:.2f} s CPU ({frames} keyframes)"
    )
    print(
        f"mediacheck video intake:   {ours:.3f} s, {args.seconds / ours:.1f}x real time, "
        f"{ours_cpu:.2f} s CPU ({kept} pictures saved and hashed, contact sheet)"
    )
    ratio = bare / ours
    met = "met" if ratio >= 0.7 else "NOT met"
    print(f"intake speed / bare decode speed: {ratio:.2f} (goal >= 0.7: {met})")

    if args.memory_gb:
        big = work / f"long-{args.memory_gb:g}gb.mp4"
        if not big.exists():
            repeat_clip(clip, big, int(args.memory_gb * 1e9))
        seconds, peak, count = peak_memory_mb(big, work / "long-keyframes")
        with av.open(str(big)) as container:
            length = container.duration / 1e6
        print(
            f"long file: {big.stat().st_size / 1e9:.2f} GB, {length / 60:.1f} min: intake "
            f"{seconds:.1f} s ({length / seconds:.1f}x real time), {count} pictures, "
            f"peak memory {peak:.0f} MB"
        )
    print(
        f"max resident size of this process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
