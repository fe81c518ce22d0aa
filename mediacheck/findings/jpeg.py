"""JPEG compression signals: quantisation tables, quality, and double compression."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.fft import dctn

from mediacheck.findings.base import INFO, NOTICE, Finding, FindingContext
from mediacheck.findings.pixels import JPEG_FORMATS, DecodedPicture, decoded_picture

# ITU-T T.81 Annex K tables (natural order), which libjpeg scales by quality.
STANDARD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
STANDARD_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip

# Low and middle frequencies (row, column) in zigzag order: they hold enough
# non-zero coefficients for a histogram to mean something.
DOUBLE_JPEG_MODES = (
    (0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0), (4, 0),
    (3, 1), (2, 2), (1, 3), (0, 4), (0, 5), (1, 4), (2, 3), (3, 2), (4, 1), (5, 0),
)  # fmt: skip
HISTOGRAM_BINS = 30
# First steps up to this many times the last one (and at most 255) are tried.
MAX_STEP_RATIO = 8
MAX_STEP = 255
# Forbidden bins holding less than this share of what a smooth histogram
# would put there count as gaps; a single compression stays near 1.
GAP_RATIO = 0.3
# Fewer coefficients than this expected in the gaps cannot show they are empty.
MIN_EXPECTED = 30
MIN_MODES = 3
# The centre of the picture, aligned to the 8x8 grid, is enough for statistics.
ANALYSIS_SIZE = 1024
# Fewer blocks than this give histograms too noisy to judge.
MIN_BLOCKS = 1024
# The analysis needs the full-resolution grid; beyond this the decode costs too much.
MAX_DECODE_PIXELS = 64_000_000


def quality_tables(path: Path) -> dict[int, list[int]]:
    with Image.open(path) as img:
        if img.format not in JPEG_FORMATS:
            return {}
        return {int(k): list(v) for k, v in getattr(img, "quantization", {}).items()}


def scaled_table(table: tuple[int, ...], quality: int) -> list[int]:
    """The table libjpeg writes for ``quality`` (baseline: steps capped at 255)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (v * scale + 50) // 100)) for v in table]


def estimate_quality(tables: dict[int, list[int]]) -> tuple[int, bool]:
    """The libjpeg quality whose tables come closest, and whether they match exactly."""
    # Table 0 is luminance by convention; 1 and any further ones are chrominance.
    errors = sum(
        np.abs(np.array(table) - _scaled_tables(0 if k == 0 else 1)).sum(axis=1)
        for k, table in tables.items()
    )
    quality = int(np.argmin(errors)) + 1  # the lowest of equally close qualities
    return quality, int(errors[quality - 1]) == 0


@cache
def _scaled_tables(reference: int) -> np.ndarray:
    """The tables libjpeg writes at each quality 1..100, one row each."""
    table = (STANDARD_LUMA, STANDARD_CHROMA)[reference]
    return np.array([scaled_table(table, quality) for quality in range(1, 101)])


def check_quality(ctx: FindingContext) -> list[Finding]:
    if ctx.mime != "image/jpeg":
        return []
    tables = quality_tables(ctx.path)
    if not tables or any(len(t) != 64 for t in tables.values()):
        return []
    quality, standard = estimate_quality(tables)
    if standard:
        kind = (
            f"the standard settings for quality {quality} (the tables of the common libjpeg "
            "library), which most editing software, apps and platforms use when they save a "
            "picture"
        )
    else:
        kind = (
            f"its own settings (close to standard quality {quality}), as camera firmware and "
            "some editors such as Photoshop do"
        )
    message = (
        f"The JPEG was compressed with {kind}. This hints at which kind of program saved the "
        "file last; it cannot show whether the content was changed."
    )
    evidence = {
        "estimated_quality": quality,
        "standard_tables": standard,
        "tables": {str(k): v for k, v in tables.items()},
    }
    return [Finding("jpeg-quality", INFO, message, evidence)]


def check_double_compression(ctx: FindingContext) -> list[Finding]:
    if ctx.mime != "image/jpeg":
        return []
    analysis = double_compression(decoded_picture(ctx))
    if analysis is None or analysis["modes_with_evidence"] < MIN_MODES:
        return []
    message = (
        "The picture was probably saved as a JPEG at least twice: "
        f"{analysis['modes_with_evidence']} of {analysis['modes_tested']} frequency "
        "histograms have the regular empty gaps left when a JPEG saved at a lower quality "
        "is saved again at a higher one. Re-saving happens on every platform and in every "
        "editor, so this shows the file is not the first JPEG of the picture, not that its "
        "content was altered. A first save at higher quality leaves no such gaps, so their "
        "absence proves nothing."
    )
    return [Finding("double-jpeg", NOTICE, message, analysis)]


