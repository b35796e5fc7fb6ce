"""The decision threshold: the best one on given predictions, checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score

from helpers import module

config = module("settings.params")
threshold = module("model.threshold")


def predictions(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = (rng.random(400) < 0.12).astype(int)
    scores = np.round(np.clip(0.08 + 0.35 * labels + rng.normal(0, 0.15, 400), 0.001, 0.999), 2)
    return labels, scores  # rounded: ties between scores are common


def brute_force(labels: np.ndarray, scores: np.ndarray, quality) -> float:
    candidates = np.unique(scores)
    values = [quality(labels, (scores >= t).astype(int)) for t in candidates]
    return float(max(values))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_f1_finds_the_best_f1(seed: int) -> None:
    labels, scores = predictions(seed)
    chosen = threshold.choose_threshold(labels, scores, config.ThresholdConfig(method="max_f1"))
    achieved = f1_score(labels, (scores >= chosen).astype(int))
    assert achieved == pytest.approx(brute_force(labels, scores, f1_score))
    assert achieved > f1_score(labels, (scores >= 0.5).astype(int))


@pytest.mark.parametrize("fp_cost", [0.2, 1.0, 5.0])
def test_cost_finds_the_cheapest_decisions(fp_cost: float) -> None:
    labels, scores = predictions(3)

    def negative_cost(y: np.ndarray, decided: np.ndarray) -> float:
        _, fp, fn, _ = confusion_matrix(y, decided, labels=[0, 1]).ravel()
        return -(fp_cost * fp + fn)

    settings = config.ThresholdConfig(method="cost", fp_cost=fp_cost)
    chosen = threshold.choose_threshold(labels, scores, settings)
    cheapest = max(brute_force(labels, scores, negative_cost), -float(labels.sum()))
    assert negative_cost(labels, (scores >= chosen).astype(int)) == pytest.approx(cheapest)


def test_a_fixed_threshold_is_kept_and_stays_inside_zero_one() -> None:
    labels, scores = predictions(4)
    fixed = config.ThresholdConfig(method="fixed", value=0.3)
    assert threshold.choose_threshold(labels, scores, fixed) == 0.3
    certain = threshold.choose_threshold(
        np.array([0, 1, 1]), np.array([0.0, 1.0, 1.0]), config.ThresholdConfig()
    )
    assert 0 < certain < 1
