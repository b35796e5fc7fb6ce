"""Compare the working tree's model with a baseline git ref's model.

Paired when the test split is the same on both sides: both models score the same test rows and
every bootstrap resample (`metrics.bootstrap_weights`, same seed) is applied to both, so the
interval of the difference excludes the row-to-row noise the two share. Otherwise unpaired: each
side's recorded metrics, and a normal approximation of the difference from the two intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..model.metrics import LOWER_IS_BETTER, Interval, bootstrap_weights, metric_values
from ..text.markdown import rounded

PAIRED = "paired"
UNPAIRED = "unpaired"
# The baseline solves another problem (data set, target or task): nothing is compared.
NOT_COMPARABLE = "not comparable"


@dataclass(frozen=True)
class MetricComparison:
    """One metric on both sides, and the difference current - baseline with its interval."""

    name: str
    current: Interval
    baseline: Interval | None
    difference: Interval | None

    @property
    def lower_is_better(self) -> bool:
        return self.name in LOWER_IS_BETTER


def paired_comparison(
    labels: np.ndarray,
    current_scores: np.ndarray,
    baseline_scores: np.ndarray,
    metrics: Sequence[str],
    *,
    threshold: float,
    resamples: int,
    confidence_level: float,
    seed: int,
    baseline_threshold: float | None = None,
) -> dict[str, MetricComparison]:
    """Both models on the same rows, the same bootstrap resamples applied to both.

    Each side's decisions use its own threshold (`baseline_threshold` defaults to `threshold`).
    """
    if not len(labels) == len(current_scores) == len(baseline_scores):
        raise ValueError("labels and both score vectors must have the same length")
    other = threshold if baseline_threshold is None else baseline_threshold
    return paired_of(
        lambda w: metric_values(labels, current_scores, threshold, w),
        lambda w: metric_values(labels, baseline_scores, other, w),
        len(labels),
        metrics,
        resamples=resamples,
        confidence_level=confidence_level,
        seed=seed,
    )


def paired_of(
    current: Callable[[np.ndarray], dict[str, np.ndarray]],
    baseline: Callable[[np.ndarray], dict[str, np.ndarray]],
    n_rows: int,
    metrics: Sequence[str],
    *,
    resamples: int,
    confidence_level: float,
    seed: int,
) -> dict[str, MetricComparison]:
    """Two metric functions (weights -> metrics, see `metrics.task_values`) on the same rows,
    the same bootstrap resamples applied to both: any task's paired comparison."""
    ones = np.ones((1, n_rows))
    point_current = current(ones)
    point_baseline = baseline(ones)
    draws: dict[str, dict[str, list[np.ndarray]]] = {
        side: {m: [] for m in metrics} for side in ("current", "baseline", "difference")
    }
    for weights in bootstrap_weights(n_rows, resamples, seed):
        now = current(weights)
        before = baseline(weights)
        for m in metrics:
            draws["current"][m].append(now[m])
            draws["baseline"][m].append(before[m])
            draws["difference"][m].append(now[m] - before[m])
    alpha = (1 - confidence_level) / 2
    result = {}
    for m in metrics:
        points = {
            "current": float(point_current[m][0]),
            "baseline": float(point_baseline[m][0]),
        }
        points["difference"] = points["current"] - points["baseline"]
        intervals = {}
        for side, point in points.items():
            low, high = np.nanquantile(np.concatenate(draws[side][m]), [alpha, 1 - alpha])
            intervals[side] = Interval(rounded(point), rounded(low), rounded(high))
        result[m] = MetricComparison(
            m, intervals["current"], intervals["baseline"], intervals["difference"]
        )
    return result


def unpaired_comparison(
    current: dict[str, dict[str, float]],
    baseline: dict[str, dict[str, float]] | None,
    metrics: Sequence[str],
    confidence_level: float,
) -> dict[str, MetricComparison]:
    """Each side's recorded intervals; the difference's from a normal approximation of both."""
    z = NormalDist().inv_cdf(1 - (1 - confidence_level) / 2)
    result = {}
    for m in metrics:
        now = Interval(**current[m])
        before = Interval(**baseline[m]) if baseline and m in baseline else None
        difference = None
        if before is not None:
            spread = np.hypot(
                (now.ci_high - now.ci_low) / (2 * z), (before.ci_high - before.ci_low) / (2 * z)
            )
            delta = now.value - before.value
            difference = Interval(
                rounded(delta), rounded(delta - z * spread), rounded(delta + z * spread)
            )
        result[m] = MetricComparison(m, now, before, difference)
    return result