def double_compression(picture: DecodedPicture) -> dict | None:
    """Look in each frequency's histogram for the gaps a coarser first quantisation leaves.

    A coefficient quantised first with step q1 and then with a smaller step q2
    can only take the values round(m * q1 / q2): the other bins stay empty,
    where a single compression fills them as smoothly as their neighbours.
    """
    tables = picture.quantization
    if 0 not in tables or len(tables[0]) != 64:
        return None
    if picture.width * picture.height > MAX_DECODE_PIXELS:
        return None
    table = np.array(tables[0]).reshape(8, 8)
    luma = _centre(picture.luma).astype(np.float64)
    if luma.size < MIN_BLOCKS * 64:
        return None
    coefficients = _block_dct(luma)
    evidence = {}
    for row, col in DOUBLE_JPEG_MODES:
        step = int(table[row, col])
        found = _gaps(_histogram(coefficients[:, row, col] / step), step)
        if found is not None:
            evidence[f"{row},{col}"] = {"last_step": step, **found}
    return {
        "modes_tested": len(DOUBLE_JPEG_MODES),
        "modes_with_evidence": len(evidence),
        "strength": round(1 - float(np.mean([e["gap_ratio"] for e in evidence.values()])), 3)
        if evidence
        else 0.0,
        "modes": evidence,
    }


def _centre(luma: np.ndarray) -> np.ndarray:
    height, width = luma.shape
    top = ((height - min(height, ANALYSIS_SIZE)) // 2) // 8 * 8
    left = ((width - min(width, ANALYSIS_SIZE)) // 2) // 8 * 8
    return luma[top : top + ANALYSIS_SIZE, left : left + ANALYSIS_SIZE]


def _block_dct(luma: np.ndarray) -> np.ndarray:
    # scipy's DCT and no other: many coefficients of integer pixels lie exactly halfway
    # between two bins, so another rounding of the same sums would move counts.
    height, width = luma.shape[0] // 8 * 8, luma.shape[1] // 8 * 8
    blocks = luma[:height, :width].reshape(height // 8, 8, width // 8, 8).swapaxes(1, 2)
    return dctn(blocks.reshape(-1, 8, 8) - 128.0, axes=(1, 2), norm="ortho")


def _histogram(quantised: np.ndarray) -> np.ndarray:
    """Counts of |round(value)| for 0..HISTOGRAM_BINS (larger values dropped)."""
    values = np.abs(np.round(quantised)).astype(np.int64)
    return np.bincount(values[values <= HISTOGRAM_BINS], minlength=HISTOGRAM_BINS + 2)


def _gaps(counts: np.ndarray, step: int) -> dict | None:
    """The coarser first step whose forbidden bins are emptiest, if clearly empty.

    Every candidate first step is one row of the arrays below; the earliest of
    the emptiest wins.
    """
    nonzero = np.nonzero(counts[1 : HISTOGRAM_BINS + 1])[0]
    if not len(nonzero):
        return None
    last = int(nonzero[-1]) + 1
    firsts = np.arange(step + 1, min(MAX_STEP, MAX_STEP_RATIO * step) + 1)
    if not len(firsts):
        return None
    ratios = _gap_ratios(counts, last, firsts, step)
    best = int(np.argmin(ratios))
    if not ratios[best] < GAP_RATIO:  # also when no first step could be judged (inf)
        return None
    return {"first_step": int(firsts[best]), "gap_ratio": round(float(ratios[best]), 3)}


def _gap_ratios(counts: np.ndarray, last: int, firsts: np.ndarray, step: int) -> np.ndarray:
    """Counts in forbidden bins over what a smooth histogram would put there, per first step.

    Bins 1..last are judged; inf where a first step cannot be judged.
    """
    multiples = np.arange(HISTOGRAM_BINS + 1)
    landing = np.round(firsts[:, None] * multiples[None, :] / step).astype(np.int64)
    allowed = np.zeros((len(firsts), HISTOGRAM_BINS + 2), bool)
    rows = np.broadcast_to(np.arange(len(firsts))[:, None], landing.shape)
    inside = landing <= HISTOGRAM_BINS + 1
    allowed[rows[inside], landing[inside]] = True
    bins = np.arange(HISTOGRAM_BINS + 2)
    judged = (bins >= 1) & (bins <= last)
    forbidden = judged & ~allowed
    kept = judged & allowed
    sparse = firsts >= 2 * step
    # Long empty runs (sparse): compare the mean forbidden bin with the mean allowed bin.
    kept_count = kept.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kept_mean = (kept * counts).sum(axis=1) / kept_count
    sparse_expected = kept_mean * forbidden.sum(axis=1)
    # Isolated empty bins: a smooth (log-linear) histogram puts the geometric mean of
    # the two neighbours there. Not next to bin 0: flat areas pile up zeros far beyond
    # the smooth curve, which would make bin 1 look empty.
    neighbours = np.zeros(HISTOGRAM_BINS + 2)
    neighbours[1:-1] = np.sqrt(counts[:-2] * counts[2:])
    isolated = forbidden & (bins >= 2)
    # A running sum adds the bins in order, as a plain sum of them would.
    dense_expected = np.cumsum(np.where(isolated, neighbours, 0.0), axis=1)[:, -1]
    expected = np.where(sparse, sparse_expected, dense_expected)
    empty = np.where(sparse[:, None], forbidden, isolated)
    found = (empty * counts).sum(axis=1)
    judgeable = forbidden.any(axis=1) & (~sparse | (kept_count > 0)) & (expected >= MIN_EXPECTED)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(judgeable, found / expected, np.inf)
