"""Whether a picture's pixels went through JPEG, which is what gives error level analysis a meaning.

ELA re-saves the picture as a JPEG and shows what changes: on a picture that
never was a JPEG (a screenshot saved as PNG, a render) it is a dark picture
that says nothing. JPEG files and JPEG-compressed TIFFs carry the history in
their format. Other pictures carry it only in their pixels, in two ways:

- the block grid: JPEG compresses 8x8 blocks independently, so a decoded
  JPEG differs a little more between neighbouring pixels across block edges
  than inside blocks, every 8 pixels, in both directions;
- the quantisation lattice: each block's DCT coefficients stay close to
  multiples of the steps JPEG divided them by.

Both are needed. A resized JPEG can keep a grid (a 2x reduction turns the
16-pixel colour blocks into 8-pixel ones) and HEIF, AVIF and WebP have an
8-pixel grid of their own (their codec's blocks and deblocking filter), but
neither keeps the lattice: the resize mixes the blocks, and those codecs
quantise a prediction residual, not the pixels' DCT. The grid says where the
blocks are, which the lattice needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.fft import dctn

from mediacheck.findings.base import INFO, Finding
from mediacheck.findings.pixels import JPEG_FORMATS, decode
from mediacheck.media import pictures as imaging

BLOCK = 8
# The centre of the picture, aligned to the block grid, is enough for statistics:
# this much for the grid, half as much across for the lattice (16,384 blocks).
ANALYSIS_SIDE = 2048
LATTICE_SIDE = 1024
MIN_SIDE = 64
# Differences beyond this are edges; clipped, they cannot outweigh the grid.
CLIP = 32.0
# The strongest of the 8 positions must stand out from the other 7 (z score)
# and beat the second one by a share, across columns and across rows alike,
# and the two together must be clear. Loose on purpose: the lattice decides,
# and screenshots of text, which can show a lattice-like pattern, stay under.
MIN_Z = 2.5
MIN_Z_SUM = 7.0
MIN_LEAD = 0.005
# Low frequencies (row, column) of the 8x8 DCT: they hold enough non-zero
# coefficients in any photo to show a lattice.
LATTICE_MODES = ((0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1))
# Steps of 1 (JPEG quality 95 and above) drown in the rounding of the decoded
# pixels: such pictures show no lattice and get no ELA picture.
LATTICE_STEPS = range(2, 33)
LATTICE_SPAN = 8  # multiples of the step looked at, from the first one
MIN_COEFFICIENTS = 300
# Coefficients within a quarter step of a multiple, against those within a
# quarter step of a half-multiple: about 1 without a lattice (at most 1.5 on
# resized photos, 2.75 on text in screenshots), 4.8 and more after JPEG at
# quality 90 or lower (measured by scripts/bench_findings.py).
LATTICE_RATIO = 3.0
MIN_LATTICE_MODES = 3
# TIFF compressions that are JPEG inside.
JPEG_TIFF_COMPRESSIONS = ("jpeg", "tiff_jpeg")


@dataclass(frozen=True)
class JpegHistory:
    carried: bool  # the pixels went through JPEG: ELA means something
    how: str  # "jpeg-file", "jpeg-compressed" (TIFF), "pixels" or "none"
    format: str  # the picture's format as Pillow names it (for a raw, its preview's)
    grid: dict[str, Any] | None = None  # the block-grid measurement, when made


def jpeg_history(path: Path, luma: np.ndarray | None = None) -> JpegHistory:
    """Whether the picture at ``path`` went through JPEG, from its format or its pixels.

    ``luma`` is the picture's full-size luminance when the caller has decoded it
    already; otherwise a picture that is not a JPEG is decoded here.
    """
    with imaging.open_image(path) as img:
        name = str(img.format or "unknown")
        compression = img.info.get("compression")
    if name in JPEG_FORMATS:
        return JpegHistory(True, "jpeg-file", name)
    if name == "TIFF" and compression in JPEG_TIFF_COMPRESSIONS:
        return JpegHistory(True, "jpeg-compressed", name)
    grid = block_grid(np.asarray(decode(path, "L")) if luma is None else luma)
    return JpegHistory(grid["found"], "pixels" if grid["found"] else "none", name, grid)


def block_grid(luma: np.ndarray) -> dict[str, Any]:
    """The 8x8 grid and the quantisation lattice of an earlier JPEG compression, if there are."""
    height, width = luma.shape
    if min(height, width) < MIN_SIDE:
        return {
            "found": False,
            "reason": "too small",
            "columns": None,
            "rows": None,
            "lattice": None,
        }
    top = ((height - min(height, ANALYSIS_SIDE)) // 2) // BLOCK * BLOCK
    left = ((width - min(width, ANALYSIS_SIDE)) // 2) // BLOCK * BLOCK
    centre = luma[top : top + ANALYSIS_SIDE, left : left + ANALYSIS_SIDE].astype(np.float32)
    columns = _phases(np.minimum(np.abs(np.diff(centre, axis=1)), CLIP).mean(axis=0))
    rows = _phases(np.minimum(np.abs(np.diff(centre, axis=0)), CLIP).mean(axis=1))
    axes = (columns, rows)
    grid = all(d["z"] >= MIN_Z and d["lead"] >= MIN_LEAD for d in axes)
    grid = grid and sum(d["z"] for d in axes) >= MIN_Z_SUM
    aligned = centre[rows["offset"] :, columns["offset"] :][:LATTICE_SIDE, :LATTICE_SIDE]
    lattice = _lattice(aligned.astype(np.float64)) if grid else None
    if not grid:
        reason: str | None = "no block grid"
    elif len(lattice or {}) < MIN_LATTICE_MODES:
        reason = "no quantisation lattice"
    else:
        reason = None
    return {
        "found": reason is None,
        "reason": reason,
        "columns": columns,
        "rows": rows,
        "lattice": lattice,
    }


def _lattice(luma: np.ndarray) -> dict[str, dict[str, float]]:
    """The frequencies whose DCT coefficients cluster on multiples of a step, and the step."""
    height, width = luma.shape[0] // BLOCK * BLOCK, luma.shape[1] // BLOCK * BLOCK
    blocks = luma[:height, :width].reshape(height // BLOCK, BLOCK, width // BLOCK, BLOCK)
    blocks = blocks.swapaxes(1, 2).reshape(-1, BLOCK, BLOCK) - 128.0
    coefficients = dctn(blocks, axes=(1, 2), norm="ortho")
    found = {}
    for row, col in LATTICE_MODES:
        step, ratio = _best_step(np.abs(coefficients[:, row, col]))
        if ratio >= LATTICE_RATIO:
            found[f"{row},{col}"] = {"step": step, "ratio": round(ratio, 2)}
    return found


def _best_step(values: np.ndarray) -> tuple[int, float]:
    best = (0, 0.0)
    for step in LATTICE_STEPS:
        near = values[(values >= step / 2) & (values < (LATTICE_SPAN + 0.5) * step)]
        if len(near) < MIN_COEFFICIENTS:
            continue
        fraction = (near / step) % 1.0
        on = int(np.count_nonzero((fraction < 0.25) | (fraction >= 0.75)))
        ratio = on / max(1, len(near) - on)
        if ratio > best[1]:
            best = (step, ratio)
    return best


def _phases(profile: np.ndarray) -> dict[str, Any]:
    """How far the strongest of the 8 positions between pixels stands out from the others."""
    usable = len(profile) // BLOCK * BLOCK
    means = profile[:usable].reshape(-1, BLOCK).mean(axis=0)
    phase = int(np.argmax(means))
    rest = np.delete(means, phase)
    spread = float(rest.std())
    z = (float(means[phase]) - float(rest.mean())) / spread if spread > 0 else 0.0
    lead = float(means[phase]) / float(rest.max()) - 1 if rest.max() > 0 else 0.0
    # The difference at ``phase`` is between pixels phase and phase + 1 of each block.
    return {"offset": (phase + 1) % BLOCK, "z": round(z, 2), "lead": round(lead, 4)}


def ela_not_shown(history: JpegHistory) -> Finding:
    """Why a picture gets no ELA picture: its pixels show no JPEG history."""
    if history.grid and history.grid["reason"] == "too small":
        why = f"this {history.format} picture is too small to tell whether it went through JPEG"
    else:
        why = f"this {history.format} picture shows no trace of an earlier JPEG compression"
    message = (
        f"No error level analysis picture is shown: {why}, and error level analysis only "
        "means something for pictures that went through JPEG. A JPEG saved at a very high "
        "quality and then converted can also look like this."
    )
    evidence = {"format": history.format, "reason": "no-jpeg-history", "grid": history.grid}
    return Finding("ela-not-shown", INFO, message, evidence)
