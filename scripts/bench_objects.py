"""Capacity of a desk on an object store and a queue: upload, verify and worker throughput.

    python scripts/bench_objects.py [--upload-mb 256] [--huge-gb 2] [--files 24]

Starts a SeaweedFS (``weed mini``, as the tests do) on 127.0.0.1 and uses the
PostgreSQL of the tests (``MEDIACHECK_TEST_POSTGRES_URL``), then measures in one run:
- upload: ``put`` of one file of random bytes into the object store and into the
  store folder (MB/s of each);
- verify: the streaming re-hash ``verify`` does of that original, both stores;
- memory: a sparse file of ``--huge-gb`` GB put into the object store by a child
  process, and that child's peak resident memory;
- workers: ``--files`` 2 MP JPEGs taken in by a local ``intake`` and, queued with
  ``intake --queue``, by ``worker --burst`` with one and with two processes (files/s).
The machine is shared: compare the figures of one run, not runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mediacheck.store.blobs import FolderBlobs  # noqa: E402
from mediacheck.store.objects import ObjectBlobs  # noqa: E402
from tests.backends import postgres_schema  # noqa: E402
from tests.media import photo  # noqa: E402
from tests.objects import BUCKET, new_prefix, seaweed_server  # noqa: E402

MB = 1024 * 1024


def timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def upload_and_verify(folder: Path, megabytes: int) -> None:
    source = folder / "random.bin"
    with open(source, "wb") as out:
        for _ in range(megabytes):
            out.write(os.urandom(MB))
    stores = {
        "object store": ObjectBlobs(folder / "s3-cases", BUCKET, new_prefix()),
        "store folder": FolderBlobs(folder / "folder-cases"),
    }
    for name, blobs in stores.items():
        put_s, stored = timed(lambda b=blobs: b.put(source))
        check_s, _ = timed(lambda b=blobs, s=stored: b.digests(s.sha256))
        print(
            f"{name:<13} upload {megabytes / put_s:7.1f} MB/s   "
            f"verify {megabytes / check_s:7.1f} MB/s   ({megabytes} MB)"
        )


def huge_upload(folder: Path, gigabytes: int) -> None:
    huge = folder / "huge.bin"
    with open(huge, "wb") as out:
        out.truncate(gigabytes * 1024 * MB)
    child = (
        "import resource, sys; from pathlib import Path; "
        "from mediacheck.store.objects import ObjectBlobs; "
        f"b = ObjectBlobs(Path({str(folder / 'huge-cases')!r}), {BUCKET!r}, {new_prefix()!r}); "
        f"b.put(Path({str(huge)!r})); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    )
    seconds, done = timed(
        lambda: subprocess.run(
            [sys.executable, "-c", child], capture_output=True, text=True, check=True
        )
    )
    peak = int(done.stdout.strip())  # type: ignore[attr-defined]
    print(
        f"huge upload   {gigabytes} GB in {seconds:.0f} s ({gigabytes * 1024 / seconds:.0f} MB/s), "
        f"peak memory {peak} MB"
    )
    huge.unlink()


def workers(folder: Path, count: int, server_env: dict[str, str]) -> None:
    files = folder / "in"
    files.mkdir()
    for i in range(count):
        photo(files / f"p{i:03}.jpg", size=(1600, 1200), seed=i, quality=90)
    runs = {"local intake": None, "1 worker": 1, "2 workers": 2}
    for name, concurrency in runs.items():
        with postgres_schema() as url:
            env = os.environ | server_env
            env |= {
                "MEDIACHECK_DATABASE_URL": url,
                "MEDIACHECK_HOME": str(folder / f"cases-{concurrency}"),
                "MEDIACHECK_BLOBS": f"s3://{BUCKET}/{new_prefix()}",
                "MEDIACHECK_USER": "bench",
            }
            command = [sys.executable, "-m", "mediacheck"]
            if concurrency is None:
                local = [*command, "intake", str(files)]
                seconds, _ = timed(lambda e=env, w=local: _run(w, e))
            else:
                _run([*command, "intake", str(files), "--queue"], env)
                work = [*command, "worker", "--burst", "--concurrency", str(concurrency)]
                seconds, _ = timed(lambda e=env, w=work: _run(w, e))
            print(f"{name:<13} {count / seconds:6.2f} files/s  ({count} files, {seconds:.1f} s)")


def _run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upload-mb", type=int, default=256)
    parser.add_argument("--huge-gb", type=int, default=2)
    parser.add_argument("--files", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-objects-") as tmp:
        folder = Path(tmp)
        with seaweed_server(folder / "server") as server:
            os.environ.update(server.environment())
            upload_and_verify(folder, args.upload_mb)
            if args.huge_gb:
                huge_upload(folder, args.huge_gb)
            workers(folder, args.files, server.environment())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"(this process peaked at {peak} MB)")


if __name__ == "__main__":
    main()
