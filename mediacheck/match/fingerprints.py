"""What mediacheck remembers of a picture so that a re-shared copy can be recognised.

A picture (a photo, or one keyframe of a video) gets:

- a digest of its decoded pixels, for copies that differ only in metadata or container;
- two 64-bit DCT hashes, of the whole picture and of its *content box*: the picture with
  borders, caption bands and screenshot bars cut away;
- sixteen 32-bit coarse DCT hashes of the content box and of windows of it, so that a copy
  cropped by up to a quarter of a side still lands near one of them;
- ORB keypoints, to verify a short list geometrically;
- the *words* of its first keypoints (taken in turn from every pyramid level): 20-bit
  pieces of their ORB descriptors, which the index keeps in posting lists so that a
  query's keypoints vote for the stored pictures that share them (the short list for the
  geometric check, at any archive size).

``docs/matching.md`` explains the choice and measures it.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from PIL import Image, ImageOps

# Bumped whenever a hash changes meaning: the index only compares prints of one version.
VERSION = 1

# Window boxes (left, top, right, bottom) as fractions of the content box. Each axis keeps
# the whole side, drops a fifth at either end, or a tenth at both: together they sit within
# about a tenth of a side of any crop that keeps three quarters of each side. The first
# window is the whole content box, the one a query is compared with.
_SPANS = ((0.0, 1.0), (0.0, 0.8), (0.2, 1.0), (0.1, 0.9))
WINDOWS = tuple((x0, y0, x1, y1) for x0, x1 in _SPANS for y0, y1 in _SPANS)

# One fixed-width record per picture, so that a whole archive loads with one frombuffer.
RECORD = np.dtype(
    [
        ("pixels", "<u8"),
        ("fine", "<u8", (2,)),
        ("coarse", "<u4", (len(WINDOWS),)),
        ("informative", "u1"),
    ]
)

HASH_SIDE = 32  # the DCT hashes look at a 32x32 grey picture
WORK_SIDE = 512  # hashing and keypoints never need more
TRIM_SIDE = 256  # enough to find bands and bars
# A line with 80% of its pixels within 16 levels of the edge colour is band; lines of
# text, icons or separators up to 8% of the side thick are crossed when the band resumes
# after them; a cut that leaves less than a tenth of a side is no cut (a flat picture).
BAND_TOLERANCE = 16
BAND_SHARE = 0.8
BAND_GAP = 0.08
MIN_CONTENT = 0.1
# The picture a page holds: content boxes taken this many times over at most; a line with
# this share of its pixels in one colour is a gutter between two parts.
PEEL_ROUNDS = 4
GUTTER_SHARE = 0.95
PICTURE_SHARE = 0.4
# Below this grey-level spread there is nothing a perceptual hash could tell apart.
MIN_SPREAD = 3.0
ORB_FEATURES = 500  # kept of a stored picture: its strongest
# A query looks for more: in a watermarked, collaged or composite copy the stored picture's
# corners compete with those of the overlay or the rest of the scene.
QUERY_FEATURES = 1000
# ORB keeps its strongest corners; a low contrast floor leaves some to smooth or heavily
# compressed pictures (sky, fog, a messenger's copy), and smoother ones are asked again lower.
FAST_THRESHOLDS = (5, 2)
MIN_KEYPOINTS = 100
# ORB ignores corners within its 31 px patch border on every pyramid level, and its pyramid
# cannot even be built from a picture a pixel or two across: a thinner one has no keypoints.
ORB_MIN_SIDE = 2 * 31 + 1
# Words: the strongest INDEXED_KEYPOINTS keypoints of a stored picture each give WORD_TABLES
# words, its descriptor's first WORD_TABLES pieces of WORD_BITS bits (ORB's tests are chosen
# to be uncorrelated and balanced, so a piece is a hash bucket as it is; no vocabulary to
# train). 20 bits make a chance vote rare (about 0.1 per stored picture and query view),
# where 16 gave every stored picture about 4: docs/matching.md measures the choice.
INDEXED_KEYPOINTS = 128
WORD_TABLES = 3
WORD_BITS = 20
# Entries stored before these words (match-v1 rows up to 2026-12) hold four 16-bit pieces
# of each of 64 keypoints, tagged ``t << 16``: the first 64 bits of the descriptor, from
# which these tables' words are cut again at load (``entry_words``). Newer entries start
# with WORDS_MARK and hold the words themselves.
WORDS_MARK = 0xFFFFFFFF
_OLD_PIECES = 4
# Entries since 2026-12-02 start with GEOMETRY_MARK and the number of keypoints, then their
# words and one byte of geometry per keypoint (``Keypoints.geometry``), four to a uint32.
GEOMETRY_MARK = 0xFFFFFFFE
# A keypoint's geometry byte: GEOMETRY_KNOWN, its ORB pyramid level (3 bits) and its
# orientation in one of ORIENTATIONS bins. 0 means unknown (keypoints of older entries, or
# read back from stored bytes). The index counts a query's shared words per difference of
# orientation and level (a re-share turns and scales every keypoint alike, a stranger's
# chance words point anywhere): docs/matching.md, "Votes that agree on a turn and a scale".
GEOMETRY_KNOWN = 0x80
ORIENTATIONS = 16
LEVEL_SHIFT = 4
LEVELS = 8  # ORB's default pyramid
# The bins of a shared word's (orientation, level) difference: level differences -7..7 and
# a spare bin, so that windows of 2 x 2 bins wrap on both axes; as many windows as bins.
LEVEL_BINS = 2 * LEVELS
AGREEMENT_WINDOWS = ORIENTATIONS * LEVEL_BINS
# A content box below this share of the picture gets keypoints of its own in a query.
TRIMMED_AREA = 0.8
# A query also looks for keypoints at this many times the working side: a collage tile or
# a pasted piece is a smaller part of the query than its original is of the stored
# picture, so its corners sit finer than ORB's pyramid (which only shrinks) reaches from
# WORK_SIDE (docs/matching.md, "Composites and collages").
ENLARGED = 2
# A query's pieces: the parts of the picture between flat lines (the gutters of an album
# grid or a collage, a page's background around its pictures), each brought to the working
# side on its own. A tile a third of the query's side holds its picture's corners at a
# third of their stored scale, where few survive ORB's pass over the whole query
# (docs/matching.md, "A view of the query's pieces"). A line is flat when its grey levels
# spread by less than PIECE_FLAT; a part narrower or shorter than PIECE_SIDE of the picture
# is a line of text or an icon; a part of PIECE_AREA of the picture or more is the picture
# itself (the other views see it); the MAX_PIECES largest parts share QUERY_FEATURES.
PIECE_FLAT = 4.0
PIECE_SIDE = 0.1
PIECE_AREA = 0.5
MAX_PIECES = 6

# Stored keypoints: magic, count, side, then the points and descriptors (an .npz before).
_KEYPOINTS_MAGIC = b"MCKP"
_KEYPOINTS_HEAD = struct.Struct("<4sII")

_ZIGZAG = sorted(((i, j) for i in range(9) for j in range(9)), key=lambda p: (p[0] + p[1], p[0]))
FINE_COEFFS = tuple(_ZIGZAG[1:65])  # the 64 lowest frequencies after the mean
COARSE_COEFFS = tuple(_ZIGZAG[1:33])  # the 32 lowest: they survive a shift of a tenth


@dataclass(frozen=True)
class Keypoints:
    points: np.ndarray  # (n, 2) float32, in pixels of a picture WORK_SIDE on its long side
    descriptors: np.ndarray  # (n, 32) uint8 ORB descriptors
    side: int  # long side of the picture the points are measured in
    # (n,) uint8 geometry bytes (GEOMETRY_KNOWN ...), None when unknown: only the index's
    # words use it, so stored keypoints' bytes do not hold it.
    geometry: np.ndarray | None = None

    def to_bytes(self) -> bytes:
        """A fixed layout read without parsing: header, float32 points, uint8 descriptors."""
        head = _KEYPOINTS_HEAD.pack(_KEYPOINTS_MAGIC, len(self), self.side)
        points = np.ascontiguousarray(self.points, dtype="<f4").tobytes()
        return head + points + np.ascontiguousarray(self.descriptors, dtype=np.uint8).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Keypoints:
        """Either layout: this one, or the .npz that rows stored before it hold."""
        if not data.startswith(_KEYPOINTS_MAGIC):
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return cls(npz["points"], npz["descriptors"], int(npz["side"]))
        _, count, side = _KEYPOINTS_HEAD.unpack_from(data)
        at = _KEYPOINTS_HEAD.size
        points = np.frombuffer(data, "<f4", 2 * count, at).reshape(count, 2)
        descriptors = np.frombuffer(data, np.uint8, 32 * count, at + 8 * count)
        return cls(points, descriptors.reshape(count, 32), side)

    def __len__(self) -> int:
        return len(self.descriptors)

    def strongest(self, count: int) -> Keypoints:
        geometry = None if self.geometry is None else self.geometry[:count]
        return Keypoints(self.points[:count], self.descriptors[:count], self.side, geometry)

    def word_geometry(self, limit: int | None = None) -> np.ndarray:
        """(n, WORD_TABLES) uint8: each of ``words(limit)``'s keypoint's geometry byte."""
        count = len(self.descriptors[:limit])
        if self.geometry is None:
            return np.zeros((count, WORD_TABLES), np.uint8)
        return np.repeat(self.geometry[:count, None], WORD_TABLES, axis=1)

    def words(self, limit: int | None = None) -> np.ndarray:
        """(n, WORD_TABLES) uint32 words of the first ``limit`` keypoints (the strongest).

        Table ``t``'s word is ``t * 2**WORD_BITS`` plus bits ``t * WORD_BITS`` on of the
        descriptor (little-endian), so that the tables share one range of posting lists.
        """
        head = np.zeros((len(self.descriptors[:limit]), 8), np.uint8)
        head[:] = self.descriptors[:limit, :8]
        return _cut_words(head.view("<u8")[:, 0])


def entry_words(words: np.ndarray) -> np.ndarray:
    """The index words of an entry's words part (``Fingerprint.entry``), of any layout."""
    return entry_postings(words)[0]


