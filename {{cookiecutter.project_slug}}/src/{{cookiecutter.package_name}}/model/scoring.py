"""Scoring raw records with a loaded model: the path shared by evaluation, batch and service."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import Columns, FeatureSpec, model_dmatrix, preprocess
from .files import LoadedModel


def positive_scores(model: LoadedModel, data: Columns) -> np.ndarray:
    """Probability of the positive class for each row of raw `data` (float64).

    `data` is a DataFrame or a mapping of column name to values (see `features.preprocess`).
    """
    return _scores(model, preprocess(data, model.spec))


def predictions(model: LoadedModel, data: Columns) -> np.ndarray:
    """The model's output for each row of raw `data` (float64), per task.

    binary: the probability of the positive class, shape (n,); multiclass: one probability per
    class (columns in `spec.classes` order), shape (n, k); regression: the predicted value, (n,).
    """
    matrix = preprocess(data, model.spec)
    if model.spec.task == "multiclass" and len(matrix) == 0:
        return np.empty((0, len(model.spec.classes)), dtype=np.float64)
    return _scores(model, matrix)


def decide(spec: FeatureSpec, outputs: np.ndarray, threshold: float | None) -> np.ndarray:
    """The predicted class of each row (as a string array); classifiers only.

    binary: positive when its probability >= `threshold`; multiclass: the most probable class.
    """
    if spec.task == "multiclass":
        return np.asarray(spec.classes, dtype=object)[np.argmax(outputs, axis=1)]
    if spec.task != "binary" or threshold is None:
        raise ValueError(f"no class decision for task {spec.task}")
    negative = next(c for c in spec.classes if c != spec.positive_class)
    return np.where(outputs >= threshold, spec.positive_class, negative)


def predictions_frame(spec: FeatureSpec, labels: np.ndarray, outputs: np.ndarray) -> pd.DataFrame:
    """The test rows' labels and model outputs (`reports/test_predictions.parquet`).

    binary: `label` (0/1) and `score`; multiclass: `label` (class index) and one
    `probability_<class>` per class; regression: `label` (the target) and `prediction`.
    """
    if spec.task == "multiclass":
        columns = {f"probability_{c}": outputs[:, i] for i, c in enumerate(spec.classes)}
        return pd.DataFrame({"label": labels, **columns})
    return pd.DataFrame({"label": labels, OUTPUT_COLUMN[spec.task]: outputs})


OUTPUT_COLUMN = {"binary": "score", "regression": "prediction"}


def read_predictions(spec: FeatureSpec, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Labels and model outputs back from `predictions_frame`'s table."""
    if spec.task == "multiclass":
        columns = [f"probability_{c}" for c in spec.classes]
        return frame["label"].to_numpy(), frame[columns].to_numpy(dtype=np.float64)
    return frame["label"].to_numpy(), frame[OUTPUT_COLUMN[spec.task]].to_numpy(np.float64)


def trivial_outputs(model: LoadedModel, rows: int) -> np.ndarray:
    """The trivial model's outputs for `rows` rows (saved with the model by `train`)."""
    trivial, spec = model.metadata["trivial_model"], model.spec
    if spec.task == "multiclass":
        shares = [float(trivial["class_shares"][c]) for c in spec.classes]
        return np.tile(np.asarray(shares, dtype=np.float64), (rows, 1))
    key = "prediction" if spec.task == "regression" else "positive_score"
    return np.full(rows, float(trivial[key]))


def contributions(model: LoadedModel, data: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-feature contributions (SHAP values), base value and model output per row.

    binary: each row's contributions plus its base value sum to the logit of its positive
    score, the score `positive_scores`' (same matrix, preprocessed once); regression: they sum
    to the prediction; multiclass: one set per class (shapes (n, k, features), (n, k)), each
    summing to that class's margin, with the class probabilities (n, k).
    """
    matrix = preprocess(data, model.spec)
    if len(matrix) == 0:
        return np.empty((0, len(model.spec.features))), np.empty(0), np.empty(0)
    dmatrix = model_dmatrix(matrix, model.spec)
    values = np.asarray(model.booster.predict(dmatrix, pred_contribs=True), dtype=np.float64)
    return values[..., :-1], values[..., -1], _scores(model, matrix)


def _scores(model: LoadedModel, matrix: np.ndarray) -> np.ndarray:
    if len(matrix) == 0:
        return np.empty(0, dtype=np.float64)
    return np.asarray(model.booster.inplace_predict(matrix), dtype=np.float64)
