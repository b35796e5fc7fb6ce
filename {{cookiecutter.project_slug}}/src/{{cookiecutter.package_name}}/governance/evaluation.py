"""The evaluate stage's governance outputs: fairness by group and global attributions.

Kept apart from the stage so that each task's evaluation only has to say what the model
answered (`fairness.Outcomes`); everything else is the same for every task.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..model.features import FeatureSpec
from ..model.files import LoadedModel
from ..settings.params import Params
from .attributions import global_attributions
from .fairness import Outcomes, assess


def task_outcomes(
    spec: FeatureSpec, labels: np.ndarray, outputs: np.ndarray, threshold: float | None
) -> Outcomes:
    """What the model answered on the test rows, in the task's terms (see `Outcomes`).

    `labels` is the encoded target (`encode_target`) and `outputs` the model's outputs
    (`model.scoring.predictions`): binary positive probabilities, decided at `threshold`;
    multiclass probabilities per class, decided by the most probable; regression predictions.
    """
    if spec.task == "binary":
        cut = 0.5 if threshold is None else threshold
        truth = labels.astype(np.float64)
        predicted = (outputs >= cut).astype(np.float64)
        return Outcomes("binary", truth, predicted, outputs, tuple(spec.classes), cut)
    if spec.task == "multiclass":
        predicted = np.argmax(outputs, axis=1)
        return Outcomes("multiclass", labels, predicted, outputs, tuple(spec.classes))
    values = labels.astype(np.float64)
    return Outcomes("regression", values, outputs, outputs)


def governance_results(
    params: Params, model: LoadedModel, test: pd.DataFrame, outcomes: Outcomes
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`reports/fairness.json` and `reports/attributions.json` contents (empty when off)."""
    config = params.evaluate
    fairness = assess(
        test,
        outcomes,
        config.fairness,
        config.bootstrap_resamples,
        config.confidence_level,
        params.seed,
    )
    if config.attributions.enabled:
        attributions = global_attributions(
            model, test, config.attributions.max_rows, params.seed, list(model.spec.classes)
        )
    else:
        attributions = {"rows": 0, "features": [], "note": "evaluate.attributions.enabled is off"}
    return fairness, attributions
