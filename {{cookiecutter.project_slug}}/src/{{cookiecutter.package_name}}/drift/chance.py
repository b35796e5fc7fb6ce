"""How far apart two samples of the same data are by chance, per column: the threshold floor.

A distance between two finite samples is never 0: between two random halves of one 500-row
table the normed Wasserstein distance of a column is often above 0.1. A fixed threshold tuned
on large data therefore flags small data as drifted. Here each column's threshold is raised to
what chance alone gives at these sample sizes: its values on both sides are pooled, split at
random `drift.chance_splits` times into parts of the same sizes, and the highest distance
between the parts is the floor. On large data the floor is far below the configured threshold
and changes nothing. P-value methods (ks, chisquare) already account for sample size and get
no floor.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

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
    score = evidently_drift_score(method, kind)
    rng = np.random.default_rng(seed)
    highest = 0.0
    for _ in range(splits):
        order = rng.permutation(len(pooled))
        left = pooled.iloc[order[: len(ref)]].reset_index(drop=True)
        right = pooled.iloc[order[len(ref) :]].reset_index(drop=True)
        highest = max(highest, score(left, right))
    return highest


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
