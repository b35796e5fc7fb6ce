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


@pytest.fixture(scope="module")
def multiclass() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 400)
    logits = rng.normal(size=(400, 3)) + 1.5 * np.eye(3)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probabilities


def multiclass_oracle(labels, probabilities, classes) -> dict[str, float]:
    predicted = probabilities.argmax(axis=1)
    per_class = skm.precision_recall_fscore_support(
        labels, predicted, labels=range(len(classes)), zero_division=0
    )
    found = {
        "accuracy": skm.accuracy_score(labels, predicted),
        "f1_macro": skm.f1_score(labels, predicted, average="macro"),
        "f1_weighted": skm.f1_score(labels, predicted, average="weighted"),
        "log_loss": skm.log_loss(labels, probabilities, labels=range(len(classes))),
        "roc_auc_ovr": skm.roc_auc_score(labels, probabilities, multi_class="ovr"),
    }
    for index, name in enumerate(classes):
        found[f"precision_{name}"] = per_class[0][index]
        found[f"recall_{name}"] = per_class[1][index]
    return found


def test_multiclass_values_match_scikit_learn(multiclass) -> None:
    labels, probabilities = multiclass
    classes = ["low", "mid", "high"]
    ours = metrics.multiclass_values(labels, probabilities, classes, np.ones((1, len(labels))))
    expected = multiclass_oracle(labels, probabilities, classes)
    assert set(ours) == set(expected)
    for name, value in expected.items():
        assert ours[name][0] == pytest.approx(value, abs=1e-9), name


def test_multiclass_resample_weights_match_the_repeated_rows(multiclass) -> None:
    """A weight row counts draws: the metrics are those of the rows repeated that often."""
    labels, probabilities = multiclass
    classes = ["low", "mid", "high"]
    counts = np.random.default_rng(5).multinomial(len(labels), np.full(len(labels), 1 / 400))
    rows = np.repeat(np.arange(len(labels)), counts)
    ours = metrics.multiclass_values(labels, probabilities, classes, counts[None, :])
    expected = multiclass_oracle(labels[rows], probabilities[rows], classes)
    for name, value in expected.items():
        assert ours[name][0] == pytest.approx(value, abs=1e-9), name


def test_macro_f1_averages_over_the_classes_present() -> None:
    labels = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.9, 0.1, 0], [0.2, 0.8, 0], [0.1, 0.9, 0], [0.1, 0.9, 0]])
    ours = metrics.multiclass_values(labels, probabilities, ["a", "b", "c"], np.ones((1, 4)))
    assert ours["f1_macro"][0] == pytest.approx(skm.f1_score(labels, [0, 1, 1, 1], average="macro"))


@pytest.fixture(scope="module")
def regression() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    targets = rng.gamma(2.0, 50.0, 300) + 1
    return targets, targets + rng.normal(0, 20, 300)


def test_regression_values_match_scikit_learn(regression) -> None:
    targets, predictions = regression
    weight = np.random.default_rng(3).integers(1, 4, len(targets)).astype(float)
    ours = metrics.regression_values(targets, predictions, weight[None, :])
    kw = {"sample_weight": weight}
    expected = {
        "rmse": np.sqrt(skm.mean_squared_error(targets, predictions, **kw)),
        "mae": skm.mean_absolute_error(targets, predictions, **kw),
        "r2": skm.r2_score(targets, predictions, **kw),
        "mape": skm.mean_absolute_percentage_error(targets, predictions, **kw),
    }
    assert set(ours) == set(expected)
    for name, value in expected.items():
        assert ours[name][0] == pytest.approx(value, rel=1e-9), name


def test_mape_is_left_out_when_a_target_is_zero(regression) -> None:
    targets, predictions = regression
    zeroed = targets.copy()
    zeroed[7] = 0.0
    assert "mape" not in metrics.regression_values(zeroed, predictions, np.ones((1, 300)))


def test_task_intervals_bracket_the_estimate(multiclass, regression) -> None:
    labels, probabilities = multiclass
    found = metrics.intervals_of(
        lambda w: metrics.multiclass_values(labels, probabilities, ["a", "b", "c"], w),
        len(labels),
        300,
        0.95,
        0,
    )
    targets, predictions = regression
    found |= metrics.intervals_of(
        lambda w: metrics.regression_values(targets, predictions, w), len(targets), 300, 0.95, 0
    )
    for name, interval in found.items():
        assert interval.ci_low <= interval.value <= interval.ci_high, name
        assert interval.ci_low < interval.ci_high, name
