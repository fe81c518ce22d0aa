"""Copy-move (clone) detection: parts of a picture that are copies of other parts of it.

A patch of smoke, debris or crowd copied over something else is a common edit. Its copy
keeps the patch's local texture, so SIFT keypoints inside it find their twins elsewhere in
the same picture, and all those twins agree on one geometric move (a shift, slightly
scaled or rotated). Natural pictures also repeat (bricks, tiles, windows, a crowd), but
repeated structure matches many places equally well, which the generalised ratio test
(g2NN) throws out, and what is left rarely agrees on one move over a compact area.

The work is at a fixed resolution (WORK_SIDE), so a 12 MP photo costs what a 1 MP one
does; the decode is reduced in the JPEG decoder itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from mediacheck.findings.base import NOTICE, WARNING, Finding, FindingContext
from mediacheck.findings.pixels import decode
from mediacheck.media.pictures import open_image

# Long side of the picture the keypoints are found on: larger pictures are reduced to it,
# smaller ones enlarged (SIFT then finds far more details in them).
WORK_SIDE = 1024
MIN_SIDE = 160  # pictures with a smaller short side have too few details to tell anything
MAX_KEYPOINTS = 4000
GRID = 8  # the picture is cut into GRID x GRID parts, each keeping its strongest keypoints
CONTRAST_THRESHOLD = 0.01  # below OpenCV's 0.04: low-texture areas need keypoints too
BLOCK = 1024  # descriptors compared at once: a block x keypoints matrix of similarities
NEIGHBOURS = 6  # nearest descriptors looked at per keypoint (g2NN)
GROUP = 64  # columns of similarities whose maximum is taken at once in the nearest search
# RootSIFT distance of a copy's keypoints to their twins: at most 0.35 after a JPEG save
# at quality 70 (the benchmark's forgeries); farther descriptors are never twins.
MAX_DISTANCE = 0.45
G2NN_RATIO = 0.6
NEAR_FRACTION = 0.02  # twins closer than this share of the long side are the same spot
MIN_INLIERS = 8
INLIER_ERROR = 3.0  # pixels at the working size
MAX_ROTATION = 30.0  # degrees; the tested range is 15
SCALE_RANGE = (0.7, 1.45)  # the tested range is 0.8-1.2
MIN_SHIFT_FRACTION = 0.04  # of the long side: nearer twins are one texture
MAX_REGION_FRACTION = 0.3  # of the area: a copy covering more is a repeated scene
MIN_REGION_FRACTION = 0.004  # of the area: smaller matches are repeated words or marks
MIN_DENSITY = 0.2  # matched keypoints per keypoint in the smaller region
STRONG_INLIERS = 40
RANSAC_ROUNDS = 400
MAX_CLUSTERS = 3
REPORT_SIDE = 1280  # the marked picture, for people to look at
IMAGE_NAME = "finding-copy-move.jpg"
COLOURS = ((255, 64, 64), (64, 160, 255), (255, 200, 0))


@dataclass(frozen=True)
class Region:
    """A box in the full picture's pixels: left, top, width, height."""

    left: int
    top: int
    width: int
    height: int

    def as_list(self) -> list[int]:
        return [self.left, self.top, self.width, self.height]


@dataclass(frozen=True)
class CopiedRegion:
    """One area and the area it matches, with the move that maps the first onto the second."""

    first: Region
    second: Region
    matches: int
    density: float
    shift: float  # pixels of the full picture, centre to centre
    scale: float
    rotation: float  # degrees
    first_points: np.ndarray  # matched keypoints at the working size, N x 2
    second_points: np.ndarray


@dataclass(frozen=True)
class CopyMoveResult:
    regions: list[CopiedRegion]
    keypoints: int
    work_size: tuple[int, int]


def check_copy_move(ctx: FindingContext) -> list[Finding]:
    if ctx.kind != "image":
        return []
    picture = decode(ctx.path, "RGB", REPORT_SIDE)  # reduced in the JPEG decoder
    with open_image(ctx.path) as original:
        full_size = original.size
    gray = np.asarray(picture.convert("L"))
    if min(gray.shape) < MIN_SIDE:
        return []
    result = detect(gray, full_size)
    if not result.regions:
        return []
    ctx.derived_dir.mkdir(parents=True, exist_ok=True)
    shown = _upright(marked(picture, result), ctx.summary.get("orientation"))
    shown.save(ctx.derived_dir / IMAGE_NAME, "JPEG", quality=88)
    return [_finding(result)]


