"""Prometheus metrics of our own (the request guard, `request_guard.py`, counts rejections).

BentoML exports its request metrics at `/metrics`; these add predictions by class, the score
distribution, records per model call of /predict and rejected requests by reason (names in
`METRIC_NAMES`; the Grafana dashboard in `monitoring/` uses them).
"""

from __future__ import annotations

import atexit
import collections
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from prometheus_client import Counter, Histogram

from ...compat import observe_histogram_many, set_prometheus_folder


class ModelMetrics(NamedTuple):
    """Our metrics. BentoML serves them at /metrics (prometheus_client's multi-process mode).

    The score histogram (`score_histogram`) is made apart: its buckets follow the task.
    """

    predictions: Counter
    rejected: Counter
    batch_records: Histogram


PROBABILITY_BUCKETS = tuple(i / 20 for i in range(1, 20))
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)


@functools.cache
def model_metrics() -> ModelMetrics:
    """Created (registered with prometheus_client) on first use, in the serving process, never
    at import."""
    return ModelMetrics(
        predictions=Counter(
            name="model_predictions",
            documentation="Records scored by /predict, by predicted class",
            labelnames=["label"],
        ),
        rejected=Counter(
            name="model_rejected_requests",
            documentation="Requests refused (4xx, and 503 when overloaded), by reason",
            labelnames=["reason"],
        ),
        batch_records=Histogram(
            name="model_batch_records",
            documentation="Records per model call of /predict (requests scored together)",
            buckets=BATCH_BUCKETS,
        ),
    )


def count_rejection(reason: str) -> None:
    """One more rejected request with this reason label."""
    model_metrics().rejected.labels(reason=reason).inc()


METRIC_NAMES = (
    "model_predictions_total",
    "model_score_bucket",
    "model_rejected_requests_total",
    "model_batch_records_bucket",
)


def observe_batch(records: int) -> None:
    """One model call of /predict scored `records` records."""
    model_metrics().batch_records.observe(records)


def observe_predictions(scores: np.ndarray, labels: Sequence[Any]) -> None:
    """Count predictions by class and record the scores."""
    for label, count in collections.Counter(labels).items():
        model_metrics().predictions.labels(label=str(label)).inc(count)
    observe_histogram_many(score_histogram(PROBABILITY_BUCKETS), scores)


def value_buckets(metadata: dict[str, Any]) -> tuple[float, ...]:
    """Histogram buckets for a regression model's predictions: the training target's deciles."""
    found = metadata.get("trivial_model", {}).get("deciles") or []
    return tuple(sorted({float(v) for v in found})) or (0.0,)


@functools.cache
def score_histogram(buckets: tuple[float, ...]) -> Histogram:
    """`model_score`, created on first use: classifiers, the predicted probability (binary: of
    the positive class; multiclass: of the predicted class) in `PROBABILITY_BUCKETS`;
    regression, the predicted value in buckets at the training target's deciles. One service
    per process, so one set of buckets: the dashboard's score panel follows the task."""
    return Histogram(
        name="model_score",
        documentation="Predicted probability (classification) or predicted value (regression)",
        buckets=list(buckets),
    )


def observe_values(values: np.ndarray, buckets: tuple[float, ...]) -> None:
    """Record a regression model's predicted values (`model_score`) and count them."""
    model_metrics().predictions.labels(label="value").inc(len(values))
    observe_histogram_many(score_histogram(buckets), values)


def rejection_reason(status: int, body: bytes) -> str:
    """The reason label of a 4xx answer, from the type of its first validation error."""
    if status == 413:
        return "body_too_large"
    try:
        detail = json.loads(body)["detail"][0]
        kind = str(detail["type"])
    except (ValueError, KeyError, IndexError, TypeError):
        return {404: "not_found", 405: "method_not_allowed"}.get(status, "invalid")
    from .request_check import reason_of  # pandas: not in the light main process (entry)

    return reason_of(kind)


def own_multiprocess_folder(service_name: str) -> str:
    """Give this service instance its own Prometheus multi-process folder; return it.

    Called where `bentoml serve` builds the service: in its main process, which hands the
    folder to its workers as `PROMETHEUS_MULTIPROC_DIR`. A folder named by that variable (the
    user's choice, or in a worker the main process's) is kept; else a new temporary folder is
    made and removed at exit.
    """
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        folder = tempfile.mkdtemp(prefix=f"{service_name}-prometheus-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    set_prometheus_folder(folder)
    return folder
