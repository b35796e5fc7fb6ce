"""Fairness by group on the test split: per-group metrics, and the gaps between groups.

For each column of `evaluate.fairness.groups` (a feature or not; numeric ones optionally cut
into bins such as age bands), the test rows are split into groups. Per group: its size, the
task's metrics and the selection rate with bootstrap intervals. Between groups, the largest
difference and the smallest ratio of:
- `demographic_parity`: the selection rate (the share of rows given the positive class; per
  class for multiclass, the worst class);
- `equalized_odds` (binary): the worse of the true- and false-positive rate gaps;
- `error_gap`: the error (1 - accuracy for classifiers, mean absolute error for regression).
Point values come from fairlearn's `MetricFrame`; their intervals from the same paired
bootstrap as the other metrics (every group resampled together, so the gap's interval is the
gap's own). Groups smaller than `min_group_size` are reported but not judged: they take no part
in the gaps or the gate.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..model.metrics import (
    bootstrap_weights,
    intervals_of,
    multiclass_values,
    regression_values,
)
from ..settings.params import FAIRNESS_MEASURES, FairnessConfig, FairnessGroup, FairnessRule

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


def _rates(o: Outcomes, mask: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """The gap metrics of the rows in `mask`, for each row of weights `w` (k, n_rows)."""
    wm = w[:, mask]
    truth, predicted = o.truth[mask], o.predicted[mask]
    total = wm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if o.task == "binary":
            positives = wm @ truth
            return {
                "selection_rate": (wm @ predicted) / total,
                "true_positive_rate": (wm @ (truth * predicted)) / positives,
                "false_positive_rate": (wm @ ((1 - truth) * predicted)) / (total - positives),
                "error": (wm @ (truth != predicted).astype(np.float64)) / total,
            }
        if o.task == "multiclass":
            chosen = np.eye(len(o.classes))[predicted]
            rates = {
                f"selection_rate_{c}": (wm @ chosen[:, i]) / total for i, c in enumerate(o.classes)
            }
            rates["error"] = (wm @ (truth != predicted).astype(np.float64)) / total
            return rates
        return {"error": (wm @ np.abs(predicted - truth)) / total}


def _group_values(o: Outcomes, mask: np.ndarray) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """The per-group metrics function for `intervals_of` (weights over the group's rows)."""
    truth, predicted, scores = o.truth[mask], o.predicted[mask], o.scores[mask]

    def compute(w: np.ndarray) -> dict[str, np.ndarray]:
        w = np.atleast_2d(w)
        total = w.sum(axis=1)
        if o.task == "binary":
            tp = w @ (truth * predicted)
            fp = w @ ((1 - truth) * predicted)
            fn = w @ (truth * (1 - predicted))
            with np.errstate(divide="ignore", invalid="ignore"):
                values = {
                    "base_rate": (tp + fn) / total,
                    "selection_rate": (tp + fp) / total,
                    "true_positive_rate": tp / (tp + fn),
                    "false_positive_rate": fp / (total - tp - fn),
                    "accuracy": (total - fp - fn) / total,
                    "f1": 2 * tp / (2 * tp + fp + fn),
                }
        elif o.task == "multiclass":
            values = multiclass_values(truth, scores, list(o.classes), w)
        else:
            values = regression_values(truth, predicted, w)
            values["mean_prediction"] = (w @ predicted) / total
        return {name: values[name] for name in GROUP_METRICS[o.task]}

    return compute


def _gap_metrics(task: str, measure: str, classes: Sequence[str]) -> list[str]:
    if measure == "demographic_parity":
        if task == "multiclass":
            return [f"selection_rate_{c}" for c in classes]
        return ["selection_rate"]
    if measure == "equalized_odds":
        return ["true_positive_rate", "false_positive_rate"]
    return ["error"]


def _metric_frame(o: Outcomes, labels: np.ndarray) -> pd.DataFrame:
    """Per-group point values of the gap metrics, computed by fairlearn's `MetricFrame`."""
    from fairlearn.metrics import MetricFrame

    def rate(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        def metric(y_true: np.ndarray, y_pred: np.ndarray) -> float:
            one = np.ones((1, len(y_true)))
            part = Outcomes(o.task, np.asarray(y_true), np.asarray(y_pred), y_pred, o.classes)
            return float(_rates(part, np.ones(len(y_true), dtype=bool), one)[name][0])

        return metric

    names = list(_rates(o, np.ones(len(labels), dtype=bool), np.ones((1, len(labels)))))
    frame = MetricFrame(
        metrics={name: rate(name) for name in names},
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
    columns = {}
    for group in config.groups:
        labels = group_labels(frame, group)
        columns[group.column] = assess_column(
            labels, outcomes, config.min_group_size, resamples, confidence_level, seed
        )
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
    """Per-group metrics with intervals, and each measure's largest gap between judged groups."""
    names, sizes = np.unique(labels.astype(str), return_counts=True)
    groups = []
    for name, size in sorted(zip(names, sizes, strict=True), key=lambda item: -item[1]):
        mask = labels == name
        judged = bool(size >= min_group_size)
        intervals = intervals_of(
            _group_values(o, mask), int(size), resamples, confidence_level, seed
        )
        groups.append(
            {
                "group": str(name),
                "size": int(size),
                "judged": judged,
                "metrics": {k: _clean(v.as_dict()) for k, v in intervals.items()},
            }
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
    keep = np.isin(labels, judged)
    by_group = _metric_frame(
        Outcomes(o.task, o.truth[keep], o.predicted[keep], o.scores[keep], o.classes, o.threshold),
        labels[keep],
    )
    draws = _bootstrap_rates(o, labels, judged, resamples, seed)
    alpha = (1 - confidence_level) / 2
    for measure in FAIRNESS_MEASURES[o.task]:
        result["measures"][measure] = _measure(
            measure, _gap_metrics(o.task, measure, o.classes), by_group, draws, judged, alpha
        )
    return result


def _bootstrap_rates(
    o: Outcomes, labels: np.ndarray, judged: Sequence[str], resamples: int, seed: int
) -> dict[str, dict[str, np.ndarray]]:
    """group -> gap metric -> its value in each resample (every group resampled together)."""
    found: dict[str, dict[str, list[np.ndarray]]] = {g: {} for g in judged}
    for w in bootstrap_weights(len(labels), resamples, seed):
        for g in judged:
            for name, values in _rates(o, labels == g, w).items():
                found[g].setdefault(name, []).append(values)
    return {g: {n: np.concatenate(v) for n, v in per.items()} for g, per in found.items()}


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
        return {"value": _num(value), "ci_low": None, "ci_high": None}
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return {"value": _num(value), "ci_low": _num(low), "ci_high": _num(high)}


def _num(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None


def _clean(interval: Mapping[str, float]) -> dict[str, float | None]:
    return {k: _num(v) for k, v in interval.items()}


def fairness_rules(
    rules: Sequence[FairnessRule], results: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Gate rules (the shape of `review.gate`'s) on the gaps: one per rule and column."""
    found = []
    level = f"{results.get('confidence_level', 0.95):.0%}"
    for rule in rules:
        for column, outcome in results.get("columns", {}).items():
            measure = outcome.get("measures", {}).get(rule.measure) or {}
            text = (
                f"fairness: {rule.measure} difference on '{column}' ({rule.use}) "
                f"<= {rule.max_difference}"
            )
            difference = measure.get("difference")
            if not difference or difference.get("value") is None:
                why = outcome.get("note") or measure.get("note") or "no groups to compare"
                found.append(_rule(text, rule, 0.0, True, f"{rule.measure} on '{column}': {why}"))
                continue
            key = {"point": "value"}.get(rule.use, rule.use)
            value = difference.get(key)
            value = difference["value"] if value is None else value
            passed = value <= rule.max_difference
            message = (
                f"{rule.measure} on '{column}' ({measure['metric']}): '{measure['higher']}' "
                f"{measure['higher_value']:.4g} vs '{measure['lower']}' "
                f"{measure['lower_value']:.4g}, difference {difference['value']:.4g} "
                f"[{_text(difference['ci_low'])}, {_text(difference['ci_high'])}]"
            )
            if not passed:
                message += (
                    f": above max_difference {rule.max_difference} ({rule.use}, {level} "
                    f"interval) by {value - rule.max_difference:.4g} between "
                    f"'{measure['higher']}' and '{measure['lower']}'"
                )
            found.append(_rule(text, rule, value, passed, message))
    return found


def _text(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _rule(
    text: str, rule: FairnessRule, value: float, passed: bool, message: str
) -> dict[str, Any]:
    return {
        "rule": text,
        "kind": "fairness",
        "metric": rule.measure,
        "use": rule.use,
        "operator": "<=",
        "limit": rule.max_difference,
        "value": value,
        "passed": bool(passed),
        "message": message,
    }
