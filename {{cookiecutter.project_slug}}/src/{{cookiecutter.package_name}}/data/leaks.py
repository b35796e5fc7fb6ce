"""Target leaks: features that nearly determine the target on their own or in a sum.

Cheap tests on a seeded sample of at most MAX_ROWS rows (numpy only, no model library):
- one feature alone: its values cut into bins (levels, or quantiles of a number; missing is a
  bin of its own) learned on one half of the rows predict the other half. A classifier's
  errors fall by SINGLE_LIMIT or more against the majority class, or a regression's R² reaches
  SINGLE_LIMIT: a copy of the target, relabelled or not, or a column filled only once the
  outcome is known.
- an exact or near-exact linear identity (regression): the target is a weighted sum of at
  most MAX_IDENTITY numeric features with R² >= IDENTITY_R2 (e.g. `count = casual +
  registered`); the smallest such set is named.
- its classification analogue: the class is a threshold (or a band) of a weighted sum of at
  most MAX_IDENTITY numeric features (e.g. `churned = spend_after + refunds > 100`). The
  sum's direction is a lightly ridged logistic regression's learned on one half (one class
  against the rest, for each class whose least-squares plane scores ROUGH_LIMIT or more);
  each held-out row takes the class of its nearest learned row along it; errors fall by
  SINGLE_LIMIT or more against the majority class. Columns are dropped weakest first while
  that holds; the smallest set is named. Natural tables separate well on many columns, never
  perfectly on one to four; a table whose held-out half gives the trivial model fewer than
  MIN_ERRORS errors is too small to tell (iris separates perfectly by luck on some halves).
And, where a column has `role: outcome_time` (when each row's outcome became known), a time
column at or after it in more than AFTER_SHARE of the rows that have both: it is known only
once the outcome is (`after_outcome`).
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
AFTER_SHARE = 0.5  # rows at or after the outcome time that make a time column a suspect
NEWTON_STEPS = 30
DIRECTION_ROWS = 5_000  # rows a separating plane is learned from
MIN_ERRORS = 100  # the trivial model's held-out errors needed to judge SINGLE_LIMIT
ROUGH_LIMIT = 0.5  # least squares' score from which the logistic plane is tried


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
    numeric = [n for n in features if _is_number(rows[n])]
    if task == "regression":
        identity = linear_identity(rows, target, numeric)
    else:
        identity = class_identity(rows[numeric], truth, fit, held)
    if identity is not None:  # named even where one of its columns is a suspect alone
        suspects = [s for s in suspects if s.columns[0] not in identity.columns]
        suspects.append(identity)
    return suspects


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


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


def class_identity(
    numbers: pd.DataFrame, truth: np.ndarray, fit: np.ndarray, held: np.ndarray
) -> Suspect | None:
    """The smallest set of at most MAX_IDENTITY numeric columns of which the classes are a
    threshold or band of a weighted sum (see the module doc), or None."""
    values = numbers.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    complete = ~np.isnan(values).any(axis=1)
    fit, held = fit[complete[fit]], held[complete[held]]
    if len(fit) < MIN_ROWS // 2 or len(held) < MIN_ROWS // 2:
        return None
    majority = np.bincount(truth[fit]).argmax()
    if np.sum(truth[held] != majority) < MIN_ERRORS:  # too few to tell 99% removed from luck
        return None
    scale = values[fit].std(axis=0)
    chosen = [i for i in range(values.shape[1]) if scale[i] > 0]
    if not chosen:
        return None
    values = (values - values[fit].mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    promising = [  # least squares first (cheap): the logistic plane only where it may pay
        side
        for side in _sides(truth[fit])
        if _separation(values, truth, fit, held, chosen, side, False)[0] >= ROUGH_LIMIT
    ]
    if not promising:
        return None
    score, label, weights = max(
        (_separation(values, truth, fit, held, chosen, side) for side in promising),
        key=lambda found: found[0],
    )
    if score < SINGLE_LIMIT:
        return None
    for index in sorted(chosen, key=lambda i: abs(weights[chosen.index(i)])):  # weakest first
        fewer = [i for i in chosen if i != index]
        if fewer:
            fewer_score = _separation(values, truth, fit, held, fewer, label)[0]
            if fewer_score >= SINGLE_LIMIT:
                chosen, score = fewer, fewer_score
    if len(chosen) > MAX_IDENTITY:
        return None
    columns = tuple(str(numbers.columns[i]) for i in chosen)
    what = " + ".join(f"'{c}'" for c in columns)
    kind = "a weighted sum of " if len(columns) > 1 else ""
    return Suspect(
        columns,
        f"the class is (nearly) set by thresholds on {kind}{what} (share of the trivial "
        f"model's errors removed on held-out rows {score:.3f})",
    )


def _sides(truth: np.ndarray) -> list[int]:
    """The classes to separate from the rest: one for two classes, each for more."""
    labels = [int(c) for c in np.unique(truth)]
    return labels[1:] if len(labels) == 2 else labels


def _direction(values: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Weights of a lightly ridged logistic regression of `side` (0/1) on `values`: the
    normal of the best separating plane (Newton steps, halved when they overshoot)."""
    rows, width = values.shape
    inputs = np.hstack([values, np.ones((rows, 1))])
    ridge = 1e-8 * rows * np.eye(width + 1)
    ridge[-1, -1] = 0.0
    weights = np.zeros(width + 1)

    def loss(w: np.ndarray) -> float:
        margin = inputs @ w
        return float(np.sum(np.logaddexp(0.0, margin) - side * margin) + 0.5 * w @ ridge @ w)

    current = loss(weights)
    for _ in range(NEWTON_STEPS):
        chance = 0.5 * (1.0 + np.tanh(0.5 * (inputs @ weights)))  # no overflow
        gradient = inputs.T @ (chance - side) + ridge @ weights
        curvature = (inputs * (chance * (1 - chance))[:, None]).T @ inputs + ridge
        step = np.linalg.lstsq(curvature + 1e-9 * np.eye(width + 1), gradient, rcond=None)[0]
        for _ in range(20):
            trial = weights - step
            if (trial_loss := loss(trial)) <= current:
                break
            step = step / 2
        else:
            break
        if current - trial_loss < 1e-9 * max(current, 1.0):
            weights = trial
            break
        weights, current = trial, trial_loss
    return weights[:-1]


