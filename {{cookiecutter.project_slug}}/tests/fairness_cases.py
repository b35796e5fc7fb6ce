"""A synthetic test split with a known disparity between groups (fairness tests share it)."""

from __future__ import annotations

import numpy as np

from helpers import module

fairness = module("governance.fairness")


def disparate(n: int = 1000, small: int = 10) -> tuple[np.ndarray, object]:
    """Groups a and b (n rows each) whose selection rates are exactly 0.6 and 0.3, and c (small)
    where every row is selected. Truth: half positive in each group; a selects 3 of every 5
    positives and negatives (TPR = FPR = 0.6), b 2 positives and 1 negative (0.4, 0.2)."""
    labels = np.array(["a"] * n + ["b"] * n + ["c"] * small, dtype=object)
    truth = np.tile([1.0, 0.0], n + small // 2)[: len(labels)]
    predicted = np.zeros(len(labels))
    for name, rate in (("a", 0.6), ("b", 0.3)):
        rows = np.flatnonzero(labels == name)
        # every 10 rows (5 positive, 5 negative): the same number selected on both sides
        for start in range(0, len(rows), 10):
            block = rows[start : start + 10]
            chosen = int(rate * 10) // 2
            predicted[block[truth[block] == 1][:chosen]] = 1
            predicted[block[truth[block] == 0][:chosen]] = 1
            if int(rate * 10) % 2:
                predicted[block[truth[block] == 1][chosen]] = 1
    predicted[labels == "c"] = 1.0
    scores = np.where(predicted == 1, 0.8, 0.2)
    outcomes = fairness.Outcomes("binary", truth, predicted, scores, (), 0.5)
    return labels, outcomes