def detect(gray: np.ndarray, full_size: tuple[int, int] | None = None) -> CopyMoveResult:
    """Copied areas of a greyscale picture of ``full_size`` pixels (width, height).

    ``gray`` may be the picture at any size: it is reduced to WORK_SIDE first. The
    regions' boxes are in the pixels of ``full_size`` (by default the size of ``gray``).
    """
    full = full_size or (gray.shape[1], gray.shape[0])
    gray = working(gray)
    work_size = (gray.shape[1], gray.shape[0])
    factor = full[0] / work_size[0]
    points, sizes, angles, descriptors = _keypoints(gray)
    pairs = _plausible(_twins(points, descriptors, max(work_size)), sizes, angles)
    regions = [_region(cluster, points, factor) for cluster in _clusters(pairs, points, gray.shape)]
    kept = [region for region in regions if _compact(region, gray.shape)]
    return CopyMoveResult(kept, len(points), work_size)


def working(gray: np.ndarray) -> np.ndarray:
    """The picture the keypoints are found on: WORK_SIDE on its long side, levels stretched."""
    height, width = gray.shape[:2]
    scale = WORK_SIDE / max(width, height)
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        smaller = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        gray = cv2.resize(gray, size, interpolation=smaller)
    return _stretched(gray)


def _stretched(gray: np.ndarray) -> np.ndarray:
    """Grey levels stretched to the full range: a dark or hazy photo has texture too."""
    low, high = np.percentile(gray, (1, 99))
    if high - low < 1 or (low <= 2 and high >= 253):
        return gray
    table = np.clip((np.arange(256) - low) * 255.0 / (high - low), 0, 255).astype(np.uint8)
    return cv2.LUT(gray, table)