def _separation(
    values: np.ndarray,
    truth: np.ndarray,
    fit: np.ndarray,
    held: np.ndarray,
    chosen: list[int],
    label: int,
    logistic: bool = True,
) -> tuple[float, int, np.ndarray]:
    """Share of the majority class's errors removed on `held` when each row takes the class
    of its nearest `fit` row along the plane separating `label` from the rest (with `label`
    and that plane's weights); the plane of a logistic regression, or of least squares."""
    learn = fit[:DIRECTION_ROWS]  # `fit` is in random order
    side = (truth[learn] == label).astype(float)
    if logistic:
        direction = _direction(values[learn][:, chosen], side)
    else:
        direction = np.linalg.lstsq(values[learn][:, chosen], side - side.mean(), rcond=None)[0]
    learned = values[fit][:, chosen] @ direction
    order = np.argsort(learned, kind="stable")
    learned, classes = learned[order], truth[fit][order]
    asked = values[held][:, chosen] @ direction
    right = np.clip(np.searchsorted(learned, asked), 0, len(learned) - 1)
    left = np.clip(right - 1, 0, len(learned) - 1)
    nearest = np.where(np.abs(asked - learned[left]) <= np.abs(learned[right] - asked), left, right)
    majority = int(np.bincount(truth[fit]).argmax())
    trivial = float(np.mean(truth[held] != majority))
    if trivial == 0:
        return 0.0, label, direction
    return 1.0 - float(np.mean(truth[held] != classes[nearest])) / trivial, label, direction


def after_outcome(frame: pd.DataFrame, outcome: str, times: Sequence[str]) -> list[Suspect]:
    """The time columns `times` of `frame` at or after the column `outcome` (both datetime,
    or both numbers) in more than AFTER_SHARE of the rows that have both."""
    suspects = []
    for name in times:
        both = frame[name].notna() & frame[outcome].notna()
        if name == outcome or not both.any():
            continue
        share = float((frame.loc[both, name] >= frame.loc[both, outcome]).mean())
        if share > AFTER_SHARE:
            why = (
                f"at or after the outcome time '{outcome}' in {share:.0%} of the rows that have "
                "both: known only once the outcome is"
            )
            suspects.append(Suspect((name,), why))
    return suspects
