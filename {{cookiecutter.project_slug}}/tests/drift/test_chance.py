"""Drift thresholds raised to chance level: small data split at random does not drift.

Scores are recomputed here with SciPy (normed Wasserstein distance, as Evidently defines it),
independently of the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance
from sklearn.datasets import load_breast_cancer

from helpers import module

chance = module("drift.chance")


def normed_wasserstein(ref: pd.Series, cur: pd.Series) -> float:
    return wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)


def random_split(frame: pd.DataFrame, test_share: float, seed: int):
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = int(len(frame) * (1 - test_share))
    return frame.iloc[order[:cut]], frame.iloc[order[cut:]]


def drifted(ref: pd.DataFrame, cur: pd.DataFrame, thresholds: dict[str, float]) -> list[str]:
    return [n for n, t in thresholds.items() if normed_wasserstein(ref[n], cur[n]) >= t]


def test_a_random_split_of_a_small_table_is_not_drift() -> None:
    table = load_breast_cancer(as_frame=True).data  # 569 rows, 30 numeric columns
    ref, cur = random_split(table, 0.2, seed=3)
    columns = {name: ("numeric", "wasserstein", 0.1) for name in table.columns}
    fixed = {name: 0.1 for name in table.columns}
    # The problem: a fixed threshold tuned on large data flags a fair share of columns.
    assert len(drifted(ref, cur, fixed)) >= 0.25 * len(columns)
    raised = chance.column_thresholds(ref, cur, columns, splits=20, seed=0)
    assert len(drifted(ref, cur, raised)) < 0.25 * len(columns)
    assert all(raised[n] >= 0.1 for n in columns)


def test_real_shift_still_drifts_on_small_data() -> None:
    table = load_breast_cancer(as_frame=True).data
    ref, cur = random_split(table, 0.2, seed=3)
    shifted = cur + table.std()  # every column one standard deviation up
    columns = {name: ("numeric", "wasserstein", 0.1) for name in table.columns}
    raised = chance.column_thresholds(ref, shifted, columns, splits=20, seed=0)
    assert drifted(ref, shifted, raised) == list(table.columns)


def test_large_data_keeps_the_configured_threshold() -> None:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=50_000)})
    cur = pd.DataFrame({"x": rng.normal(size=50_000)})
    raised = chance.column_thresholds(ref, cur, {"x": ("numeric", "wasserstein", 0.1)}, 20, 0)
    assert raised == {"x": 0.1}


def test_p_value_methods_and_zero_splits_get_no_floor() -> None:
    ref = pd.Series(np.arange(40, dtype=float))
    cur = pd.Series(np.arange(10, dtype=float))
    assert chance.chance_floor(ref, cur, "numeric", "ks", 20, 0) == 0.0
    assert chance.chance_floor(ref, cur, "numeric", "wasserstein", 0, 0) == 0.0
    assert chance.chance_floor(ref, cur, "numeric", "wasserstein", 20, 0) > 0.0


def test_category_floor_uses_the_category_method() -> None:
    rng = np.random.default_rng(2)
    values = pd.Series(rng.choice(["a", "b", "c", "d"], size=300))
    floor = chance.chance_floor(values[:240], values[240:], "category", "jensenshannon", 20, 0)
    assert 0.0 < floor < 1.0
