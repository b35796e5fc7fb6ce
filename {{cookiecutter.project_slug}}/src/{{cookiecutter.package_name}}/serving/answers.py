"""The service's answers by task: their types (the OpenAPI schema BentoML publishes) and the
functions that compute them from records.

The service's API is defined once (`service.py`); `task_api` gives what differs by task: the
answer types, the description of `/predict`, and the function that scores records.
"""

# No `from __future__ import annotations`: BentoML reads these types from the API methods.

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from typing_extensions import TypedDict

from .http import prometheus
from .packaged import PackagedModel

Scorer = Callable[[Any, list[Any]], list[Any]]  # (the service instance, records) -> answers


class Prediction(TypedDict):
    """Classification: the predicted class and the probability of each class.

    binary: positive when its probability >= the model's threshold; multiclass: the most
    probable class.
    """

    label: str
    probabilities: dict[str, float]


class Regression(TypedDict):
    """Regression: the predicted value."""

    prediction: float


class Explanation(TypedDict):
    """Per-feature contributions in log-odds; `base_value` plus their sum is the logit.

    multiclass: of the predicted (most probable) class, whose probability `probability` is.
    """

    base_value: float
    contributions: dict[str, float]
    probability: float


class RegressionExplanation(TypedDict):
    """Per-feature contributions; `base_value` plus their sum is `prediction`."""

    base_value: float
    contributions: dict[str, float]
    prediction: float


@dataclass(frozen=True)
class TaskApi:
    """What the API of one task differs by."""

    answer: Any  # the type of `/predict`'s answer
    explanation: Any  # the type of `/explain`'s answer
    predict_doc: str  # the description of `/predict`
    score: Scorer  # `/predict`: scores records, observes metrics, logs inferences


def task_api(packaged: PackagedModel, models: Any) -> TaskApi:
    """The answers of `packaged`'s task; `models` are the scoring models (`performance.py`)."""
    if packaged.model.spec.task == "regression":
        return TaskApi(
            list[Regression],
            list[RegressionExplanation],
            "The predicted value for each record.",
            regressor(packaged, models),
        )
    return TaskApi(
        list[Prediction],
        list[Explanation],
        "Class and class probabilities for each record.",
        classifier(packaged, models),
    )


def classifier(packaged: PackagedModel, models: Any) -> Scorer:
    """Scores records of a binary or multiclass model: class and class probabilities."""
    from ..model.scoring import decide
    from .http.request_schema import records_columns, records_ids

    spec, threshold, ids = packaged.model.spec, packaged.threshold, packaged.data.id_columns
    classes = spec.spelled(spec.classes)  # answers spell classes as the data config does
    positive = spec.spelled([spec.positive_class])[0] if spec.positive_class else ""
    negative = next((c for c in classes if c != positive), "")

    def classified(self: Any, records: list[Any]) -> list[Prediction]:
        prometheus.observe_batch(len(records))
        outputs = models.outputs(records)
        labels = spec.spelled(decide(spec, outputs, threshold))
        if spec.task == "binary":
            scores = outputs
            answers: list[Prediction] = [
                {"label": label, "probabilities": {negative: 1.0 - s, positive: s}}
                for label, s in zip(labels, outputs.tolist(), strict=True)
            ]
        else:
            scores = outputs.max(axis=1)  # the probability of the predicted class
            answers = [
                {"label": label, "probabilities": dict(zip(classes, row, strict=True))}
                for label, row in zip(labels, outputs.tolist(), strict=True)
            ]
        prometheus.observe_predictions(scores, labels)
        if self.inference_log is not None:
            self.inference_log.append(
                pd.DataFrame(records_columns(records, spec)),
                scores,
                labels,
                records_ids(records, spec, ids),
            )
        return answers

    return classified


def regressor(packaged: PackagedModel, models: Any) -> Scorer:
    """Scores records of a regression model: the predicted value."""
    from .http.request_schema import records_columns, records_ids

    spec, ids = packaged.model.spec, packaged.data.id_columns
    value_buckets = prometheus.value_buckets(packaged.model.metadata)

    def regressed(self: Any, records: list[Any]) -> list[Regression]:
        prometheus.observe_batch(len(records))
        values = models.outputs(records)
        prometheus.observe_values(values, value_buckets)
        if self.inference_log is not None:
            self.inference_log.append(
                pd.DataFrame(records_columns(records, spec)),
                values,
                None,
                records_ids(records, spec, ids),
            )
        return [{"prediction": v} for v in values.tolist()]

    return regressed


def explainer(packaged: PackagedModel, models: Any) -> Scorer:
    """`/explain`: per-feature contributions and the base value (of the predicted class)."""
    from ..model.scoring import contributions
    from .http.request_schema import records_columns

    spec = packaged.model.spec

    def explained(self: Any, records: list[Any]) -> list[Any]:
        columns = records_columns(records, spec)
        values, base, outputs = contributions(models.small, columns)
        if spec.task == "multiclass":  # the predicted class's contributions
            chosen = np.argmax(outputs, axis=1)
            rows = np.arange(len(chosen))
            values, base = values[rows, chosen], base[rows, chosen]
            outputs = outputs[rows, chosen]
        answer = "prediction" if spec.task == "regression" else "probability"
        return [
            {
                "base_value": float(b),
                "contributions": dict(zip(spec.names, row.tolist(), strict=True)),
                answer: float(o),
            }
            for row, b, o in zip(values, base, outputs, strict=True)
        ]

    return explained
