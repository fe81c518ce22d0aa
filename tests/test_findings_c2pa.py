"""Content Credentials on large files: read only where a C2PA store can be."""

from __future__ import annotations

from mediacheck.findings import c2pa_signals
from tests.corpus import C2PA, needs_corpus
from tests.findings_helpers import make_context
from tests.media import photo

PADDING = c2pa_signals.FULL_READ_LIMIT + 1024 * 1024


def _padded(source: bytes, path, padding: int = PADDING):
    # Data after a JPEG's end marker: viewers ignore it, as messengers' junk.
    with open(path, "wb") as out:
        out.write(source)
        out.truncate(len(source) + padding)
    return path


def test_a_large_file_without_a_store_is_not_handed_to_c2pa(tmp_path):
    big = _padded(photo(tmp_path / "p.jpg").read_bytes(), tmp_path / "big.jpg")
    assert c2pa_signals._may_hold_store(big) is False
    assert c2pa_signals.check_c2pa(make_context(big, tmp_path / "d")) == []


def test_a_small_file_is_always_checked(tmp_path):
    assert c2pa_signals._may_hold_store(photo(tmp_path / "p.jpg")) is True


@needs_corpus
def test_a_large_signed_file_is_still_read(tmp_path):
    big = _padded((C2PA / "files" / "CA.jpg").read_bytes(), tmp_path / "big.jpg")
    assert c2pa_signals._may_hold_store(big) is True
    codes = [f.code for f in c2pa_signals.check_c2pa(make_context(big, tmp_path / "d"))]
    assert codes[0] == "c2pa"
