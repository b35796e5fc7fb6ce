"""Fairness intervals: one joint bootstrap draw for every column, group and metric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, root_mean_squared_error

from fairness_cases import disparate
from helpers import module

fairness = module("governance.fairness")
metrics = module("model.metrics")
config = module("settings.params")


def two_columns() -> tuple[dict[str, np.ndarray], object]:
    labels, outcomes = disparate()
    rng = np.random.default_rng(0)
    other = rng.choice(np.array(["x", "y", "z"], dtype=object), size=len(labels))
    return {"region": labels, "band": other}, outcomes


def test_every_column_is_served_by_one_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = fairness.bootstrap_weights

    def counted(n_rows: int, resamples: int, seed: int):
        calls.append((n_rows, resamples, seed))
        return real(n_rows, resamples, seed)

    monkeypatch.setattr(fairness, "bootstrap_weights", counted)
    labels, outcomes = two_columns()
    found = fairness.assess_columns(labels, outcomes, 30, 200, 0.95, 5)
    assert set(found) == {"region", "band"}
    assert calls == [(len(outcomes.truth), 200, 5)]


def test_a_column_gets_the_same_numbers_alone_or_with_others() -> None:
    labels, outcomes = two_columns()
    together = fairness.assess_columns(labels, outcomes, 30, 200, 0.95, 5)
    alone = fairness.assess_column(labels["band"], outcomes, 30, 200, 0.95, 5)
    assert together["band"] == alone


def test_same_seed_same_numbers_and_another_seed_other_intervals() -> None:
    labels, outcomes = two_columns()
    first = fairness.assess_columns(labels, outcomes, 30, 200, 0.95, 5)
    again = fairness.assess_columns(labels, outcomes, 30, 200, 0.95, 5)
    other = fairness.assess_columns(labels, outcomes, 30, 200, 0.95, 6)
    assert first == again
    gap = first["region"]["measures"]["demographic_parity"]["difference"]
    moved = other["region"]["measures"]["demographic_parity"]["difference"]
    assert gap["value"] == moved["value"]
    assert (gap["ci_low"], gap["ci_high"]) != (moved["ci_low"], moved["ci_high"])


def test_group_intervals_are_percentiles_of_the_shared_resamples() -> None:
    labels, outcomes = two_columns()
    found = fairness.assess_columns(labels, outcomes, 30, 300, 0.9, 11)
    (weights,) = list(metrics.bootstrap_weights(len(outcomes.truth), 300, 11))
    for column, values in labels.items():
        for group in found[column]["groups"]:
            mask = values == group["group"]
            w = weights[:, mask]
            rates = (w @ outcomes.predicted[mask]) / w.sum(axis=1)
            low, high = np.quantile(rates, [0.05, 0.95])
            interval = group["metrics"]["selection_rate"]
            assert interval["ci_low"] == pytest.approx(low, abs=1e-6)
            assert interval["ci_high"] == pytest.approx(high, abs=1e-6)


def test_group_point_metrics_equal_scikit_learns_for_each_task() -> None:
    rng = np.random.default_rng(3)
    labels = rng.choice(np.array(["u", "v"], dtype=object), size=400)
    u = labels == "u"
    truth = rng.integers(0, 2, 400).astype(float)
    predicted = np.where(rng.random(400) < 0.7, truth, 1 - truth)
    binary = fairness.Outcomes("binary", truth, predicted, predicted, (), 0.5)
    (group,) = [g for g in fairness.assess_column(labels, binary, 30, 50, 0.95, 1)["groups"]
                if g["group"] == "u"]  # fmt: skip
    assert group["metrics"]["f1"]["value"] == pytest.approx(f1_score(truth[u], predicted[u]))
    assert group["metrics"]["accuracy"]["value"] == pytest.approx(
        accuracy_score(truth[u], predicted[u])
    )

    classes = rng.integers(0, 3, 400)
    guessed = np.where(rng.random(400) < 0.6, classes, rng.integers(0, 3, 400))
    multi = fairness.Outcomes("multiclass", classes, guessed, np.eye(3)[guessed], ("p", "q", "r"))
    (group,) = [g for g in fairness.assess_column(labels, multi, 30, 50, 0.95, 1)["groups"]
                if g["group"] == "u"]  # fmt: skip
    assert group["metrics"]["f1_macro"]["value"] == pytest.approx(
        f1_score(classes[u], guessed[u], average="macro")
    )

    target = rng.normal(size=400)
    estimate = target + rng.normal(scale=0.5, size=400)
    regression = fairness.Outcomes("regression", target, estimate, estimate)
    (group,) = [g for g in fairness.assess_column(labels, regression, 30, 50, 0.95, 1)["groups"]
                if g["group"] == "u"]  # fmt: skip
    assert group["metrics"]["mae"]["value"] == pytest.approx(
        mean_absolute_error(target[u], estimate[u])
    )
    assert group["metrics"]["rmse"]["value"] == pytest.approx(
        root_mean_squared_error(target[u], estimate[u])
    )


def test_assess_runs_every_configured_column_from_the_test_frame() -> None:
    labels, outcomes = two_columns()
    frame = pd.DataFrame({"region": labels["region"], "band": labels["band"]})
    settings = config.FairnessConfig(
        groups=[config.FairnessGroup(column="region"), config.FairnessGroup(column="band")]
    )
    found = fairness.assess(frame, outcomes, settings, 200, 0.95, 5)
    expected = fairness.assess_columns(labels, outcomes, settings.min_group_size, 200, 0.95, 5)
    assert found["columns"]["region"]["groups"] == expected["region"]["groups"]
    assert found["columns"]["band"]["measures"] == expected["band"]["measures"]


def test_large_columns_are_summed_group_by_group_with_the_same_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels, outcomes = two_columns()
    with_matrix = fairness.assess_columns(labels, outcomes, 30, 200, 0.95, 5)
    monkeypatch.setattr(fairness, "DESIGN_CELLS", 0)  # as if the test split were huge
    assert fairness._Groups.of(labels["band"], fairness._row_stats(outcomes)).design is None
    by_group = fairness.assess_columns(labels, outcomes, 30, 200, 0.95, 5)
    assert by_group == with_matrix
