"""How far apart two samples of the same data are by chance, per column: the threshold floor.

A distance between two finite samples is never 0: between two random halves of one 500-row
table the normed Wasserstein distance of a column is often above 0.1. A fixed threshold tuned
on large data therefore flags small data as drifted. Here each column's threshold is raised to
what chance alone gives at these sample sizes: its values on both sides are pooled, split at
random `drift.chance_splits` times into parts of the same sizes, and the highest distance
between the parts is the floor. On large data the floor is far below the configured threshold
and changes nothing. P-value methods (ks, chisquare) already account for sample size and get
no floor. With the `counted_chance_floor` speed-up (see `speedups`) the splits of a Wasserstein
(numeric) or Jensen-Shannon (category) column are scored from one sort or one count of the
pooled values, with the same result as Evidently's scorer on each split.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import speedups
from ..compat import evidently_drift_score

P_VALUE_METHODS = frozenset({"ks", "chisquare"})


def chance_floor(
    reference: pd.Series, current: pd.Series, kind: str, method: str, splits: int, seed: int
) -> float:
    """The highest `method` score between random splits of the pooled non-missing values.

    The parts have the sizes of the two sides' non-missing values; 0.0 when `splits` is 0, the
    method is a p-value test, or a side has no value.
    """
    ref, cur = reference.dropna(), current.dropna()
    if splits == 0 or method in P_VALUE_METHODS or len(ref) == 0 or len(cur) == 0:
        return 0.0
    pooled = pd.concat([ref, cur], ignore_index=True)
    if kind == "numeric":
        pooled = pooled.astype("float64")
    if speedups.enabled("counted_chance_floor"):
        if kind == "numeric" and method == "wasserstein":
            return _sorted_wasserstein_floor(pooled.to_numpy(), len(ref), splits, seed)
        if kind == "category" and method == "jensenshannon":
            return _counted_jensenshannon_floor(pooled, len(ref), splits, seed)
    score = evidently_drift_score(method, kind)
    rng = np.random.default_rng(seed)
    highest = 0.0
    for _ in range(splits):
        order = rng.permutation(len(pooled))
        left = pooled.iloc[order[: len(ref)]].reset_index(drop=True)
        right = pooled.iloc[order[len(ref) :]].reset_index(drop=True)
        highest = max(highest, score(left, right))
    return highest


def _sorted_wasserstein_floor(values: np.ndarray, left_size: int, splits: int, seed: int) -> float:
    """`chance_floor` for the normed Wasserstein distance, every split scored from one sort.

    The same draws and arithmetic as Evidently's scorer (scipy's `wasserstein_distance` over
    the reference part's standard deviation, at least 0.001): the pooled values sorted are the
    same for every split, so each part's empirical CDF at them is a running count of the part's
    members in that order. Where two sorted values tie, scipy's CDFs differ from these counts,
    but the gap between the values is 0 and the term adds 0 either way.
    """
    size = len(values)
    sorter = np.argsort(values, kind="mergesort")
    gaps = np.diff(values[sorter])
    position = np.empty(size, dtype=np.intp)
    position[sorter] = np.arange(size)
    seen = np.arange(1, size)  # values at or below each sorted value but the last (gap > 0)
    right_size = size - left_size
    rng = np.random.default_rng(seed)
    highest = 0.0
    for _ in range(splits):
        order = rng.permutation(size)
        left = order[:left_size]
        member = np.zeros(size, dtype=bool)
        member[position[left]] = True
        left_count = np.cumsum(member)[:-1]
        cdf_gap = np.abs(left_count / left_size - (seen - left_count) / right_size)
        distance = np.vecdot(cdf_gap, gaps) if hasattr(np, "vecdot") else np.sum(cdf_gap * gaps)
        norm = max(float(np.std(pd.Series(values[left]))), 0.001)
        highest = max(highest, float(distance / norm))
    return highest


def _counted_jensenshannon_floor(
    pooled: pd.Series, left_size: int, splits: int, seed: int
) -> float:
    """`chance_floor` for the Jensen-Shannon distance of a category column, from counts.

    The same draws and arithmetic as Evidently's scorer: each part's share of every value
    present on either side, the values in the order Evidently lists them (a set of the first
    part's values in order of appearance, joined by the second's: the same set built the same
    way iterates in the same order), then scipy's `jensenshannon`.
    """
    from scipy.spatial import distance

    codes, uniques = pd.factorize(pooled)
    values = list(uniques)
    code_of = {value: code for code, value in enumerate(values)}
    size, right_size = len(codes), len(codes) - left_size
    total = np.bincount(codes, minlength=len(values))
    rng = np.random.default_rng(seed)
    highest = 0.0
    for _ in range(splits):
        order = rng.permutation(size)
        left, right = codes[order[:left_size]], codes[order[left_size:]]
        left_counts = np.bincount(left, minlength=len(values))
        listed = {values[c] for c in _in_order_of_appearance(left, len(values))} | {
            values[c] for c in _in_order_of_appearance(right, len(values))
        }
        keys = np.array([code_of[value] for value in listed], dtype=np.intp)
        shares_left = left_counts[keys] / left_size
        shares_right = (total - left_counts)[keys] / right_size
        highest = max(highest, float(distance.jensenshannon(shares_left, shares_right)))
    return highest


def _in_order_of_appearance(codes: np.ndarray, count: int) -> list[int]:
    """The distinct values of `codes` (each below `count`) in order of first appearance."""
    first = np.full(count, len(codes), dtype=np.intp)
    # Assigning through repeated indices keeps the last value: reversed, that is the first.
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.intp)
    present = np.flatnonzero(first < len(codes))
    return present[np.argsort(first[present], kind="stable")].tolist()


def column_thresholds(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Mapping[str, tuple[str, str, float]],
    splits: int,
    seed: int,
) -> dict[str, float]:
    """Per column (name -> (kind, method, configured threshold)): the threshold to use.

    The configured threshold, or the chance floor when that is higher (rounded up to 6 places).
    """
    found = {}
    for index, (name, (kind, method, threshold)) in enumerate(columns.items()):
        floor = chance_floor(reference[name], current[name], kind, method, splits, seed + index)
        found[name] = max(threshold, float(np.ceil(floor * 1e6) / 1e6))
    return found
