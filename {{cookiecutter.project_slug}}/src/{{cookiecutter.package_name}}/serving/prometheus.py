"""Prometheus metrics of our own (the request guard, `request_guard.py`, counts rejections).

BentoML exports its request metrics at `/metrics`; these add predictions by class, the score
distribution and rejected requests by reason (names in `METRIC_NAMES`; the Grafana dashboard
in `monitoring/` uses them).
"""

from __future__ import annotations

import json

import numpy as np
from prometheus_client import Counter, Histogram

from ..compat import observe_histogram_many
from .request_check import reason_of

# BentoML serves these at /metrics (it sets up prometheus_client's multi-process mode).
PREDICTIONS = Counter(
    name="model_predictions",
    documentation="Records scored by /predict, by predicted class",
    labelnames=["label"],
)
SCORES = Histogram(
    name="model_score",
    documentation="Predicted probability of the positive class",
    buckets=[i / 20 for i in range(1, 20)],
)
REJECTED = Counter(
    name="model_rejected_requests",
    documentation="Requests answered 4xx, by reason",
    labelnames=["reason"],
)
METRIC_NAMES = ("model_predictions_total", "model_score_bucket", "model_rejected_requests_total")


def observe_predictions(scores: np.ndarray, labels: np.ndarray) -> None:
    """Count predictions by class and record the scores."""
    for label, count in zip(*np.unique(labels, return_counts=True), strict=True):
        PREDICTIONS.labels(label=str(label)).inc(int(count))
    observe_histogram_many(SCORES, scores)


def rejection_reason(status: int, body: bytes) -> str:
    """The reason label of a 4xx answer, from the type of its first validation error."""
    if status == 413:
        return "body_too_large"
    try:
        detail = json.loads(body)["detail"][0]
        kind = str(detail["type"])
    except (ValueError, KeyError, IndexError, TypeError):
        return {404: "not_found", 405: "method_not_allowed"}.get(status, "invalid")
    return reason_of(kind)
