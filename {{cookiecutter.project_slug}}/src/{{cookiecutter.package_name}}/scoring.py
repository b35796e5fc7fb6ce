"""Scoring raw records with a loaded model: the path shared by evaluation, batch and service."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

from .features import model_matrix, preprocess
from .model_io import LoadedModel


def positive_scores(model: LoadedModel, frame: pd.DataFrame) -> np.ndarray:
    """Probability of the positive class for each row of raw `frame` (float64)."""
    if len(frame) == 0:
        return np.empty(0, dtype=np.float64)
    matrix = model_matrix(preprocess(frame, model.spec))
    scores = model.booster.inplace_predict(matrix)
    return np.asarray(scores, dtype=np.float64)


def contributions(model: LoadedModel, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature contributions (SHAP values, log-odds) and the base value of each row.

    Each row's contributions plus its base value sum to the logit of its positive score.
    """
    if len(frame) == 0:
        return np.empty((0, len(model.spec.features))), np.empty(0)
    model_input = preprocess(frame, model.spec)
    matrix = xgb.DMatrix(model_input, enable_categorical=True)
    values = np.asarray(model.booster.predict(matrix, pred_contribs=True), dtype=np.float64)
    return values[:, :-1], values[:, -1]
