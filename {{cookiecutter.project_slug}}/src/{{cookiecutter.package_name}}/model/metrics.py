"""Metrics with bootstrap confidence intervals: binary, multiclass and regression.

Every metric is computed for a whole matrix of resample weights at once (row i of `weights`
counts how often each record is drawn in resample i), so 1,000 resamples of tens of thousands
of rows take well under a second. Weighted formulas match scikit-learn's with `sample_weight`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .. import speedups

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier")
MULTICLASS_METRICS = ("accuracy", "f1_macro", "f1_weighted", "log_loss", "roc_auc_ovr")
REGRESSION_METRICS = ("rmse", "mae", "r2", "mape")
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "rmse", "mae", "mape"})
EPS = 1e-15
# The metric a task's log lines and package metadata name first.
HEADLINE_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap confidence interval."""

    value: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}


def bootstrap_weights(
    n_rows: int, resamples: int, seed: int, chunk_rows: int = 4_000_000
) -> Iterator[np.ndarray]:
    """Multinomial resample counts in chunks of shape (k, n_rows), seeded.

    Chunks bound memory (k * n_rows stays near `chunk_rows`); the same arguments always yield
    the same draws, so two models scored on the same rows get the same resamples (paired).
    With the `shared_bootstrap` speed-up (see `speedups`) the chunks of the last arguments
    asked for are kept (read-only, up to `SHARED_DRAW_CELLS` weights) and served again: the
    evaluate stage's metrics, trivial-model comparison and fairness all use the same draws.
    """
    if not speedups.enabled("shared_bootstrap") or n_rows * resamples > SHARED_DRAW_CELLS:
        return _draw_weights(n_rows, resamples, seed, chunk_rows)
    key = (n_rows, resamples, seed, chunk_rows)
    if key not in _shared_draws:
        _shared_draws.clear()
        _remembered.clear()
        chunks = list(_draw_weights(n_rows, resamples, seed, chunk_rows))
        for chunk in chunks:
            chunk.setflags(write=False)
        _shared_draws[key] = chunks
    return iter(_shared_draws[key])


# Up to 128 MB of resample weights are kept for the next caller (`bootstrap_weights`).
SHARED_DRAW_CELLS = 16_000_000
_shared_draws: dict[tuple[int, int, int, int], list[np.ndarray]] = {}
# Metric values of shared chunks, per (metric function, its arrays and settings, chunk).
_remembered: dict[tuple[object, ...], tuple[tuple[object, ...], dict[str, np.ndarray]]] = {}


