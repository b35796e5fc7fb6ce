"""Fairness by group on the test split: per-group metrics, and the gaps between groups.

For each column of `evaluate.fairness.groups` (a feature or not; numeric ones optionally cut
into bins such as age bands), the test rows are split into groups. Per group: its size, the
task's metrics and the selection rate with bootstrap intervals. Between groups, the largest
difference and the smallest ratio of:
- `demographic_parity`: the selection rate (the share of rows given the positive class; per
  class for multiclass, the worst class);
- `equalized_odds` (binary): the worse of the true- and false-positive rate gaps;
- `error_gap`: the error (1 - accuracy for classifiers, mean absolute error for regression).
The gaps' point values come from fairlearn's `MetricFrame`; every interval from one paired
bootstrap: one draw of resample weights over the test rows (the test metrics' own draws, same
seed) serves every column, group and metric, so each gap's interval is the gap's own and the
resampling is done once however many columns are configured. Groups smaller than
`min_group_size` are reported but not judged: they take no part in the gaps or the gate.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..model.metrics import bootstrap_weights
from ..settings.params import FAIRNESS_MEASURES, FairnessConfig, FairnessGroup
from ..text.markdown import rounded_or_none

MISSING = "(missing)"
# Metrics shown per group, by task (the gaps use the ones named in `_gap_metrics`).
GROUP_METRICS = {
    "binary": (
        "base_rate",
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
        "accuracy",
        "f1",
    ),
    "multiclass": ("accuracy", "f1_macro"),
    "regression": ("mae", "rmse", "mean_prediction"),
}


@dataclass(frozen=True)
class Outcomes:
    """What the model answered on the test rows, in the task's terms.

    binary: `truth` 0/1, `predicted` 0/1, `scores` the positive probability;
    multiclass: `truth` and `predicted` class indices, `scores` one column per class;
    regression: `truth` the targets, `predicted` the predictions (`scores` the same).
    """

    task: str
    truth: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray
    classes: Sequence[str] = ()
    threshold: float = 0.5


def group_labels(frame: pd.DataFrame, group: FairnessGroup) -> np.ndarray:
    """Each row's group: its value (stripped, lower-cased) or its bin `[a, b)`, as text.

    The last bin includes its upper edge (`[a, b]`). Missing values form the group
    `(missing)`; values outside the bins `outside [lo, hi]`.
    """
    if group.column not in frame.columns:
        from ..errors import PipelineError

        raise PipelineError(
            f"evaluate.fairness: column '{group.column}' is not in the test split; re-run "
            "the prepare stage (it keeps the fairness columns in the test split)"
        )
    values = frame[group.column]
    if group.bins is None:
        text = values.astype("string").str.strip().str.lower()
        return text.fillna(MISSING).to_numpy(dtype=object)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    edges = np.asarray(group.bins, dtype=np.float64)
    names = [f"[{_g(a)}, {_g(b)})" for a, b in itertools.pairwise(edges)]
    names[-1] = names[-1][:-1] + "]"  # the last bin holds its upper edge
    outside = f"outside [{_g(edges[0])}, {_g(edges[-1])}]"
    index = np.searchsorted(edges, numbers, side="right") - 1
    index[numbers == edges[-1]] = len(names) - 1
    labels = np.where(
        (index >= 0) & (index < len(names)), np.take(names, np.clip(index, 0, len(names) - 1)), ""
    ).astype(object)
    labels[labels == ""] = outside
    labels[np.isnan(numbers)] = MISSING
    return labels


def _g(value: float) -> str:
    return f"{value:g}"


def _row_stats(o: Outcomes) -> np.ndarray:
    """Per-row statistics (n, s) whose weighted sums give every metric of a group (`_metrics`).

    binary: 1, truth, predicted, truth * predicted; multiclass: 1, then per class the
    true-and-predicted, true and predicted indicators; regression: 1, |error|, error², prediction.
    """
    ones = np.ones(len(o.truth))
    if o.task == "binary":
        return np.column_stack([ones, o.truth, o.predicted, o.truth * o.predicted])
    if o.task == "multiclass":
        eye = np.eye(len(o.classes))
        truth, predicted = eye[o.truth], eye[o.predicted]
        return np.column_stack([ones, truth * predicted, truth, predicted])
    error = o.predicted - o.truth
    return np.column_stack([ones, np.abs(error), error**2, o.predicted])


def _metrics(o: Outcomes, sums: np.ndarray) -> dict[str, np.ndarray]:
    """Every group and gap metric from summed `_row_stats` (last axis), element-wise."""
    total = sums[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        if o.task == "binary":
            truth, predicted, tp = sums[..., 1], sums[..., 2], sums[..., 3]
            fp, fn = predicted - tp, truth - tp
            return {
                "base_rate": truth / total,
                "selection_rate": predicted / total,
                "true_positive_rate": tp / truth,
                "false_positive_rate": fp / (total - truth),
                "accuracy": (total - fp - fn) / total,
                "f1": 2 * tp / (truth + predicted),
                "error": (fp + fn) / total,
            }
        if o.task == "multiclass":
            c = len(o.classes)
            tp, truth, predicted = (sums[..., 1 + i * c : 1 + (i + 1) * c] for i in range(3))
            present = (truth + predicted) > 0
            f1 = np.where(present, 2 * tp / (truth + predicted), 0.0)
            accuracy = tp.sum(axis=-1) / total
            found = {
                "accuracy": accuracy,
                "f1_macro": f1.sum(axis=-1) / present.sum(axis=-1),
                "error": 1 - accuracy,
            }
            for i, name in enumerate(o.classes):
                found[f"selection_rate_{name}"] = predicted[..., i] / total
            return found
        mae = sums[..., 1] / total
        return {
            "mae": mae,
            "rmse": np.sqrt(sums[..., 2] / total),
            "mean_prediction": sums[..., 3] / total,
            "error": mae,
        }


DESIGN_CELLS = 4_000_000  # a column's (rows x groups x statistics) matrix up to 32 MB: one matmul


@dataclass(frozen=True)
class _Groups:
    """A column's groups, largest first (ties by name), and how to sum statistics per group.

    `design` (rows, groups * statistics) turns a chunk of weights into every group's sums in
    one matrix product; above `DESIGN_CELLS` the rows are ordered group by group (`order`,
    `starts`) and summed with `np.add.reduceat` instead, in memory of the chunk's size.
    """

    names: list[str]
    sizes: list[int]
    order: np.ndarray
    starts: np.ndarray
    design: np.ndarray | None

    @classmethod
    def of(cls, labels: np.ndarray, stats: np.ndarray) -> _Groups:
        names, codes, sizes = np.unique(labels.astype(str), return_inverse=True, return_counts=True)
        rank = sorted(range(len(names)), key=lambda i: -sizes[i])
        position = np.empty(len(names), dtype=np.intp)
        position[rank] = np.arange(len(names))
        codes = position[codes.ravel()]
        ordered = sizes[rank]
        design = None
        if stats.size * len(names) <= DESIGN_CELLS:
            one_hot = np.eye(len(names))[codes]
            design = (one_hot[:, :, None] * stats[:, None, :]).reshape(len(stats), -1)
        return cls(
            names=[str(names[i]) for i in rank],
            sizes=[int(s) for s in ordered],
            order=np.argsort(codes, kind="stable"),
            starts=np.r_[0, np.cumsum(ordered)[:-1]].astype(np.intp),
            design=design,
        )

    def sums(self, weights: np.ndarray, stats: np.ndarray) -> np.ndarray:
        """Sums of `stats` (n, s) per group, weighted by each row of `weights` (k, n): (k, g, s)."""
        shape = (len(weights), len(self.names), stats.shape[1])
        if self.design is not None:
            return (weights @ self.design).reshape(shape)
        w, x = weights[:, self.order], stats[self.order]
        return np.stack(
            [np.add.reduceat(w * x[:, j], self.starts, axis=1) for j in range(x.shape[1])], axis=-1
        )


def _gap_metrics(task: str, measure: str, classes: Sequence[str]) -> list[str]:
    if measure == "demographic_parity":
        if task == "multiclass":
            return [f"selection_rate_{c}" for c in classes]
        return ["selection_rate"]
    if measure == "equalized_odds":
        return ["true_positive_rate", "false_positive_rate"]
    return ["error"]


def _gap_names(o: Outcomes) -> list[str]:
    measures = FAIRNESS_MEASURES[o.task]
    return sorted({m for k in measures for m in _gap_metrics(o.task, k, o.classes)})


def _metric_frame(o: Outcomes, labels: np.ndarray) -> pd.DataFrame:
    """Per-group point values of the gap metrics, computed by fairlearn's `MetricFrame`."""
    from fairlearn.metrics import MetricFrame

    def rate(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        def metric(y_true: np.ndarray, y_pred: np.ndarray) -> float:
            part = Outcomes(o.task, np.asarray(y_true), np.asarray(y_pred), y_pred, o.classes)
            return float(_metrics(part, _row_stats(part).sum(axis=0))[name])

        return metric

    frame = MetricFrame(
        metrics={name: rate(name) for name in _gap_names(o)},
        y_true=o.truth,
        y_pred=o.predicted,
        sensitive_features=pd.Series(labels, name="group"),
    )
    return frame.by_group


def assess(
    frame: pd.DataFrame,
    outcomes: Outcomes,
    config: FairnessConfig,
    resamples: int,
    confidence_level: float,
    seed: int,
) -> dict[str, Any]:
    """The fairness results of every configured column (JSON-ready)."""
    labels = {group.column: group_labels(frame, group) for group in config.groups}
    columns = assess_columns(
        labels, outcomes, config.min_group_size, resamples, confidence_level, seed
    )
    for group in config.groups:
        columns[group.column]["bins"] = group.bins
    return {
        "task": outcomes.task,
        "confidence_level": confidence_level,
        "bootstrap_resamples": resamples,
        "min_group_size": config.min_group_size,
        "measures": list(FAIRNESS_MEASURES[outcomes.task]),
        "columns": columns,
    }


def assess_column(
    labels: np.ndarray,
    o: Outcomes,
    min_group_size: int,
    resamples: int,
    confidence_level: float,
    seed: int,
) -> dict[str, Any]:
    """`assess_columns` for one column."""
    found = assess_columns({"": labels}, o, min_group_size, resamples, confidence_level, seed)
    return found[""]


def assess_columns(
    labels: Mapping[str, np.ndarray],
    o: Outcomes,
    min_group_size: int,
    resamples: int,
    confidence_level: float,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Per column: per-group metrics with intervals, each measure's largest gap between groups.

    One bootstrap draw serves every column, group and metric: each chunk of resample weights
    over the test rows (`bootstrap_weights`, the test metrics' draws for the same seed) is
    reduced to per-group sums of `_row_stats`, from which every metric follows.
    """
    stats = _row_stats(o)
    groups = {column: _Groups.of(values, stats) for column, values in labels.items()}
    chunks: dict[str, list[np.ndarray]] = {column: [] for column in groups}
    for weights in bootstrap_weights(len(stats), resamples, seed):
        for column, found in groups.items():
            chunks[column].append(found.sums(weights, stats))
    alpha = (1 - confidence_level) / 2
    results = {}
    for column, found in groups.items():
        point = _metrics(o, found.sums(np.ones((1, len(stats))), stats)[0])
        draws = np.concatenate(chunks[column]) if chunks[column] else None
        drawn = _metrics(o, draws) if draws is not None else None
        results[column] = _column_result(
            labels[column], found, o, point, drawn, min_group_size, alpha
        )
    return results


def _column_result(
    labels: np.ndarray,
    found: _Groups,
    o: Outcomes,
    point: Mapping[str, np.ndarray],
    drawn: Mapping[str, np.ndarray] | None,
    min_group_size: int,
    alpha: float,
) -> dict[str, Any]:
    """One column's JSON: `point` metrics per group (g,), `drawn` per resample and group (k, g)."""
    groups = []
    for i, (name, size) in enumerate(zip(found.names, found.sizes, strict=True)):
        metrics = {}
        for metric in GROUP_METRICS[o.task]:
            draws = drawn[metric][:, i] if drawn is not None else np.empty(0)
            metrics[metric] = _interval(float(point[metric][i]), draws, alpha)
        groups.append(
            {"group": name, "size": size, "judged": size >= min_group_size, "metrics": metrics}
        )
    judged = [g["group"] for g in groups if g["judged"]]
    result: dict[str, Any] = {
        "groups": groups,
        "judged": judged,
        "not_judged": [g["group"] for g in groups if not g["judged"]],
        "measures": {},
    }
    if len(judged) < 2:
        result["note"] = f"fewer than two groups of at least {min_group_size} rows: not judged"
        return result
    keep = np.isin(labels.astype(str), judged)
    by_group = _metric_frame(
        Outcomes(o.task, o.truth[keep], o.predicted[keep], o.scores[keep], o.classes, o.threshold),
        labels.astype(str)[keep],
    )
    index = {name: i for i, name in enumerate(found.names)}
    draws = {
        g: {m: (drawn[m][:, index[g]] if drawn is not None else np.empty(0)) for m in _gap_names(o)}
        for g in judged
    }
    for measure in FAIRNESS_MEASURES[o.task]:
        result["measures"][measure] = _measure(
            measure, _gap_metrics(o.task, measure, o.classes), by_group, draws, judged, alpha
        )
    return result


def _measure(
    measure: str,
    metrics: Sequence[str],
    by_group: pd.DataFrame,
    draws: Mapping[str, Mapping[str, np.ndarray]],
    judged: Sequence[str],
    alpha: float,
) -> dict[str, Any]:
    """The worst of `metrics`' gaps: difference (max - min) and ratio (min / max) with intervals."""
    worst: dict[str, Any] | None = None
    for metric in metrics:
        column = by_group[metric].astype(float)
        if column.isna().any():
            continue  # e.g. a group without positives has no true-positive rate
        higher, lower = str(column.idxmax()), str(column.idxmin())
        difference = float(column.max() - column.min())
        ratio = float(column.min() / column.max()) if column.max() > 0 else float("nan")
        stacked = np.vstack([draws[g][metric] for g in judged])
        with np.errstate(divide="ignore", invalid="ignore"):
            gap_draws = np.nanmax(stacked, axis=0) - np.nanmin(stacked, axis=0)
            ratio_draws = np.nanmin(stacked, axis=0) / np.nanmax(stacked, axis=0)
        found = {
            "metric": metric,
            "higher": higher,
            "higher_value": round(float(column.max()), 6),
            "lower": lower,
            "lower_value": round(float(column.min()), 6),
            "difference": _interval(difference, gap_draws, alpha),
            "ratio": _interval(ratio, ratio_draws, alpha),
        }
        if worst is None or difference > worst["difference"]["value"]:
            worst = found
    return worst or {"metric": None, "note": "not defined for these groups"}


def _interval(value: float, draws: np.ndarray, alpha: float) -> dict[str, float | None]:
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0 or not np.isfinite(value):
        return {"value": rounded_or_none(value), "ci_low": None, "ci_high": None}
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return {
        "value": rounded_or_none(value),
        "ci_low": rounded_or_none(low),
        "ci_high": rounded_or_none(high),
    }
