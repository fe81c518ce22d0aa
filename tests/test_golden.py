"""Golden values for corpus files: hashes that must never drift silently.

SHA-256 values come from the corpus MANIFEST (computed outside mediacheck);
perceptual hashes were recorded from mediacheck itself, so a change to the
decoding or hashing pipeline shows up here and must be a deliberate choice
(stored hashes of older intakes would stop matching).
"""

import pytest

from mediacheck.media.hashes import compute_hashes
from mediacheck.media.pictures import open_picture
from mediacheck.store.blobs import FolderBlobs
from tests.corpus import FILES, manifest, needs_corpus

GOLDEN = {
    "exifr/canon-dslr.jpg": (
        "889cd6732e2ef415",
        "31b0b0b3538b8981",
        "d898d5c8dd0590dd8bd1920b526a164b325736f426d772ba513ac967c935cf9c",
    ),
    "exifr/heic-iphone.heic": (
        "9077bb827989695a",
        "5ccc1e96bcecfb3f",
        "9b13bf02b0e180fd2f021fbffc045852c5f8c42d7e5b3458f4cf2c2089eea877",
    ),
    "mde/BELOW_SEA_LEVEL.JPG": (
        "c08f3f701fc6621e",
        "8382c08090938004",
        "8787183c91e5d002043cbf8538fd6fb20797a03c1da3ec30f3fc4f87007e3ff8",
    ),
    "exifr/webp/VRChat_3840x2160_2022-09-04_22-48-26.551.webp": (
        "a33e78c3d73418e2",
        "af6fef4ecfcbcbcb",
        "72ea1c8686b60e38f1cb0d6bca581a5638e0e1abe78c1a169cf5e1e94b0f9cbe",
    ),
    "exifr/orientation/f6t.jpg": (
        "9c63596373718c9c",
        "0074607e7e707474",
        "8e388e1871c771c7db6d71c79a698e3824928e388e38861871c771c7db6d71c7",
    ),
    "exifr/avif/Irvine_CA.avif": (
        "c9962d5a71869d72",
        "fefaf0c61031c392",
        "1d4422abfdf30404389bc76d7835fbc2853872a7addc5632f8c70dadf25a4434",
    ),
}


@needs_corpus
def test_every_corpus_file_hashes_to_its_manifest_sha256(tmp_path):
    blobs = FolderBlobs(tmp_path / "store")
    rows = manifest()
    assert len(rows) == 94
    for row in rows:
        stored = blobs.put(FILES / row["file"])
        assert stored.sha256 == row["sha256"], row["file"]
        assert stored.size == int(row["size_bytes"]), row["file"]


@needs_corpus
@pytest.mark.parametrize("rel", sorted(GOLDEN))
def test_perceptual_hashes_are_golden(rel):
    phash, dhash, pdq = GOLDEN[rel]
    hashes = compute_hashes(open_picture(FILES / rel).image).hashes
    assert (hashes["phash"], hashes["dhash"], hashes["pdq"]) == (phash, dhash, pdq)


@needs_corpus
def test_orientation_is_applied_before_hashing():
    # f1t..f8t hold one picture stored in the eight EXIF orientations.
    upright = compute_hashes(open_picture(FILES / "exifr/orientation/f1t.jpg").image).hashes
    for n in range(2, 9):
        other = compute_hashes(open_picture(FILES / f"exifr/orientation/f{n}t.jpg").image).hashes
        assert other["phash"] == upright["phash"], n