def entry_postings(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index words of an entry's words part and each word's keypoint's geometry byte
    (0, unknown, for the layouts before GEOMETRY_MARK)."""
    if len(words) >= 2 and words[0] == GEOMETRY_MARK:
        count = int(words[1])
        found = words[2 : 2 + WORD_TABLES * count]
        packed = words[2 + WORD_TABLES * count :].astype("<u4").view(np.uint8)[:count]
        return found, np.repeat(packed, WORD_TABLES)
    found = _old_entry_words(words)
    return found, np.zeros(len(found), np.uint8)


def _old_entry_words(words: np.ndarray) -> np.ndarray:
    if len(words) and words[0] == WORDS_MARK:
        return words[1:]
    pieces = words[: len(words) // _OLD_PIECES * _OLD_PIECES].reshape(-1, _OLD_PIECES)
    bits = np.zeros(len(pieces), np.uint64)
    for number in range(_OLD_PIECES):
        piece = (pieces[:, number] & 0xFFFF).astype(np.uint64)
        bits |= piece << np.uint64(16 * number)
    return _cut_words(bits).ravel()


def _cut_words(bits: np.ndarray) -> np.ndarray:
    """(n, WORD_TABLES) words of descriptors' first 64 bits (as uint64)."""
    shifts = np.arange(WORD_TABLES, dtype=np.uint64) * np.uint64(WORD_BITS)
    pieces = (bits[:, None] >> shifts) & np.uint64((1 << WORD_BITS) - 1)
    tables = np.arange(WORD_TABLES, dtype=np.uint64) << np.uint64(WORD_BITS)
    return (pieces + tables).astype(np.uint32)


@dataclass(frozen=True)
class Fingerprint:
    pixels: int  # first 64 bits of the SHA-256 of the RGB pixels and their size
    fine: tuple[int, int]  # 64-bit DCT hash of the whole picture, of its content box
    coarse: tuple[int, ...]  # 32-bit coarse DCT hash of each window of the content box
    informative: bool  # False for flat pictures: only an exact copy can match them
    content_box: tuple[int, int, int, int]  # in pixels of the fingerprinted picture
    keypoints: Keypoints

    def entry(self) -> bytes:
        """What the index loads of this picture: its record, then its keypoint words.

        The words part is GEOMETRY_MARK, the number of keypoints, then the strongest
        keypoints' words (``INDEXED_KEYPOINTS`` of them at most) and their geometry bytes,
        as little-endian uint32; an entry of a record alone (stored before words) has none,
        one of older words is read by ``entry_postings``.
        """
        found = self.keypoints.strongest(INDEXED_KEYPOINTS)
        geometry = found.word_geometry()[:, 0]
        packed = np.zeros(-(-len(geometry) // 4) * 4, np.uint8)
        packed[: len(geometry)] = geometry
        head = np.array([GEOMETRY_MARK, len(found)], "<u4").tobytes()
        words = found.words().astype("<u4").tobytes()
        return self.record() + head + words + packed.tobytes()

    def record(self) -> bytes:
        """The fixed-width bytes the index stores (see ``RECORD``)."""
        row = np.zeros(1, dtype=RECORD)
        row["pixels"] = self.pixels
        row["fine"] = self.fine
        row["coarse"] = self.coarse
        row["informative"] = self.informative
        return row.tobytes()


class Probe:
    """A picture looked for in the archive: its fingerprint and its mirror image's hashes.

    ``keypoints`` are the query's own (up to QUERY_FEATURES, of which the fingerprint keeps
    the strongest ORB_FEATURES); those of the mirror image, of the content box alone and of
    the picture enlarged are worked out when first needed.
    """

    def __init__(self, img: Image.Image):
        self.print, self.keypoints, work = _fingerprint(img)
        self._size = work.rgb.size
        self._luma = work.luma
        # The enlarged view starts from the picture as given (up to the working size of
        # ``media.pictures``), not from the reduced copy: the detail it looks for is there.
        self._large_luma = np.asarray(img.convert("L"))
        # The grey levels of the mirror image are those of the picture, mirrored: only the
        # content box needs the mirrored colours (its bands are found on a thumbnail).
        mirrored = np.ascontiguousarray(np.fliplr(work.grey))
        mirrored_box = _crop(mirrored, content_box(ImageOps.mirror(work.rgb)))
        self.mirror_fine = (fine_hash(mirrored), fine_hash(mirrored_box))
        # Views only a query has, never stored: the mirror image's windows (a mirrored crop),
        # the picture a page or screenshot holds (``picture_box``), quarter turns.
        self.mirror_coarse = coarse_hash(mirrored_box)
        self._picture = _picture_box(work.rgb, work.box)
        self.picture_fine = fine_hash(_crop(work.grey, self._picture))
        turned = (np.ascontiguousarray(np.rot90(work.grey, k)) for k in (1, -1))
        self.turned_fine = tuple(fine_hash(view) for view in turned)

    def complete(self) -> Probe:
        """The probe with every view worked out, as the search asks for them all.

        Intake calls it in the worker that decoded the picture, so that the parent, which
        searches for every worker's files in turn, does not; the grey copy is then let go
        (it would only be pickled back).
        """
        self.mirror_keypoints  # noqa: B018 - worked out and cached
        self.content_keypoints  # noqa: B018
        self.enlarged_keypoints  # noqa: B018
        self.piece_keypoints  # noqa: B018
        del self._luma, self._large_luma
        return self

    @cached_property
    def enlarged_keypoints(self) -> Keypoints:
        """Keypoints of the picture at ENLARGED times the working side, in working-side
        pixels: the finer corners of a smaller part (a collage tile, a pasted piece)."""
        found = _luma_keypoints(self._large_luma, QUERY_FEATURES, ENLARGED * WORK_SIDE)
        return Keypoints(found.points / ENLARGED, found.descriptors, WORK_SIDE, found.geometry)

    @cached_property
    def piece_keypoints(self) -> Keypoints | None:
        """Keypoints of each of the picture's pieces (``pieces``) brought to the working side,
        side by side in one set (each in its own piece's pixels: a fit finds the one that
        agrees, the others' are outliers); None when the picture is in one piece."""
        boxes = pieces(self._large_luma)
        if not boxes:
            return None
        features = max(MIN_KEYPOINTS, QUERY_FEATURES // len(boxes))
        found = [_luma_keypoints(_crop(self._large_luma, box), features) for box in boxes]
        return Keypoints(
            np.concatenate([f.points for f in found]),
            np.concatenate([f.descriptors for f in found]),
            WORK_SIDE,
            np.concatenate([_known(f) for f in found]),
        )

    @cached_property
    def mirror_keypoints(self) -> Keypoints:
        """Keypoints of the mirror image (a flipped re-share votes and is checked with them)."""
        return _luma_keypoints(np.fliplr(self._luma), QUERY_FEATURES)

    @cached_property
    def content_keypoints(self) -> Keypoints | None:
        """Keypoints of the content box alone, when it is a clearly smaller part (a screenshot).

        The content box of a page or an app frame is the picture it holds (``picture_box``).
        """
        box = self._picture
        area = (box[2] - box[0]) * (box[3] - box[1])
        if area >= TRIMMED_AREA * self._size[0] * self._size[1]:
            return None
        return _luma_keypoints(_crop(self._luma, box), QUERY_FEATURES)


@dataclass(frozen=True)
class _Work:
    """The reduced copy a picture is fingerprinted from, and what is read off it once."""

    rgb: Image.Image
    luma: np.ndarray  # its grey levels (Pillow's "L"), uint8
    box: tuple[int, int, int, int]  # its content box

    @cached_property
    def grey(self) -> np.ndarray:
        return self.luma.astype(np.float32)


def fingerprint(img: Image.Image) -> Fingerprint:
    """Fingerprint one decoded, upright RGB picture (see the module docstring)."""
    return _fingerprint(img)[0]


def _fingerprint(img: Image.Image) -> tuple[Fingerprint, Keypoints, _Work]:
    """The fingerprint, the keypoints a query looks with (those it keeps, and more) and
    the reduced copy they were made from (a query's other views start from it)."""
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    small = _reduced(rgb)
    # Grey levels are per pixel: those of a crop are the crop of the whole picture's.
    work = _Work(small, np.asarray(small.convert("L")), content_box(small))
    grey = np.ascontiguousarray(_crop(work.grey, work.box))  # its std sums as it always did
    found = _luma_keypoints(work.luma, QUERY_FEATURES)
    fingerprint = Fingerprint(
        pixels=pixel_digest(rgb),
        fine=(fine_hash(work.grey), fine_hash(grey)),
        coarse=tuple(coarse_hash(_window(grey, w)) for w in WINDOWS),
        informative=bool(grey.std() >= MIN_SPREAD),
        content_box=_scaled_box(work.box, small.size, rgb.size),
        keypoints=found.strongest(ORB_FEATURES),
    )
    return fingerprint, found, work


def probe(img: Image.Image) -> Probe:
    """Fingerprint a picture for a search, with its mirror image (flipped re-shares)."""
    return Probe(img)


def pixel_digest(img: Image.Image) -> int:
    """64 bits of the SHA-256 of the pixels: equal for the same picture in any container."""
    digest = hashlib.sha256(f"{img.width}x{img.height}:".encode())
    digest.update(img.tobytes())
    return int.from_bytes(digest.digest()[:8], "big")


def fine_hash(grey: np.ndarray) -> int:
    return _dct_hash(grey, FINE_COEFFS)


def coarse_hash(grey: np.ndarray) -> int:
    return _dct_hash(grey, COARSE_COEFFS)


def _dct_hash(grey: np.ndarray, coeffs: tuple[tuple[int, int], ...]) -> int:
    """pHash: the sign of low DCT frequencies against their median, one bit each."""
    small = cv2.resize(grey, (HASH_SIDE, HASH_SIDE), interpolation=cv2.INTER_AREA)
    dct = cv2.dct(small)
    values = np.array([dct[i, j] for i, j in coeffs])
    bits = values > np.median(values)
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def content_box(img: Image.Image) -> tuple[int, int, int, int]:
    """The picture once bands along its edges (captions, UI bars, borders) are cut away.

    From each edge, lines are cut while nearly all their pixels have the colour of the
    outermost line: the background of a caption or an app bar. Thin stretches of other
    lines (text, icons, a separator) are crossed when the band resumes after them.
    Top and bottom are cut first, then the sides of what is left.
    """
    small = img.copy()
    small.thumbnail((TRIM_SIDE, TRIM_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, dtype=np.int16)
    height, width = pixels.shape[:2]
    top, bottom = _band_depth(pixels), height - _band_depth(pixels[::-1])
    if bottom - top < MIN_CONTENT * height:
        return (0, 0, img.width, img.height)
    columns = pixels[top:bottom].transpose(1, 0, 2)
    left, right = _band_depth(columns), width - _band_depth(columns[::-1])
    if right - left < MIN_CONTENT * width:
        return (0, 0, img.width, img.height)
    return _scaled_box((left, top, right, bottom), small.size, img.size)


def pieces(luma: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes of the parts of a picture (grey levels) between flat lines, largest first.

    Rows whose grey levels barely vary cut the picture into bands, and columns likewise cut
    each band: an album grid's tiles, a collage's panels, the pictures of a page. Only parts
    of at least PIECE_SIDE of each side and under PIECE_AREA of the picture count, the
    MAX_PIECES largest of them.
    """
    height, width = luma.shape
    grey = luma.astype(np.float32)
    found = []
    for top, bottom in _unflat_runs(grey.std(axis=1), PIECE_SIDE * height):
        band = grey[top:bottom]
        for left, right in _unflat_runs(band.std(axis=0), PIECE_SIDE * width):
            if (right - left) * (bottom - top) < PIECE_AREA * width * height:
                found.append((left, top, right, bottom))
    found.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
    return found[:MAX_PIECES]


def _unflat_runs(spread: np.ndarray, least: float) -> list[tuple[int, int]]:
    """(start, stop) of each run of lines whose ``spread`` is PIECE_FLAT or more, at least
    ``least`` lines long."""
    edges = np.diff(np.concatenate([[0], (spread >= PIECE_FLAT).astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if b - a >= least]


def picture_box(img: Image.Image) -> tuple[int, int, int, int]:
    """The picture a page or a screenshot holds: its content box, peeled again and split.

    An app nests frames (a screen around a chat bubble around the photo, a page around a
    player), so the content box is taken again of what the last one left, each time from
    the colours of its own edges. A gutter across all of it in the colour of an edge peeled
    so far (the page between a player and the thumbnails beside it, between an article's
    photo and its sidebar) splits it, and the widest, then tallest, part is peeled on.
    Stops when nothing changes. A picture held keeps at least ``PICTURE_SHARE`` of the
    first content box's width or height; a smaller one is a flat stretch of a photo or a
    graphic peeled away, and the first content box stands.
    """
    return _picture_box(img, content_box(img))


def _picture_box(img: Image.Image, outer: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``picture_box`` of a picture whose content box is ``outer``."""
    box = (0, 0, img.width, img.height)
    page: list[np.ndarray] = []
    first = None
    for round_ in range(PEEL_ROUNDS):
        part = img.crop(box) if round_ else img
        page += _edge_colours(part)
        inner = _widest_part(part, content_box(part) if round_ else outer, np.array(page))
        if inner == (0, 0, part.width, part.height):
            break
        box = (box[0] + inner[0], box[1] + inner[1], box[0] + inner[2], box[1] + inner[3])
        first = first or box
    if first is None:
        return box
    wide = box[2] - box[0] >= PICTURE_SHARE * (first[2] - first[0])
    tall = box[3] - box[1] >= PICTURE_SHARE * (first[3] - first[1])
    return box if wide or tall else first


def _edge_colours(img: Image.Image) -> list[np.ndarray]:
    """The median colour of each of the four outermost lines (what a page's background is)."""
    pixels = np.asarray(img)
    edges = (pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1])
    return [np.median(edge.astype(np.int16), axis=0) for edge in edges]


def _widest_part(
    img: Image.Image, box: tuple[int, int, int, int], page: np.ndarray
) -> tuple[int, int, int, int]:
    """``box`` cut down to its widest stretch between gutters of a ``page`` colour, then to
    its tallest."""
    small = img.crop(box)
    small.thumbnail((TRIM_SIDE, TRIM_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, dtype=np.int16)
    left, right = _between_gutters(pixels.transpose(1, 0, 2), page)
    top, bottom = _between_gutters(pixels[:, left:right], page)
    inner = _scaled_box((left, top, right, bottom), small.size, (box[2] - box[0], box[3] - box[1]))
    return (box[0] + inner[0], box[1] + inner[1], box[0] + inner[2], box[1] + inner[3])


def _between_gutters(lines: np.ndarray, page: np.ndarray) -> tuple[int, int]:
    """The longest run of ``lines`` between lines of a ``page`` colour, as (start, stop)."""
    gutter = np.zeros(len(lines), dtype=bool)
    planes = _planes(lines)
    for colour in page:
        gutter |= _near(planes, colour).mean(axis=1) >= GUTTER_SHARE
    runs, start = [], 0
    for i, is_gutter in enumerate([*gutter, True]):
        if is_gutter:
            if i > start:
                runs.append((start, i))
            start = i + 1
    if not runs:
        return 0, len(lines)
    first, stop = max(runs, key=lambda run: run[1] - run[0])
    if stop - first < MIN_CONTENT * len(lines):
        return 0, len(lines)
    return first, stop


def _band_depth(lines: np.ndarray) -> int:
    """How many lines, from ``lines[0]`` inwards, belong to a band of lines[0]'s colour."""
    colour = np.median(lines[0], axis=0)
    band = _near(_planes(lines), colour).mean(axis=1) >= BAND_SHARE
    gap = max(1, round(BAND_GAP * len(lines)))
    depth, i = 0, 0
    while i < len(band):
        if band[i]:
            depth, i = i + 1, i + 1
            continue
        resumes = np.flatnonzero(band[i : i + gap + 1])
        if len(resumes) == 0:
            break
        i += int(resumes[0])
    return depth


def _planes(pixels: np.ndarray) -> np.ndarray:
    """Lines x pixels x channels (int16) as one contiguous plane per channel."""
    return np.ascontiguousarray(np.moveaxis(pixels, -1, 0))


def _near(planes: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Whether each pixel of ``planes`` (``_planes``) is within BAND_TOLERANCE of
    ``colour`` in every channel.

    ``colour`` is a median (a whole or half level), so the test is one of whole levels:
    ``low <= level <= low + span``, which one unsigned comparison makes.
    """
    low = np.ceil(colour - BAND_TOLERANCE).astype(np.int16)
    span = (np.floor(colour + BAND_TOLERANCE) - low).astype(np.uint16)
    near = (planes[0] - low[0]).view(np.uint16) <= span[0]
    for plane, least, width in zip(planes[1:], low[1:], span[1:], strict=True):
        near &= (plane - least).view(np.uint16) <= width
    return near


def keypoints(img: Image.Image, features: int = ORB_FEATURES) -> Keypoints:
    """ORB keypoints of a picture brought to WORK_SIDE (small pictures are enlarged).

    The first INDEXED_KEYPOINTS are taken in turn from every pyramid level, the others
    strongest first (``_indexed_first``): the index keeps the first ones' words.
    """
    return _luma_keypoints(np.asarray(img.convert("L")), features)


def _luma_keypoints(luma: np.ndarray, features: int, side: int = WORK_SIDE) -> Keypoints:
    """``keypoints`` of a picture given by its grey levels (uint8, height x width), brought
    to ``side`` on its long side."""
    height, width = luma.shape
    scale = side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if min(size) < ORB_MIN_SIDE:
        return _no_keypoints()
    if size == (width, height):
        grey = np.ascontiguousarray(luma)  # what Pillow's resize to its own size gives
    else:
        grey = np.asarray(Image.fromarray(luma).resize(size, Image.Resampling.BILINEAR))
    descriptors = None
    for threshold in FAST_THRESHOLDS:
        orb = cv2.ORB.create(nfeatures=features, fastThreshold=threshold)
        found, descriptors = orb.detectAndCompute(grey, None)
        if descriptors is not None and len(found) >= MIN_KEYPOINTS:
            break
    if descriptors is None:
        return _no_keypoints()
    levels = np.array([k.octave for k in found], dtype=np.int64)
    order = _indexed_first(np.array([k.response for k in found], dtype=np.float64), levels)
    points = np.array([found[i].pt for i in order], dtype=np.float32).reshape(-1, 2)
    angles = np.array([found[i].angle for i in order], dtype=np.float64)
    return Keypoints(points, descriptors[order], side, _geometry(angles, levels[order]))


def _geometry(angles: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Geometry bytes of keypoints of ORB ``angles`` (degrees) and pyramid ``levels``."""
    turn = np.floor(angles * (ORIENTATIONS / 360.0)).astype(np.int64) % ORIENTATIONS
    level = np.clip(levels, 0, LEVELS - 1) << LEVEL_SHIFT
    return (GEOMETRY_KNOWN | level | turn).astype(np.uint8).reshape(-1)


def _known(found: Keypoints) -> np.ndarray:
    return np.zeros(len(found), np.uint8) if found.geometry is None else found.geometry


def _indexed_first(responses: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Keypoint order: first the INDEXED_KEYPOINTS whose words the index keeps, taken in
    turn from every pyramid level (the strongest of each level, then the second...), then
    the others, strongest first.

    By strength alone nearly half of them came from ORB's finest level (60 of 128 on the
    corpus photos, 20 from the four coarsest): a copy shrunk to a half or a third (an album
    tile, a photo in a page or a story) has no corners at those fine scales, so only a
    dozen of its stored words could ever vote (docs/matching.md, "Pages a browser drew").
    """
    by_strength = np.argsort(-responses, kind="stable")
    level = levels[by_strength]
    rank = np.zeros(len(level), np.int64)
    for one in np.unique(level):
        at = level == one
        rank[at] = np.arange(int(at.sum()))
    turns = np.lexsort((level, rank))[:INDEXED_KEYPOINTS]  # positions in by_strength
    rest = np.ones(len(level), bool)
    rest[turns] = False
    return np.concatenate([by_strength[turns], by_strength[rest]])


def _no_keypoints() -> Keypoints:
    return Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), WORK_SIDE)


def _crop(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    left, top, right, bottom = box
    return pixels[top:bottom, left:right]


def _reduced(img: Image.Image) -> Image.Image:
    if max(img.size) <= WORK_SIDE:
        return img
    small = img.copy()
    small.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
    return small


def _window(grey: np.ndarray, window: tuple[float, float, float, float]) -> np.ndarray:
    h, w = grey.shape
    x0, y0, x1, y1 = window
    top, left = round(y0 * h), round(x0 * w)
    return grey[top : max(round(y1 * h), top + 1), left : max(round(x1 * w), left + 1)]


def _scaled_box(
    box: tuple[int, int, int, int], src: tuple[int, int], dst: tuple[int, int]
) -> tuple[int, int, int, int]:
    fx, fy = dst[0] / src[0], dst[1] / src[1]
    left, top, right, bottom = box
    return (round(left * fx), round(top * fy), round(right * fx), round(bottom * fy))
