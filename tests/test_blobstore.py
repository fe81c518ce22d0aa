import hashlib
import os
import stat
from pathlib import Path

from mediacheck.store.blobs import FolderBlobs


def test_put_copies_bytes_hashes_once_and_makes_read_only(tmp_path: Path):
    source = tmp_path / "in.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)  # spans several read chunks
    source.write_bytes(data)
    blobs = FolderBlobs(tmp_path / "store")

    stored = blobs.put(source)

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.sha1 == hashlib.sha1(data).hexdigest()
    assert stored.md5 == hashlib.md5(data).hexdigest()
    assert stored.size == len(data)
    assert stored.existed is False
    assert (
        stored.path
        == tmp_path / "store" / "originals" / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256
    )
    assert stored.path.read_bytes() == data
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o444
    assert list((tmp_path / "store" / "originals" / "tmp").iterdir()) == []


def test_same_bytes_are_stored_once(tmp_path: Path):
    blobs = FolderBlobs(tmp_path / "store")
    (tmp_path / "a.jpg").write_bytes(b"same bytes")
    (tmp_path / "b.jpg").write_bytes(b"same bytes")

    first = blobs.put(tmp_path / "a.jpg")
    second = blobs.put(tmp_path / "b.jpg")

    assert (first.existed, second.existed) == (False, True)
    assert first.path == second.path
    assert first.path.stat().st_nlink == 1
    assert blobs.digests(first.sha256).sha256 == first.sha256


def test_empty_sha256_is_the_known_constant(tmp_path: Path):
    (tmp_path / "empty").write_bytes(b"")
    stored = FolderBlobs(tmp_path / "store").put(tmp_path / "empty")
    assert stored.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_originals_are_the_files_named_by_their_hash_under_their_prefix(tmp_path: Path):
    blobs = FolderBlobs(tmp_path / "store")
    (tmp_path / "in.bin").write_bytes(b"evidence")
    stored = blobs.put(tmp_path / "in.bin")
    sha = stored.sha256
    (blobs.originals / "tmp" / "incoming-abc").write_bytes(b"a write in progress")
    (blobs.originals / sha[:2] / sha[2:4] / "notes.txt").write_bytes(b"left by hand")
    misplaced = blobs.originals / "00" / "00" / sha
    misplaced.parent.mkdir(parents=True)
    misplaced.write_bytes(b"evidence")
    (blobs.derived / sha[:2] / sha[2:4]).mkdir(parents=True)
    (blobs.derived / sha[:2] / sha[2:4] / sha).write_bytes(b"derived")

    assert list(blobs.stored_originals()) == [sha]
    assert blobs.count_originals() == 1
    assert FolderBlobs(tmp_path / "nothing here").count_originals() == 0
