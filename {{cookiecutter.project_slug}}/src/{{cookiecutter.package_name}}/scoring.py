"""Scoring raw records with a loaded model: the path shared by evaluation, batch and service."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import preprocess
from .model_io import LoadedModel


def positive_scores(model: LoadedModel, frame: pd.DataFrame) -> np.ndarray:
    """Probability of the positive class for each row of raw `frame` (float64)."""
    if len(frame) == 0:
        return np.empty(0, dtype=np.float64)
    model_input = preprocess(frame, model.spec)
    scores = model.booster.inplace_predict(model_input, validate_features=True)
    return np.asarray(scores, dtype=np.float64)