def _keypoints(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sift = cv2.SIFT.create(contrastThreshold=CONTRAST_THRESHOLD)
    found, descriptors = sift.compute(gray, _spread(sift.detect(gray, None), gray.shape))
    if descriptors is None or len(found) < MIN_INLIERS * 2:
        empty = np.zeros((0, 2), np.float32)
        return empty, np.zeros(0), np.zeros(0), np.zeros((0, 128), np.float32)
    points = np.asarray(cv2.KeyPoint.convert(found))  # each k.pt, float32 as stored
    sizes = np.array([k.size for k in found], np.float32)
    angles = np.array([k.angle for k in found], np.float32)
    # RootSIFT: Hellinger distance instead of Euclidean, which separates twins better.
    descriptors = descriptors / (descriptors.sum(axis=1, keepdims=True) + 1e-7)
    descriptors = np.sqrt(descriptors)
    descriptors /= np.linalg.norm(descriptors, axis=1, keepdims=True) + 1e-7
    return points, sizes, angles, descriptors.astype(np.float32)


def _spread(found: Sequence[cv2.KeyPoint], shape: tuple[int, ...]) -> list[cv2.KeyPoint]:
    """At most MAX_KEYPOINTS, the strongest of each part of the picture.

    Taking the strongest of the whole picture would leave none in its quiet parts, where
    a copied patch of sky or smoke has only faint texture.
    """
    if len(found) <= MAX_KEYPOINTS:
        return list(found)
    height, width = shape[:2]
    # The same double-precision arithmetic and truncation as int(k.pt[1] * GRID / height),
    # without a Python loop over every candidate.
    where = np.asarray(cv2.KeyPoint.convert(found), np.float64)
    rows = (where[:, 1] * GRID / height).astype(np.int64)
    cells = rows * GRID + (where[:, 0] * GRID / width).astype(np.int64)
    response = np.array([k.response for k in found])
    order = np.lexsort((-response, cells))
    sorted_cells = cells[order]
    starts = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.arange(len(order)) - starts
    counts = np.bincount(cells, minlength=GRID * GRID)
    quota = 1
    while np.minimum(counts, quota + 1).sum() <= MAX_KEYPOINTS:
        quota += 1
    return [found[i] for i in order[rank < quota]]


def _twins(points: np.ndarray, descriptors: np.ndarray, side: int) -> np.ndarray:
    """Pairs (i, j), i < j, of keypoints whose descriptors pass the g2NN ratio test.

    g2NN: a keypoint's nearest descriptors d1 <= d2 <= ... are its twins up to the
    first step where d(k) / d(k+1) is not clearly below 1; repeated texture, whose
    neighbours are all about as near, gives none.
    """
    count = len(points)
    if count < MIN_INLIERS * 2:
        return np.zeros((0, 2), np.int64)
    index, distance = _nearest(descriptors, NEIGHBOURS + 1)
    # Neither the keypoint itself nor its own neighbourhood (SIFT puts several
    # orientations on one spot) counts as a twin.
    own = np.arange(count)[:, None]
    spot = np.hypot(*(points[np.maximum(index, 0)] - points[own]).transpose(2, 0, 1))
    far = (index >= 0) & (spot > NEAR_FRACTION * side)
    order = np.argsort(~far, axis=1, kind="stable")  # far neighbours first, in order
    index = np.take_along_axis(index, order, axis=1)
    far = np.take_along_axis(far, order, axis=1)
    distance = np.where(far, np.take_along_axis(distance, order, axis=1), np.inf)
    following = distance[:, 1:]
    clear = (distance[:, :-1] < G2NN_RATIO * following) & np.isfinite(following)
    accepted = np.cumprod(clear, axis=1).astype(bool)
    query = np.broadcast_to(own, accepted.shape)[accepted]
    twin = index[:, :-1][accepted]
    pairs = np.stack([np.minimum(query, twin), np.maximum(query, twin)], axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def _nearest(descriptors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each descriptor's ``k`` nearest descriptors (itself among them), nearest first.

    RootSIFT descriptors have unit length, so distance follows from the dot product
    and the whole search is a few matrix products, in blocks to bound the memory.
    Descriptors with no other within MAX_DISTANCE get index -1: sorting out their
    neighbours would be work thrown away.
    """
    count = len(descriptors)
    index = np.full((count, k), -1, np.int64)
    distance = np.full((count, k), np.inf, np.float32)
    least = 1.0 - MAX_DISTANCE**2 / 2
    starts = np.arange(0, count, GROUP)
    for start in range(0, count, BLOCK):
        similar = descriptors[start : start + BLOCK] @ descriptors.T
        rows = np.arange(len(similar))
        itself = similar[rows, start + rows].copy()
        similar[rows, start + rows] = -1.0
        # Each group of GROUP columns' maximum, without the descriptor itself: the rows
        # with a near neighbour follow from them, then the descriptor's own group gets
        # its similarity back (the same maxima as of the whole row with it).
        maxima = np.maximum.reduceat(similar, starts, axis=1)
        close = np.flatnonzero(maxima.max(axis=1) >= least)
        similar[rows, start + rows] = itself
        own = (start + rows) // GROUP
        maxima[rows, own] = np.maximum(maxima[rows, own], itself)
        nearest, values = _largest(similar, maxima, close, k)
        order = np.lexsort((nearest, -values), axis=1)  # equal similarities: lower index first
        index[start + close] = np.take_along_axis(nearest, order, axis=1)
        values = np.take_along_axis(values, order, axis=1)
        distance[start + close] = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * values))
    return index, distance


def _largest(
    similar: np.ndarray, maxima: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The columns of the ``k`` largest values of each of ``rows``, and the values, in no order.

    ``maxima`` holds the maximum of each group of GROUP columns. A row's ``k`` largest
    values lie in the ``k`` groups whose maxima are largest, so only those ``k * GROUP``
    candidates are partitioned, not the whole row: the same values as partitioning the
    row, a fraction of the work.
    """
    columns = similar.shape[1]
    if not len(rows):  # no row has a near neighbour
        return np.zeros((0, k), np.int64), np.zeros((0, k), similar.dtype)
    if columns <= 2 * k * GROUP:
        chosen = similar[rows]
        nearest = np.argpartition(-chosen, k - 1, axis=1)[:, :k]
        return nearest, np.take_along_axis(chosen, nearest, axis=1)
    groups = np.argpartition(-maxima[rows], k - 1, axis=1)[:, :k]
    candidates = (groups[:, :, None] * GROUP + np.arange(GROUP)).reshape(len(rows), -1)
    outside = candidates >= columns  # the last group is shorter
    candidates[outside] = columns - 1
    values = similar[rows[:, None], candidates]
    values[outside] = -np.inf
    best = np.argpartition(-values, k - 1, axis=1)[:, :k]
    return np.take_along_axis(candidates, best, axis=1), np.take_along_axis(values, best, axis=1)


def _plausible(pairs: np.ndarray, sizes: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Pairs whose keypoints' own scales and orientations fit a small scale and rotation."""
    if not len(pairs):
        return pairs
    ratio = sizes[pairs[:, 1]] / sizes[pairs[:, 0]]
    ratio = np.maximum(ratio, 1 / ratio)
    turn = np.abs((angles[pairs[:, 1]] - angles[pairs[:, 0]] + 180) % 360 - 180)
    # Keypoint scales and angles are coarse: twice the allowed range.
    keep = (ratio <= SCALE_RANGE[1] ** 2) & (turn <= MAX_ROTATION * 2)
    return pairs[keep]


def _clusters(pairs: np.ndarray, points: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Groups of pairs, each oriented first -> second, that one similarity transform explains."""
    rng = np.random.default_rng(0)  # repeatable: the same file gives the same findings
    min_shift = MIN_SHIFT_FRACTION * max(shape)
    remaining = pairs
    found: list[np.ndarray] = []
    while len(remaining) >= MIN_INLIERS and len(found) < MAX_CLUSTERS:
        best = _best_transform(remaining, points, rng)
        if best is None:
            break
        oriented, used = best
        remaining = remaining[~used]
        shift = np.hypot(*(points[oriented[:, 1]] - points[oriented[:, 0]]).T)
        if float(np.median(shift)) >= min_shift:
            found.append(oriented)
    return found


def _best_transform(
    pairs: np.ndarray, points: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """RANSAC over similarity transforms, a pair counting in either direction."""
    a, b = points[pairs[:, 0]], points[pairs[:, 1]]
    best_count, best = 0, None
    for _ in range(RANSAC_ROUNDS):
        first, second = rng.choice(len(pairs), 2, replace=False)
        for flip in (False, True):
            model = _similarity(
                np.stack([a[first], a[second] if not flip else b[second]]),
                np.stack([b[first], b[second] if not flip else a[second]]),
            )
            if model is None:
                continue
            forward, backward = _errors(model, a, b)
            inliers = (forward < INLIER_ERROR) | (backward < INLIER_ERROR)
            count = int(inliers.sum())
            if count > best_count:
                best_count, best = count, (model, inliers)
    if best is None or best_count < MIN_INLIERS:
        return None
    model, inliers = best
    forward, backward = _errors(model, a, b)
    oriented = np.where((forward <= backward)[:, None], pairs, pairs[:, ::-1])[inliers]
    refined, _ = cv2.estimateAffinePartial2D(
        points[oriented[:, 0]], points[oriented[:, 1]], method=cv2.LMEDS
    )
    if refined is not None and _allowed(refined):
        forward, backward = _errors(refined, a, b)
        inliers = (forward < INLIER_ERROR) | (backward < INLIER_ERROR)
        oriented = np.where((forward <= backward)[:, None], pairs, pairs[:, ::-1])[inliers]
    if len(oriented) < MIN_INLIERS:
        return None
    return oriented, inliers


def _similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """The 2x3 similarity taking two source points to two target points, if allowed."""
    ds, dt = source[1] - source[0], target[1] - target[0]
    length = float(np.hypot(*ds))
    if length < 1e-3:
        return None
    zs, zt = complex(ds[0], ds[1]), complex(dt[0], dt[1])
    rotation = zt / zs
    c, s = rotation.real, rotation.imag
    linear = np.array([[c, -s], [s, c]], np.float64)
    offset = target[0] - linear @ source[0]
    model = np.hstack([linear, offset[:, None]])
    return model if _allowed(model) else None


def _allowed(model: np.ndarray) -> bool:
    scale, rotation = _scale_rotation(model)
    return SCALE_RANGE[0] <= scale <= SCALE_RANGE[1] and abs(rotation) <= MAX_ROTATION


def _scale_rotation(model: np.ndarray) -> tuple[float, float]:
    return math.hypot(model[0, 0], model[1, 0]), math.degrees(math.atan2(model[1, 0], model[0, 0]))


def _errors(model: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far each pair is from the model as a -> b and as b -> a."""
    linear, offset = model[:, :2], model[:, 2]
    forward = np.hypot(*(a @ linear.T + offset - b).T)
    backward = np.hypot(*(b @ linear.T + offset - a).T)
    return forward, backward


def _region(oriented: np.ndarray, points: np.ndarray, factor: float) -> CopiedRegion:
    first, second = points[oriented[:, 0]], points[oriented[:, 1]]
    model, _ = cv2.estimateAffinePartial2D(first, second, method=cv2.LMEDS)
    scale, rotation = _scale_rotation(model) if model is not None else (1.0, 0.0)
    shift = float(np.hypot(*(second.mean(axis=0) - first.mean(axis=0)))) * factor
    # How much of the texture in the two areas matches: nearly all of a copy's, a
    # few scattered points of two merely similar areas.
    around = min(_inside(points, first), _inside(points, second))
    return CopiedRegion(
        first=_box(first, factor),
        second=_box(second, factor),
        matches=len(oriented),
        density=round(len(oriented) / max(1, around), 3),
        shift=round(shift, 1),
        scale=round(scale, 3),
        rotation=round(rotation, 1),
        first_points=first,
        second_points=second,
    )


def _box(points: np.ndarray, factor: float) -> Region:
    low, high = points.min(axis=0) * factor, points.max(axis=0) * factor
    return Region(
        int(low[0]), int(low[1]), int(math.ceil(high[0] - low[0])), int(math.ceil(high[1] - low[1]))
    )


def _compact(region: CopiedRegion, shape: tuple[int, ...]) -> bool:
    """True for a dense copy of one bounded area, not a scene-wide repetition."""
    area = shape[0] * shape[1]
    for found in (region.first_points, region.second_points):
        span = np.ptp(found, axis=0)
        if not MIN_REGION_FRACTION * area <= span[0] * span[1] <= MAX_REGION_FRACTION * area:
            return False
    return region.density >= MIN_DENSITY


def _inside(points: np.ndarray, corners: np.ndarray) -> int:
    low, high = corners.min(axis=0), corners.max(axis=0)
    return int(np.all((points >= low) & (points <= high), axis=1).sum())


def marked(picture: Image.Image, result: CopyMoveResult) -> Image.Image:
    """The picture at display size, each copied pair of areas boxed and joined by lines."""
    shown = picture.convert("RGB")
    if max(shown.size) > REPORT_SIDE:
        shown = shown.copy()
        shown.thumbnail((REPORT_SIDE, REPORT_SIDE), Image.Resampling.BILINEAR)
    elif shown is picture:
        shown = shown.copy()
    to_shown = shown.width / result.work_size[0]
    draw = ImageDraw.Draw(shown)
    line = max(2, round(max(shown.size) / 400))
    for index, region in enumerate(result.regions):
        colour = COLOURS[index % len(COLOURS)]
        step = max(1, len(region.first_points) // 40)
        for a, b in zip(region.first_points[::step], region.second_points[::step], strict=True):
            draw.line([tuple(a * to_shown), tuple(b * to_shown)], fill=colour, width=1)
        for found in (region.first_points, region.second_points):
            low, high = found.min(axis=0) * to_shown, found.max(axis=0) * to_shown
            draw.rectangle(
                [tuple(low - line * 2), tuple(high + line * 2)], outline=colour, width=line
            )
    return shown


# EXIF orientation to the turn that shows the picture upright, as Pillow's exif_transpose.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(picture: Image.Image, orientation: object) -> Image.Image:
    turn = UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    return picture.transpose(turn) if turn is not None else picture


def _finding(result: CopyMoveResult) -> Finding:
    strongest = max(result.regions, key=lambda r: r.matches)
    severity = WARNING if strongest.matches >= STRONG_INLIERS else NOTICE
    count = len(result.regions)
    pairs = "one pair of areas matches" if count == 1 else f"{count} pairs of areas match"
    message = (
        f"Part of the picture appears to be copied from another part: {pairs} "
        f"point for point ({strongest.matches} matching details, moved "
        f"{strongest.shift:.0f} pixels). The picture for the report marks each pair in one "
        "colour. A cloned patch (smoke, debris, people) is a common edit, but identical "
        "objects, repeated patterns and reflections can also match; look at the marked areas."
    )
    evidence = {
        "regions": [_evidence(region) for region in result.regions],
        "keypoints": result.keypoints,
        "work_width": result.work_size[0],
        "work_height": result.work_size[1],
    }
    return Finding("copy-move", severity, message, evidence, image=IMAGE_NAME)


def _evidence(region: CopiedRegion) -> dict[str, object]:
    return {
        "first": region.first.as_list(),
        "second": region.second.as_list(),
        "matches": region.matches,
        "density": region.density,
        "shift": region.shift,
        "scale": region.scale,
        "rotation": region.rotation,
    }
