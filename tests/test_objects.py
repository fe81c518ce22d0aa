"""Evidence in an S3-compatible object store: a real SeaweedFS on 127.0.0.1, never a mock."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from mediacheck import config
from mediacheck.errors import StoreError
from mediacheck.store import objects
from mediacheck.store.database import Store
from mediacheck.store.objects import ObjectBlobs
from tests.conftest import Cli
from tests.media import photo
from tests.objects import BUCKET, new_prefix, seaweed_server
from tests.video_clips import write_clip

pytestmark = pytest.mark.s3


@pytest.fixture
def s3_env(seaweed, monkeypatch) -> None:
    for name, value in seaweed.environment().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def blobs(tmp_path: Path, s3_env) -> ObjectBlobs:
    return ObjectBlobs(tmp_path / "cases", BUCKET, new_prefix())


def _b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_a_small_original_is_one_checked_put_under_its_hash(blobs, seaweed, tmp_path):
    data = os.urandom(100_000)
    (tmp_path / "in.bin").write_bytes(data)

    stored = blobs.put(tmp_path / "in.bin")

    sha = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, stored.existed) == (sha, len(data), False)
    key = f"{blobs.prefix}/originals/{sha[:2]}/{sha[2:4]}/{sha}"
    head = seaweed.client().head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == _b64(data)
    assert list(blobs.stored_originals()) == [sha]
    assert blobs.digests(sha).md5 == hashlib.md5(data).hexdigest()
    assert list((tmp_path / "cases" / "originals" / "tmp").iterdir()) == []  # staging emptied


def test_a_large_original_goes_up_in_checked_parts(blobs, seaweed, tmp_path):
    part = objects.PART_SIZE
    data = os.urandom(2 * part + 17)
    (tmp_path / "big.bin").write_bytes(data)

    stored = blobs.put(tmp_path / "big.bin")

    key = f"{blobs.prefix}/{blobs.original_key(stored.sha256)}"
    head = seaweed.client().head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    parts = [data[:part], data[part : 2 * part], data[2 * part :]]
    joined = b"".join(hashlib.sha256(p).digest() for p in parts)
    assert (
        head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(joined).digest()).decode() + "-3"
    )
    assert head["ContentLength"] == len(data)
    assert blobs.digests(stored.sha256).sha256 == hashlib.sha256(data).hexdigest()


def test_an_object_is_written_once_never_replaced(blobs, seaweed, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"first bytes")
    first = blobs.put(source)
    key = f"{blobs.prefix}/{blobs.original_key(first.sha256)}"
    seaweed.client().put_object(Bucket=BUCKET, Key=key, Body=b"altered behind our back")
    picture = tmp_path / "kf.jpg"
    picture.write_bytes(b"a picture")

    again = blobs.put(source)
    derived = f"derived/{first.sha256[:2]}/{first.sha256}/kf.jpg"
    added = [blobs.put_derived(derived, picture), blobs.put_derived(derived, source)]

    assert again.existed is True
    stored = seaweed.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored == b"altered behind our back"  # left for verify to name, never overwritten
    assert added == [True, False]
    with blobs.open_blob(derived) as kept:
        assert kept.read() == b"a picture"


def test_staged_bytes_that_changed_are_never_uploaded(blobs, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"what was hashed")
    staged = blobs.stage(source)
    staged.path.chmod(0o644)
    staged.path.write_bytes(b"what is there now")

    with pytest.raises(StoreError, match="the staged copy changed before it was uploaded"):
        blobs.place(staged)

    assert list(blobs.stored_originals()) == []


def test_a_missing_object_is_file_not_found(blobs):
    with pytest.raises(FileNotFoundError):
        blobs.digests("0" * 64)
    assert blobs.shared_file("index/none.snapshot") is None
    assert blobs.exists("derived/00/" + "0" * 64 + "/kf.jpg") is False


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("s3://", "expected s3://bucket/prefix"),
        ("gs://bucket/x", "expected s3://bucket/prefix"),
        ("s3://bucket/x?retain=3", "unknown option 'retain'"),
        (
            "s3://bucket/x?retain-days=soon",
            "retain-days is a whole number of days and lock-mode compliance or governance",
        ),
    ],
)
def test_a_bad_blob_url_is_one_line(tmp_path, url, error):
    result = Cli(tmp_path / "cases")("cases", "--blobs", url, expect=1)
    assert result.stderr == f"Error: blob store {url!r}: {error}\n"


def test_retention_puts_originals_under_object_lock(tmp_path, seaweed, s3_env):
    client = seaweed.client()
    bucket = f"locked-{new_prefix()}"
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    blobs = ObjectBlobs.from_url(tmp_path / "cases", f"s3://{bucket}/desk?retain-days=30")
    (tmp_path / "in.bin").write_bytes(b"evidence")

    stored = blobs.put(tmp_path / "in.bin")

    key = f"desk/{blobs.original_key(stored.sha256)}"
    retention = client.get_object_retention(Bucket=bucket, Key=key)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    version = client.head_object(Bucket=bucket, Key=key)["VersionId"]
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=key, VersionId=version)


@pytest.mark.parametrize("blob_backend", ["s3"], indirect=True)
def test_a_video_case_reads_everything_from_the_object_store(tmp_path, cli, store, tamper):
    """Intake, keyframes, report and bundle: nothing of the case stays in the store folder."""
    [result] = cli.json("intake", write_clip(tmp_path / "clip.mp4", cut_at=1.5))
    [media] = cli.json("show", result["case_id"])["media"]
    pictures = [media["contact_sheet"], *(frame["path"] for frame in media["keyframes"])]

    stored = tamper.keys()
    exported = cli.json("keyframes", result["case_id"], "-o", tmp_path / "upload")
    report = cli("report", result["case_id"]).stdout
    cli("export", result["case_id"], "-o", tmp_path / "clip.zip")
    target = Cli(tmp_path / "target", user="carol")
    target.env["MEDIACHECK_BLOBS"] = ""
    imported = target.json("import", tmp_path / "clip.zip")

    assert tamper.key(result["sha256"]) in stored and set(pictures) <= set(stored)
    assert not (tmp_path / "cases" / tamper.key(result["sha256"])).exists()
    assert len(exported["pictures"]) == len(pictures) and exported["problems"] == []
    assert report.count('alt="keyframe at ') == len(media["keyframes"])
    assert report.count('alt="contact sheet"') == 1
    with zipfile.ZipFile(tmp_path / "clip.zip") as zf:
        assert zf.read(f"data/originals/{result['sha256']}") == (tmp_path / "clip.mp4").read_bytes()
    assert imported["files"] == len(pictures)
    for picture in pictures:
        with store.blobs.open_blob(picture) as src:
            assert (tmp_path / "target" / picture).read_bytes() == src.read()
    assert target("verify").stdout.endswith(" 1 originals: all intact\n")


def test_an_original_without_its_row_is_an_orphan_then_adopted(tmp_path, s3_env, seaweed):
    url = f"s3://{BUCKET}/{new_prefix()}"
    cli = Cli(tmp_path / "cases")
    cli.env["MEDIACHECK_BLOBS"] = url
    # The database first: originals beside an empty one are refused.
    Store.open(config.resolve(store=tmp_path / "cases", blobs=url), create=True).engine.dispose()
    lost = photo(tmp_path / "lost.jpg", seed=5)
    sha = ObjectBlobs.from_url(tmp_path / "cases", url).put(lost).sha256

    orphans = cli.json("verify")["orphans"]
    [result] = cli.json("intake", lost)

    assert orphans == [{"sha256": sha, "path": f"originals/{sha[:2]}/{sha[2:4]}/{sha}"}]
    assert (result["status"], result["sha256"]) == ("added", sha)
    assert cli.json("show", result["case_id"])["media"][0]["width"] == 640  # described again
    assert cli.json("verify")["orphans"] == []


def test_the_server_stopping_mid_upload_records_nothing(tmp_path, monkeypatch):
    """One line naming the object store; no media row, no object; a re-run then succeeds."""
    with seaweed_server(tmp_path / "server") as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        url = f"s3://{BUCKET}/desk"
        cli = Cli(tmp_path / "cases")
        cli.env["MEDIACHECK_BLOBS"] = url
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(3 * objects.PART_SIZE))
        upload_part = ObjectBlobs._upload_part

        def stop_after_the_first_part(self, full, upload, number, data):
            if number == 2:
                server.stop()
            return upload_part(self, full, upload, number, data)

        monkeypatch.setattr(ObjectBlobs, "_upload_part", stop_after_the_first_part)
        failed = cli("intake", big, "--json", expect=1)
        monkeypatch.undo()
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        server.start()
        listed = server.client().list_objects_v2(Bucket=BUCKET, Prefix="desk/")
        cases = cli.json("cases")
        [again] = cli.json("intake", big, expect=1)  # not a picture: kept with its hashes
        verified = cli.json("verify")

    [line] = failed.stderr.splitlines()
    assert line.startswith(f"Error: cannot write to the object store {url}: ")
    assert failed.stdout == ""
    assert listed.get("Contents", []) == [] and cases == []
    assert again["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert (verified["ok"], verified["originals"], verified["orphans"]) == (True, 1, [])
    assert list((tmp_path / "cases" / "originals" / "tmp").iterdir()) == []
