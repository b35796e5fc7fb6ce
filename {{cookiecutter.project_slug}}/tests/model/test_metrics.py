"""Vectorised bootstrap metrics agree with scikit-learn (the independent oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from helpers import module

metrics = module("model.metrics")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    # Rounded scores create ties, which both AUCs must handle like scikit-learn does.
    scores = np.clip(np.round(0.3 * labels + rng.normal(0.35, 0.25, 500), 2), 0.001, 0.999)
    return labels, scores


def oracle(labels, scores, threshold, weight=None) -> dict[str, float]:
    predicted = (scores >= threshold).astype(int)
    kw = {"sample_weight": weight}
    return {
        "accuracy": skm.accuracy_score(labels, predicted, **kw),
        "precision": skm.precision_score(labels, predicted, **kw),
        "recall": skm.recall_score(labels, predicted, **kw),
        "f1": skm.f1_score(labels, predicted, **kw),
        "roc_auc": skm.roc_auc_score(labels, scores, **kw),
        "pr_auc": skm.average_precision_score(labels, scores, **kw),
        "log_loss": skm.log_loss(labels, scores, **kw),
        "brier": skm.brier_score_loss(labels, scores, **kw),
    }


def test_point_estimates_match_scikit_learn(data) -> None:
    labels, scores = data
    ours = metrics.metric_values(labels, scores, 0.5, np.ones((1, len(labels))))
    for name, expected in oracle(labels, scores, 0.5).items():
        assert ours[name][0] == pytest.approx(expected, abs=1e-9), name


def test_weighted_values_match_scikit_learn_sample_weight(data) -> None:
    labels, scores = data
    weights = next(metrics.bootstrap_weights(len(labels), 3, seed=1))
    ours = metrics.metric_values(labels, scores, 0.4, weights)
    for row in range(3):
        keep = weights[row] > 0
        expected = oracle(labels[keep], scores[keep], 0.4, weights[row][keep])
        for name, value in expected.items():
            assert ours[name][row] == pytest.approx(value, abs=1e-9), (name, row)


def test_bootstrap_draws_do_not_depend_on_chunking() -> None:
    small = np.concatenate(list(metrics.bootstrap_weights(50, 40, seed=3, chunk_rows=500)))
    large = np.concatenate(list(metrics.bootstrap_weights(50, 40, seed=3)))
    assert small.shape == (40, 50)
    np.testing.assert_array_equal(small, large)
    assert (small.sum(axis=1) == 50).all()


def test_intervals_are_seeded_and_bracket_the_estimate(data) -> None:
    labels, scores = data
    first = metrics.with_intervals(labels, scores, 0.5, 300, 0.95, seed=5)
    again = metrics.with_intervals(labels, scores, 0.5, 300, 0.95, seed=5)
    assert first == again
    for name, interval in first.items():
        assert interval.ci_low <= interval.value <= interval.ci_high, name
    assert first["roc_auc"].ci_high - first["roc_auc"].ci_low < 0.15


def test_interval_width_shrinks_with_more_data() -> None:
    rng = np.random.default_rng(2)

    def width(n: int) -> float:
        labels = rng.integers(0, 2, n)
        scores = np.clip(0.2 * labels + rng.uniform(0, 0.8, n), 0, 1)
        interval = metrics.with_intervals(labels, scores, 0.5, 300, 0.95, seed=0)["roc_auc"]
        return interval.ci_high - interval.ci_low

    assert width(4000) < width(250) / 2