def _draw_weights(n_rows: int, resamples: int, seed: int, chunk_rows: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    per_chunk = max(1, min(resamples, chunk_rows // max(n_rows, 1)))
    probabilities = np.full(n_rows, 1.0 / n_rows)
    for start in range(0, resamples, per_chunk):
        size = min(per_chunk, resamples - start)
        yield rng.multinomial(n_rows, probabilities, size=size).astype(np.float64)


def _is_shared(weights: np.ndarray) -> bool:
    return any(weights is chunk for chunks in _shared_draws.values() for chunk in chunks)


def _remember(
    compute: Callable[..., dict[str, np.ndarray]],
    inputs: tuple[object, ...],
    weights: np.ndarray,
) -> dict[str, np.ndarray]:
    """`compute(*inputs, weights)`, computed once per shared chunk of weights.

    The same model outputs on the same shared draws give the same values: the evaluate stage
    asks for them once for its intervals and again for each comparison with the trivial model.
    Keys are object identities; the entry keeps the objects, so no identity is reused (and
    the values are read-only: callers build new arrays from them, as they must from inputs).
    """
    if not _is_shared(weights):
        return compute(*inputs, weights)
    key = (compute, *(id(x) if isinstance(x, np.ndarray) else x for x in inputs), id(weights))
    hit = _remembered.get(key)
    if hit is None:
        values = compute(*inputs, weights)
        for array in values.values():
            array.setflags(write=False)
        hit = _remembered[key] = ((*inputs, weights), values)
    return dict(hit[1])


def metric_values(
    labels: np.ndarray, scores: np.ndarray, threshold: float, weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Each metric for each row of `weights` (shape (k, n)); returns arrays of length k."""
    return _remember(_binary_values, (labels, scores, float(threshold)), weights)


def _binary_values(
    labels: np.ndarray, scores: np.ndarray, threshold: float, weights: np.ndarray
) -> dict[str, np.ndarray]:
    y = labels.astype(np.float64)
    w = np.atleast_2d(weights)
    predicted = (scores >= threshold).astype(np.float64)
    tp = w @ (y * predicted)
    fp = w @ ((1 - y) * predicted)
    fn = w @ (y * (1 - predicted))
    total = w.sum(axis=1)
    tn = total - tp - fp - fn
    clipped = np.clip(scores, EPS, 1 - EPS)
    row_loss = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    roc_auc, pr_auc = _ranking_metrics(y, scores, w)
    return {
        "accuracy": (tp + tn) / total,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc,
        "pr_auc": pr_auc,
        "log_loss": (w @ row_loss) / total,
        "brier": (w @ (scores - y) ** 2) / total,
    }


def _ranking_metrics(
    y: np.ndarray, scores: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted ROC-AUC (ties count half) and average precision, per weight row."""
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    group_starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    drawn = w[:, order]
    pos_rows = drawn * y[order]
    # y is 0/1, so the negatives' weights are the rest (bit for bit `drawn * (1 - y)`).
    neg_rows = drawn - pos_rows if np.all((y == 0) | (y == 1)) else drawn * (1 - y[order])
    if len(group_starts) == len(scores):  # no tied scores: every group is one row
        pos, neg = pos_rows, neg_rows
    else:
        pos = np.add.reduceat(pos_rows, group_starts, axis=1)
        neg = np.add.reduceat(neg_rows, group_starts, axis=1)
    total_pos = pos.sum(axis=1)
    total_neg = neg.sum(axis=1)
    # Descending scores: a positive outranks every negative in later groups, ties count half.
    neg_after = total_neg[:, None] - np.cumsum(neg, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        roc_auc = (pos * (neg_after + 0.5 * neg)).sum(axis=1) / (total_pos * total_neg)
        tp = np.cumsum(pos, axis=1)
        fp = np.cumsum(neg, axis=1)
        precision = tp / (tp + fp)
        pr_auc = (pos / total_pos[:, None] * precision).sum(axis=1)
    return roc_auc, pr_auc


def with_intervals(
    labels: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    resamples: int,
    confidence_level: float,
    seed: int,
) -> dict[str, Interval]:
    """Point estimate and percentile bootstrap interval of every binary metric."""
    return intervals_of(
        lambda w: metric_values(labels, scores, threshold, w),
        len(labels),
        resamples,
        confidence_level,
        seed,
    )


def multiclass_values(
    labels: np.ndarray, probabilities: np.ndarray, classes: list[str], weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Multiclass metrics for each row of `weights` (shape (k, n)).

    `labels` are class indices, `probabilities` one column per class (rows sum to 1). Macro
    averages run over the classes present (as true or predicted class) in each resample, as
    scikit-learn's do over the labels it finds; per class: `precision_<class>`,
    `recall_<class>`; `roc_auc_ovr` is the mean one-vs-rest ROC-AUC of the classes present.
    """
    return _remember(_multiclass_values, (labels, probabilities, tuple(classes)), weights)


def _multiclass_values(
    labels: np.ndarray, probabilities: np.ndarray, classes: tuple[str, ...], weights: np.ndarray
) -> dict[str, np.ndarray]:
    w = np.atleast_2d(weights)
    n_classes = probabilities.shape[1]
    truth = np.eye(n_classes)[labels]
    predicted = np.eye(n_classes)[np.argmax(probabilities, axis=1)]
    tp = w @ (truth * predicted)
    true_count = w @ truth
    predicted_count = w @ predicted
    total = w.sum(axis=1)
    present = (true_count + predicted_count) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_count > 0, tp / predicted_count, 0.0)
        recall = np.where(true_count > 0, tp / true_count, 0.0)
        f1 = np.where(present, 2 * tp / (true_count + predicted_count), 0.0)
    chosen = np.clip(probabilities[np.arange(len(labels)), labels], EPS, 1.0)
    aucs = np.column_stack(
        [_ranking_metrics(truth[:, c], probabilities[:, c], w)[0] for c in range(n_classes)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a class absent from a resample
        roc_auc_ovr = np.nanmean(aucs, axis=1)
    values = {
        "accuracy": tp.sum(axis=1) / total,
        "f1_macro": f1.sum(axis=1) / present.sum(axis=1),
        "f1_weighted": (f1 * true_count).sum(axis=1) / total,
        "log_loss": (w @ -np.log(chosen)) / total,
        "roc_auc_ovr": roc_auc_ovr,
    }
    for index, name in enumerate(classes):
        values[f"precision_{name}"] = precision[:, index]
        values[f"recall_{name}"] = recall[:, index]
    return values


def regression_values(
    targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray
) -> dict[str, np.ndarray]:
    """RMSE, MAE, R² and (when no target is 0) MAPE for each row of `weights` (shape (k, n))."""
    return _remember(_regression_values, (targets, predictions), weights)


def _regression_values(
    targets: np.ndarray, predictions: np.ndarray, weights: np.ndarray
) -> dict[str, np.ndarray]:
    w = np.atleast_2d(weights)
    y = targets.astype(np.float64)
    error = predictions.astype(np.float64) - y
    total = w.sum(axis=1)
    mean = (w @ y) / total
    spread = w @ y**2 - total * mean**2
    squared = w @ error**2
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(spread > 0, 1 - squared / spread, np.nan)
    values = {
        "rmse": np.sqrt(squared / total),
        "mae": (w @ np.abs(error)) / total,
        "r2": r2,
    }
    if not np.any(y == 0):
        values["mape"] = (w @ (np.abs(error) / np.abs(y))) / total
    return values


def task_values(
    task: str,
    labels: np.ndarray,
    outputs: np.ndarray,
    *,
    threshold: float | None = None,
    classes: Sequence[str] = (),
) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """The metric function of `task` for these labels and model outputs (weights -> metrics).

    binary: `outputs` are positive scores, decided at `threshold`; multiclass: class
    probabilities (columns in `classes` order); regression: predicted values.
    """
    if task == "binary":
        if threshold is None:
            raise ValueError("binary metrics need a decision threshold")
        return lambda w: metric_values(labels, outputs, threshold, w)
    if task == "multiclass":
        return lambda w: multiclass_values(labels, outputs, list(classes), w)
    return lambda w: regression_values(labels, outputs, w)


def task_intervals(
    task: str,
    labels: np.ndarray,
    outputs: np.ndarray,
    *,
    threshold: float | None,
    classes: Sequence[str],
    resamples: int,
    confidence_level: float,
    seed: int,
) -> dict[str, Interval]:
    """Point estimate and bootstrap interval of every metric of `task` (see `task_values`)."""
    compute = task_values(task, labels, outputs, threshold=threshold, classes=classes)
    return intervals_of(compute, len(labels), resamples, confidence_level, seed)


def intervals_of(
    compute: Callable[[np.ndarray], dict[str, np.ndarray]],
    n_rows: int,
    resamples: int,
    confidence_level: float,
    seed: int,
) -> dict[str, Interval]:
    """Point estimate and percentile bootstrap interval of each metric `compute` returns.

    `compute(weights)` gives each metric for each row of a (k, n_rows) weight matrix.
    """
    point = compute(np.ones((1, n_rows)))
    chunks = [compute(weights) for weights in bootstrap_weights(n_rows, resamples, seed)]
    alpha = (1 - confidence_level) / 2
    result = {}
    for name in point:
        draws = np.concatenate([chunk[name] for chunk in chunks])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN draws: NaN interval
            low, high = np.nanquantile(draws, [alpha, 1 - alpha])
        result[name] = Interval(
            round(float(point[name][0]), 6), round(float(low), 6), round(float(high), 6)
        )
    return result
