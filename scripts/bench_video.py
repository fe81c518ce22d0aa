"""Video intake speed: bare PyAV keyframe-only decode against mediacheck's video intake.

    python scripts/bench_video.py              # 60 s 1080p H.264, a keyframe every 2 s
    python scripts/bench_video.py --sizes 1080 2160 --corpus  # also 4K, and the corpus videos
    python scripts/bench_video.py --memory-gb 2  # also peak memory on a file of about 2 GB

The clips are generated (textured, panning picture so keyframes are camera-sized) in a
temporary folder; --keep DIR keeps them there to rerun faster. Two intakes are timed
against the bare decode: "keyframes" (probe, keyframes saved as JPEG, hashed, contact
sheet) and "described" (the same plus each keyframe's match fingerprint and query views,
all that intake's worker does with a video's pictures before the archive search).
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

from mediacheck.match.fingerprints import Probe
from mediacheck.media.video.keyframes import extract_keyframes
from mediacheck.media.video.probe import probe_video

FPS = 30
PAN_PX = 4  # per frame
GOAL = 0.7  # issue 17: intake speed at least this share of the bare keyframe decode's
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "files"
CORPUS_VIDEOS = ("mde/with-gps.mov", "elodie/video.mov", "gpmf/karma.mp4", "gpmf/max-heromode.mp4")


def textured_plane(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth shapes plus grain: compresses like camera footage, not like flat test cards."""
    shapes = gaussian_filter(rng.normal(0, 1, (height // 4, width // 4)), 3)
    shapes = np.kron(shapes / shapes.std() * 40 + 128, np.ones((4, 4)))
    grain = rng.normal(0, 2, (height, width))
    return np.clip(shapes + grain, 16, 235).astype(np.uint8)


def make_clip(path: Path, seconds: int, gop_s: int, crf: int, height: int) -> None:
    rng = np.random.default_rng(7)
    width = height * 16 // 9
    span = width + seconds * FPS * PAN_PX
    luma = textured_plane(height, span, rng)
    chroma = [textured_plane(height // 2, span // 2, rng) for _ in range(2)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
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
            u, v = (c[:, x // 2 : x // 2 + width // 2] for c in chroma)
            packed = np.concatenate(
                [luma[:, x : x + width], np.concatenate([u, v], axis=1).reshape(-1, width)]
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


def keyframes_only(path: Path, out_dir: Path) -> int:
    probe_video(path)
    return len(extract_keyframes(path, out_dir, max_seconds=3600).keyframes)


def described(path: Path, out_dir: Path) -> int:
    """What intake's worker does with a video's pictures (``intake/describe.py``)."""
    probe_video(path)
    return len(extract_keyframes(path, out_dir, max_seconds=3600, look=Probe).looks)


def compare(name: str, path: Path, seconds: float, work: Path, rounds: int) -> None:
    """Alternate the bare decode and both intakes so load hits all alike; the best of each."""
    described(path, work / "warm-up")  # imports, first-call set-up
    timings = [
        (
            timed(lambda: bare_keyframe_decode(path)),
            timed(lambda: keyframes_only(path, work / "frames")),
            timed(lambda: described(path, work / "described")),
        )
        for _ in range(rounds)
    ]
    bare, bare_cpu, frames = min(t[0] for t in timings)
    print(f"{name}: bare PyAV keyframe decode {bare:.3f} s, {bare_cpu:.2f} s CPU ({frames} frames)")
    for column, label in ((1, "keyframes"), (2, "described")):
        wall, cpu, kept = min(t[column] for t in timings)
        ratio = bare / wall
        print(
            f"  {label:9} {wall:7.3f} s, {seconds / wall:6.1f}x real time, {cpu:5.2f} s CPU, "
            f"{kept} pictures: speed / bare {ratio:.2f}, CPU / bare {bare_cpu / cpu:.2f} "
            f"(goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'})"
        )


def clip_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return (container.duration or 0) / 1e6


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
    parser.add_argument("--sizes", type=int, nargs="+", default=[1080], help="clip heights (16:9)")
    parser.add_argument("--gop", type=int, default=2, help="seconds between keyframes")
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", action="store_true", help="also the corpus's videos")
    parser.add_argument("--memory-gb", type=float, default=0, help="also measure a file this big")
    parser.add_argument("--keep", type=Path, help="folder to keep the generated clips in")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_video_"))
    work.mkdir(parents=True, exist_ok=True)
    clip = work / f"clip-{args.seconds}s-gop{args.gop}-crf{args.crf}.mp4"
    for height in args.sizes:
        name = f"clip-{args.seconds}s-gop{args.gop}-crf{args.crf}"
        path = work / (f"{name}.mp4" if height == 1080 else f"{name}-{height}p.mp4")
        if not path.exists():
            started = time.perf_counter()
            make_clip(path, args.seconds, args.gop, args.crf, height)
            print(f"generated {path.name} in {time.perf_counter() - started:.1f} s")
        size = f"{path.stat().st_size / 1e6:.0f} MB"
        label = f"{args.seconds} s {height * 16 // 9}x{height} H.264 ({size})"
        compare(label, path, args.seconds, work, args.rounds)
    if args.corpus:
        for name in CORPUS_VIDEOS:
            path = CORPUS / name
            compare(name, path, clip_seconds(path), work, args.rounds)

    if args.memory_gb:
        if not clip.exists():
            make_clip(clip, args.seconds, args.gop, args.crf, 1080)
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
