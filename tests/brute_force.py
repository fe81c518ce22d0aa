"""The geometric check's keypoint pairs as OpenCV's brute-force matcher gave them before faiss
did the comparing: what ``index._mutual_pairs`` must still return, pair for pair."""

from __future__ import annotations

import cv2
import numpy as np

from mediacheck.match.index import RATIO


def matcher_pairs(query: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """Ratio-test matches, each stored keypoint kept once (its closest query keypoint)."""
    best: dict[int, tuple[float, int]] = {}
    for pair in cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query, stored, k=2):
        if len(pair) < 2 or pair[0].distance >= RATIO * pair[1].distance:
            continue
        held = best.get(pair[0].trainIdx)
        if held is None or pair[0].distance < held[0]:
            best[pair[0].trainIdx] = (pair[0].distance, pair[0].queryIdx)
    return np.array([(q, t) for t, (_, q) in best.items()], dtype=np.int64).reshape(-1, 2)
