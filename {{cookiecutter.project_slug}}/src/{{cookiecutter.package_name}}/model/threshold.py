"""The binary decision threshold: chosen on out-of-fold predictions, or fixed by config."""

from __future__ import annotations

import numpy as np

from ..settings.params import ThresholdConfig

# The threshold stays strictly inside (0, 1), as the config's fixed `value` must.
LOWEST, HIGHEST = 1e-6, 1 - 1e-6


def choose_threshold(labels: np.ndarray, scores: np.ndarray, config: ThresholdConfig) -> float:
    """The threshold for `score >= threshold -> positive` that `config.method` asks for.

    max_f1: the highest F1 on these predictions; cost: the lowest `fp_cost * FP + FN`.
    Candidates are the distinct scores (every different decision is one of them); ties go to
    the higher threshold (fewer positives).
    """
    if config.method == "fixed":
        return config.value
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if len(y) == 0 or len(y) != len(s):
        raise ValueError("labels and scores must be non-empty and of the same length")
    order = np.argsort(-s, kind="mergesort")
    sorted_scores, sorted_labels = s[order], y[order]
    # Last index of each group of equal scores: predicting positive down to that score.
    ends = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    tp = np.cumsum(sorted_labels)[ends]
    fp = (ends + 1) - tp
    fn = y.sum() - tp
    candidates = sorted_scores[ends]
    if config.method == "max_f1":
        quality = 2 * tp / np.maximum(2 * tp + fp + fn, 1e-12)
        best = int(np.argmax(quality))  # first maximum: the highest threshold among ties
        return float(np.clip(candidates[best], LOWEST, HIGHEST))
    costs = config.fp_cost * fp + fn
    none_positive = y.sum()  # the cost of predicting no positive at all
    best = int(np.argmin(costs))
    if none_positive <= costs[best]:
        return HIGHEST
    return float(np.clip(candidates[best], LOWEST, HIGHEST))
