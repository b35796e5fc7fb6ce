"""Scoring raw records with a loaded model: the path shared by evaluation, batch and service."""

from __future__ import annotations

import numpy as np

from .features import Columns, model_dmatrix, preprocess
from .files import LoadedModel


def positive_scores(model: LoadedModel, data: Columns) -> np.ndarray:
    """Probability of the positive class for each row of raw `data` (float64).

    `data` is a DataFrame or a mapping of column name to values (see `features.preprocess`).
    """
    return _scores(model, preprocess(data, model.spec))


def contributions(model: LoadedModel, data: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-feature contributions (SHAP values, log-odds), base value and positive score per row.

    Each row's contributions plus its base value sum to the logit of its positive score; the
    score is `positive_scores`' (same matrix, preprocessed once).
    """
    matrix = preprocess(data, model.spec)
    if len(matrix) == 0:
        return np.empty((0, len(model.spec.features))), np.empty(0), np.empty(0)
    dmatrix = model_dmatrix(matrix, model.spec)
    values = np.asarray(model.booster.predict(dmatrix, pred_contribs=True), dtype=np.float64)
    return values[:, :-1], values[:, -1], _scores(model, matrix)


def _scores(model: LoadedModel, matrix: np.ndarray) -> np.ndarray:
    if len(matrix) == 0:
        return np.empty(0, dtype=np.float64)
    return np.asarray(model.booster.inplace_predict(matrix), dtype=np.float64)
