"""Target leaks: features that nearly determine the target on their own or in a sum.

Two cheap tests on a seeded sample of at most MAX_ROWS rows (numpy only, no model library):
- one feature alone: its values cut into bins (levels, or quantiles of a number; missing is a
  bin of its own) learned on one half of the rows predict the other half. A classifier's
  errors fall by SINGLE_LIMIT or more against the majority class, or a regression's R² reaches
  SINGLE_LIMIT: a copy of the target, relabelled or not, or a column filled only once the
  outcome is known.
- an exact or near-exact linear identity (regression): the target is a weighted sum of at
  most MAX_IDENTITY numeric features with R² >= IDENTITY_R2 (e.g. `count = casual +
  registered`); the smallest such set is named.
`data init` drops the suspects (role: drop, with a comment saying why); `prepare` warns in
the data report. A suspect is a question for the user, not a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_ROWS = 20_000  # rows looked at (a seeded sample of larger tables)
SINGLE_LIMIT = 0.99
IDENTITY_R2 = 0.9999
MAX_IDENTITY = 4  # columns of an identity worth naming (more is a linear table, not a leak)
BINS = 64
MIN_ROWS = 40


@dataclass(frozen=True)
class Suspect:
    """Columns that leak the target, and the evidence (for comments and reports)."""

    columns: tuple[str, ...]
    why: str

    def to_dict(self) -> dict[str, object]:
        return {"columns": list(self.columns), "why": self.why}


def find_leaks(
    frame: pd.DataFrame, target: str, task: str, features: Sequence[str], seed: int = 0
) -> list[Suspect]:
    """The leak suspects among `features` of `frame` for `target` (see the module doc)."""
    rng = np.random.default_rng(seed)
    if len(frame) > MAX_ROWS:  # sample positions first: no copy of a large table
        frame = frame.iloc[np.sort(rng.choice(len(frame), MAX_ROWS, replace=False))]
    rows = frame.loc[frame[target].notna(), [*features, target]]
    if len(rows) < MIN_ROWS or not features:
        return []
    truth = _target_values(rows[target], task)
    order = rng.permutation(len(rows))
    fit, held = order[: len(rows) // 2], order[len(rows) // 2 :]
    suspects = []
    for name in features:
        codes = _bins(rows[name], fit)
        score = _held_out_score(codes, truth, fit, held, task)
        if score is not None and score >= SINGLE_LIMIT:
            measure = (
                "R²" if task == "regression" else "share of the trivial model's errors removed"
            )
            suspects.append(
                Suspect(
                    (name,),
                    f"alone predicts the target on held-out rows ({measure} {score:.3f})",
                )
            )
    if task == "regression":
        numeric = [n for n in features if pd.api.types.is_numeric_dtype(rows[n])]
        identity = linear_identity(rows, target, numeric)
        if identity is not None:  # named even where one of its columns is a suspect alone
            suspects = [s for s in suspects if s.columns[0] not in identity.columns]
            suspects.append(identity)
    return suspects


def _target_values(values: pd.Series, task: str) -> np.ndarray:
    if task == "regression":
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    spelled = values.astype(str).str.strip().str.lower()
    return pd.factorize(spelled)[0]


def _bins(values: pd.Series, fit: np.ndarray) -> np.ndarray:
    """Bin codes: levels or quantile bins learned on the `fit` rows; missing is code 0."""
    if pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        known = numbers[fit][~np.isnan(numbers[fit])]
        if known.size == 0:
            return np.zeros(len(values), dtype=np.int64)
        edges = np.unique(np.quantile(known, np.linspace(0, 1, BINS + 1)[1:-1]))
        distinct = np.unique(known)
        if distinct.size <= BINS:
            edges = (distinct[1:] + distinct[:-1]) / 2  # one bin per value seen
        codes = np.searchsorted(edges, numbers, side="right") + 1
        return np.where(np.isnan(numbers), 0, codes)
    spelled = values.astype("string").str.strip().str.lower()
    return pd.factorize(spelled, use_na_sentinel=True)[0] + 1  # missing: -1 + 1 = 0


def _held_out_score(
    codes: np.ndarray, truth: np.ndarray, fit: np.ndarray, held: np.ndarray, task: str
) -> float | None:
    """How well bins learned on `fit` predict `held`: R² or the share of errors removed."""
    size = int(codes.max()) + 1
    if task == "regression":
        known = ~np.isnan(truth)
        fit, held = fit[known[fit]], held[known[held]]
        if len(fit) < MIN_ROWS // 2 or len(held) < MIN_ROWS // 2:
            return None
        sums = np.bincount(codes[fit], weights=truth[fit], minlength=size)
        counts = np.bincount(codes[fit], minlength=size)
        mean = truth[fit].mean()
        predicted = np.where(counts > 0, sums / np.maximum(counts, 1), mean)[codes[held]]
        total = float(np.sum((truth[held] - mean) ** 2))
        if total == 0:
            return None
        return 1.0 - float(np.sum((truth[held] - predicted) ** 2)) / total
    classes = int(truth.max()) + 1
    table = np.zeros((size, classes), dtype=np.int64)
    np.add.at(table, (codes[fit], truth[fit]), 1)
    majority = int(np.bincount(truth[fit], minlength=classes).argmax())
    predicted = np.where(table.sum(axis=1) > 0, table.argmax(axis=1), majority)[codes[held]]
    trivial = float(np.mean(truth[held] != majority))
    if trivial == 0:
        return None
    return 1.0 - float(np.mean(truth[held] != predicted)) / trivial


def linear_identity(rows: pd.DataFrame, target: str, numeric: Sequence[str]) -> Suspect | None:
    """The smallest set of numeric columns whose weighted sum is the target (R² >=
    IDENTITY_R2), if one of at most MAX_IDENTITY columns exists."""
    if not numeric:
        return None
    data = rows[[*numeric, target]].apply(pd.to_numeric, errors="coerce").dropna()
    if len(data) < MIN_ROWS:
        return None
    values = data.to_numpy(dtype=float)
    values = values - values.mean(axis=0)
    scale = values.std(axis=0)
    keep = scale > 0
    if not keep[-1]:
        return None
    values = values[:, keep] / scale[keep]
    names = [n for n, k in zip(numeric, keep[:-1], strict=True) if k]
    gram = values.T @ values  # every subset's fit comes from this (p+1) x (p+1) matrix
    chosen = list(range(len(names)))
    if _r2(gram, chosen) < IDENTITY_R2:
        return None
    for index in sorted(chosen, key=lambda i: abs(gram[i, -1])):  # weakest first
        fewer = [i for i in chosen if i != index]
        if fewer and _r2(gram, fewer) >= IDENTITY_R2:
            chosen = fewer
    if len(chosen) > MAX_IDENTITY:
        return None
    columns = tuple(names[i] for i in sorted(chosen))
    what = " + ".join(f"'{c}'" for c in columns) if len(columns) > 1 else f"'{columns[0]}'"
    return Suspect(
        columns,
        f"the target is (nearly) a weighted sum of {what} (R² {_r2(gram, chosen):.5f})",
    )


def _r2(gram: np.ndarray, chosen: list[int]) -> float:
    """R² of the target (last column) on the `chosen` standardised columns."""
    inputs = gram[np.ix_(chosen, chosen)]
    link = gram[chosen, -1]
    weights = np.linalg.lstsq(inputs, link, rcond=None)[0]
    return float(link @ weights / gram[-1, -1])
