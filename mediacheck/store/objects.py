"""The blob store in an S3-compatible object store: AWS S3, SeaweedFS, MinIO, Ceph, R2.

``MEDIACHECK_BLOBS=s3://bucket/prefix`` selects it; the endpoint, keys and region
come from the standard AWS configuration (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, profiles).
Object keys are the store folder's relative paths under the prefix.

An original is staged and hashed in the local store folder as it is on disk,
then streamed up in one read that hashes it again (in parts of ``PART_SIZE``
above that size, so memory stays bounded whatever the file): bytes that changed
since staging are never stored. Every request carries its SHA-256 for the server
to check (``ChecksumSHA256``); a server that does not confirm it is read back.
Writes are conditional (``If-None-Match: *``): an object is written once and a
second writer finds it there. With ``?retain-days=N`` every original is also put
under Object Lock retention (``lock-mode=governance`` to allow privileged
deletes; the bucket must have Object Lock enabled).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from mediacheck.digests import CHUNK
from mediacheck.errors import StoreError, one_line
from mediacheck.store.blobs import BlobStore, Digests, FolderBlobs, StoredBlob, copy_and_hash

PART_SIZE = 8 * 1024 * 1024  # multipart above this; at most one part is held in memory
_ORIGINAL_KEY = re.compile(r"originals/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_MISSING = {"404", "NoSuchKey", "NotFound"}
_WRITTEN_ALREADY = {"412", "PreconditionFailed", "ConditionalRequestConflict"}
_LOCK_MODES = {"compliance": "COMPLIANCE", "governance": "GOVERNANCE"}


def open_blobs(root: Path, url: str | None = None) -> BlobStore:
    """The blob store ``url`` names (``s3://bucket/prefix``), else the store folder."""
    return ObjectBlobs.from_url(root, url) if url else FolderBlobs(root)


class ObjectBlobs(FolderBlobs):
    """Originals and pictures in a bucket; staging and drawing in the local store folder."""

    def __init__(
        self, root: Path, bucket: str, prefix: str = "", retain_days: int = 0, lock_mode: str = ""
    ):
        super().__init__(root)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.retain_days = retain_days
        self.lock_mode = lock_mode or "COMPLIANCE"
        self.conditional = True  # If-None-Match: * until the server says it has none
        self._client: Any = None

    @classmethod
    def from_url(cls, root: Path, url: str) -> ObjectBlobs:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StoreError(f"blob store {url!r}: expected s3://bucket/prefix")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"retain-days", "lock-mode"}
        if unknown:
            raise StoreError(f"blob store {url!r}: unknown option {sorted(unknown)[0]!r}")
        days = query.get("retain-days", "0")
        mode = query.get("lock-mode", "compliance").lower()
        if not days.isdigit() or mode not in _LOCK_MODES:
            raise StoreError(
                f"blob store {url!r}: retain-days is a whole number of days and "
                "lock-mode compliance or governance"
            )
        return cls(root, parts.netloc, parts.path, int(days), _LOCK_MODES[mode])

    def __getstate__(self) -> dict[str, Any]:
        # Intake's worker processes get their own connections: a client is not shared.
        return self.__dict__ | {"_client": None}

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def original_location(self, sha256: str) -> str:
        return f"{self.location}/{self.original_key(sha256)}"

    def original_path(self, sha256: str) -> Path:
        """A path no file is at: originals live in the bucket (staged ones are local)."""
        return self.root / "cache" / self.original_key(sha256)

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": 3},
                # Checksums only where mediacheck asks for them (SeaweedFS, MinIO, Ceph
                # and R2 do not all take the SDK's default CRC32 trailers).
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            self._client = boto3.session.Session().client("s3", config=config)
        return self._client

    # Writing

    def holds(self, sha256: str) -> bool:
        return self.exists(self.original_key(sha256))

    def place(self, staged: StoredBlob) -> StoredBlob:
        """Stream a staged original up under its hash, then its pictures; drop the copy."""
        final = self.original_path(staged.sha256)
        if staged.path == final:
            return staged  # placed already
        try:
            existed = staged.existed or self._upload_original(staged)
            self.save_derived(staged.sha256)
        finally:
            staged.path.unlink(missing_ok=True)
        return replace(staged, path=final, existed=existed)

    def _upload_original(self, staged: StoredBlob) -> bool:
        """True if another writer stored these bytes first."""
        key = self.original_key(staged.sha256)
        with self._errors("write to", key), open(staged.path, "rb") as src:
            return self._upload(src, key, staged.sha256, self._lock())

    def save_derived(self, sha256: str) -> None:
        folder = self.derived / sha256[:2] / sha256
        if not folder.is_dir():
            return
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            self.put_derived(self.relative(path), path)

    def put_derived(self, key: str, source: Path) -> bool:
        with self._errors("write to", key), open(source, "rb") as src:
            return not self._upload(src, key, None, {})

    def _upload(self, src: BinaryIO, key: str, sha256: str | None, extra: dict) -> bool:
        """Put ``src`` under ``key`` once; True if it was there. ``sha256``: what it must be."""
        first = src.read(PART_SIZE)
        if len(first) < PART_SIZE:
            return self._put_small(first, key, sha256, extra)
        return self._put_multipart(first, src, key, sha256, extra)

    def _put_small(self, data: bytes, key: str, sha256: str | None, extra: dict) -> bool:
        digest = hashlib.sha256(data)
        _check_sent(digest.hexdigest(), sha256, key)
        checksum = _b64(digest.digest())
        answer = self._conditional_write(
            key,
            lambda condition: self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ChecksumSHA256=checksum,
                **condition,
                **extra,
            ),
        )
        if answer is None:
            return True
        self._confirm(key, answer.get("ChecksumSHA256"), checksum, digest.hexdigest())
        return False

    def _put_multipart(
        self, first: bytes, src: BinaryIO, key: str, sha256: str | None, extra: dict
    ) -> bool:
        full = self._key(key)
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=full, ChecksumAlgorithm="SHA256", **extra
        )["UploadId"]
        try:
            whole, parts = hashlib.sha256(), []
            part, number = first, 1
            while part:
                whole.update(part)
                parts.append(self._upload_part(full, upload, number, part))
                part, number = src.read(PART_SIZE), number + 1
            _check_sent(whole.hexdigest(), sha256, key)
            answer = self._conditional_write(
                key,
                lambda condition: self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=full,
                    UploadId=upload,
                    MultipartUpload={"Parts": parts},
                    **condition,
                ),
            )
        except BaseException:
            self._abort(full, upload)
            raise
        if answer is None:
            self._abort(full, upload)
            return True
        expected = _composite([p["ChecksumSHA256"] for p in parts])
        self._confirm(key, answer.get("ChecksumSHA256"), expected, whole.hexdigest())
        return False

    def _upload_part(self, full: str, upload: str, number: int, data: bytes) -> dict[str, Any]:
        checksum = _b64(hashlib.sha256(data).digest())
        answer = self.client.upload_part(
            Bucket=self.bucket,
            Key=full,
            UploadId=upload,
            PartNumber=number,
            Body=data,
            ChecksumSHA256=checksum,
        )
        return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}

    def _abort(self, full: str, upload: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload)
        except Exception:  # noqa: BLE001, S110 - the server is gone: its lifecycle rules clean up
            pass

    def _conditional_write(self, key: str, write) -> dict[str, Any] | None:
        """``write`` with If-None-Match: *; None if the object is there already."""
        from botocore.exceptions import ClientError

        if not self.conditional and self.exists(key):
            return None
        try:
            return write({"IfNoneMatch": "*"} if self.conditional else {})
        except ClientError as exc:
            code = _code(exc)
            if code in _WRITTEN_ALREADY:
                return None
            if code != "NotImplemented" or not self.conditional:
                raise
        # A server without conditional writes: look first (a race may then overwrite
        # the same bytes under the same hash, which changes nothing).
        self.conditional = False
        return self._conditional_write(key, write)

    def _confirm(self, key: str, answered: str | None, sent: str, sha256: str) -> None:
        """The server's checksum must be the one sent; without one, read the object back."""
        if answered == sent:
            return
        if answered is None:
            with self.open_blob(key) as stored:
                found = hashlib.sha256()
                while chunk := stored.read(CHUNK):
                    found.update(chunk)
            if found.hexdigest() == sha256:
                return
        raise StoreError(
            f"the object store {self.location} did not keep the bytes sent for {key}: "
            "check the server before taking in more"
        )

    def _lock(self) -> dict[str, Any]:
        if not self.retain_days:
            return {}
        until = datetime.now(UTC) + timedelta(days=self.retain_days)
        return {"ObjectLockMode": self.lock_mode, "ObjectLockRetainUntilDate": until}

    def write_shared_file(self, key: str, write: Callable[[BinaryIO], object]) -> None:
        """Uploaded from a local file that then becomes this machine's cached copy."""
        from boto3.exceptions import S3UploadFailedError

        target = self.root / "cache" / key
        with self._partial(target, write) as partial:
            with self._errors("write to", key):
                try:
                    self.client.upload_file(str(partial), self.bucket, self._key(key))
                except S3UploadFailedError as exc:
                    raise self._failed("write to", exc) from exc
                tag = self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ETag"]
            self._keep_cached(partial, target, tag)

    def remove_shared_file(self, key: str) -> None:
        """The object and this machine's cached copy (other machines' copies are checked
        by ETag before each use, so they fetch nothing once it is gone)."""
        with self._errors("remove from", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        cached = self.root / "cache" / key
        with self._writing():
            cached.unlink(missing_ok=True)
            _tag_file(cached).unlink(missing_ok=True)

    # Reading

    def shared_file(self, key: str) -> Path | None:
        """The copy in ``cache/``, fetched again when the object's ETag says it changed."""
        target = self.root / "cache" / key
        try:
            with self._errors("read from", key):
                tag = self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ETag"]
        except FileNotFoundError:
            return None
        if target.is_file() and _read_tag(target) == tag:
            return target
        try:
            with self._errors("read from", key):
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
                with (
                    closing(answer["Body"]) as body,
                    self._partial(target, lambda out: _copy(body, out)) as partial,
                ):
                    self._keep_cached(partial, target, answer["ETag"])
        except FileNotFoundError:
            return None  # replaced by nothing between the two requests
        return target

    def _keep_cached(self, partial: Path, target: Path, tag: str) -> None:
        """Put a fetched or uploaded copy in ``cache/``, with the ETag it was checked by."""
        with self._writing():
            os.replace(partial, target)
            _tag_file(target).write_text(tag)

    def exists(self, key: str) -> bool:
        try:
            with self._errors("read from", key):
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except FileNotFoundError:
            return False
        return True

    @contextmanager
    def open_blob(self, key: str) -> Iterator[BinaryIO]:
        with self._errors("read from", key):
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        try:
            with self._errors("read from", key):
                yield body
        finally:
            body.close()

    @contextmanager
    def local_blob(self, key: str) -> Iterator[Path]:
        work = self.root / "tmp"
        with self._writing():
            work.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=work, prefix="fetched-", suffix=Path(key).suffix)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out, self.open_blob(key) as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def local_original(self, sha256: str) -> AbstractContextManager[Path]:
        return self.local_blob(self.original_key(sha256))

    def cached(self, key: str) -> Path:
        """Fetched once into ``cache/`` in the store folder (a path without a file if gone)."""
        target = self.root / "cache" / key
        if target.is_file():
            return target
        try:
            with self.local_blob(key) as fetched, self._writing():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(fetched, target)
        except FileNotFoundError:
            pass  # as in the folder: the path is named, the file is missing
        return target

    def digests(self, sha256: str) -> Digests:
        with self.open_blob(self.original_key(sha256)) as src:
            return copy_and_hash(src, None)

    def stored_originals(self) -> Iterator[str]:
        """Every key that names an original by its own hash (a listing, no reads)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key("originals/")
        )
        skip = len(self._key(""))
        with self._errors("list", "originals/"):
            for page in pages:
                for entry in page.get("Contents", []):
                    found = _ORIGINAL_KEY.fullmatch(entry["Key"][skip:])
                    if found and found[3].startswith(found[1] + found[2]):
                        yield found[3]

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextmanager
    def _errors(self, verb: str, key: str) -> Iterator[None]:
        """A missing object is the blob's (FileNotFoundError); anything else the server's."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(errno.ENOENT, "no such object", key) from None
            raise self._failed(verb, exc) from exc
        except BotoCoreError as exc:
            raise self._failed(verb, exc) from exc

    def _failed(self, verb: str, exc: Exception) -> StoreError:
        return StoreError(f"cannot {verb} the object store {self.location}: {one_line(exc)}")


def _tag_file(cached: Path) -> Path:
    return cached.with_name(f"{cached.name}.etag")


def _read_tag(cached: Path) -> str | None:
    try:
        return _tag_file(cached).read_text()
    except FileNotFoundError:
        return None


def _copy(src: Any, out: BinaryIO) -> None:
    while chunk := src.read(CHUNK):
        out.write(chunk)


def _check_sent(found: str, expected: str | None, key: str) -> None:
    """The bytes sent must be those staged: a file changed under the store is never kept."""
    if expected is not None and found != expected:
        raise StoreError(f"{key}: the staged copy changed before it was uploaded")


def _composite(part_checksums: list[str]) -> str:
    """The checksum S3 gives a multipart object: the SHA-256 of its parts' SHA-256s, -N."""
    joined = b"".join(base64.b64decode(c) for c in part_checksums)
    return f"{_b64(hashlib.sha256(joined).digest())}-{len(part_checksums)}"


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _code(exc: Any) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
