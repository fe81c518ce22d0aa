import hashlib
import io

import pytest

from mediacheck.digests import CHUNK, file_sha256, hash_stream


def test_every_algorithm_sees_every_chunk_and_so_does_the_writer():
    data = b"abc" * CHUNK  # three chunks
    copied = io.BytesIO()
    found = hash_stream(io.BytesIO(data), ("sha256", "sha1", "md5"), copied.write)
    assert found.size == 3 * CHUNK
    assert copied.getvalue() == data
    assert found.hexdigests == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }


def test_file_sha256_of_a_known_file(tmp_path):
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_writer_that_raises_stops_the_copy():
    seen: list[int] = []

    def refuse_second(chunk: bytes) -> None:
        if seen:
            raise ValueError("too long")
        seen.append(len(chunk))

    with pytest.raises(ValueError, match="too long"):
        hash_stream(io.BytesIO(b"x" * (CHUNK + 1)), write=refuse_second)
    assert seen == [CHUNK]
