"""Global feature attributions: the mean absolute contribution of each feature on the test split.

Contributions are XGBoost's own (`pred_contribs=True`, exact TreeSHAP), in the model's margin
units (log-odds for classifiers, the target's units for regression): for each row they and the
base value sum to the model's raw output. Rows go through the one preprocessing path
(`model.features.preprocess`). Above `max_rows` test rows, a seeded sample of that many is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..model.features import model_dmatrix, preprocess
from ..model.files import LoadedModel


def contribution_matrix(model: LoadedModel, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Contributions (rows, [classes,] features) and base values (rows[, classes]).

    Binary and regression models give one output; multiclass models one per class.
    """
    matrix = preprocess(frame, model.spec)
    dmatrix = model_dmatrix(matrix, model.spec)
    values = np.asarray(model.booster.predict(dmatrix, pred_contribs=True), dtype=np.float64)
    return values[..., :-1], values[..., -1]


def global_attributions(
    model: LoadedModel, frame: pd.DataFrame, max_rows: int, seed: int, classes: list[str]
) -> dict[str, Any]:
    """Mean |contribution| per feature (overall, and per class for multiclass), JSON-ready."""
    rows = len(frame)
    if rows > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
        frame = frame.iloc[keep]
    values, base = contribution_matrix(model, frame)
    names = model.spec.names
    result: dict[str, Any] = {"rows": len(frame), "test_rows": rows, "units": "margin"}
    if values.ndim == 3:  # (rows, classes, features): multiclass
        per_class = np.abs(values).mean(axis=0)
        overall = per_class.mean(axis=0)
        result["per_class"] = {
            str(c): _ranked(names, per_class[i]) for i, c in enumerate(classes[: len(per_class)])
        }
        result["base_value"] = [round(float(b), 6) for b in base.mean(axis=0)]
    else:
        overall = np.abs(values).mean(axis=0)
        result["base_value"] = round(float(base.mean()), 6) if len(base) else None
    result["features"] = _ranked(names, overall)
    return result


def _ranked(names: list[str], values: np.ndarray) -> list[dict[str, Any]]:
    pairs = sorted(zip(names, values.tolist(), strict=True), key=lambda p: (-p[1], p[0]))
    return [{"feature": n, "mean_abs_contribution": round(float(v), 6)} for n, v in pairs]


def movers(
    current: list[dict[str, Any]], baseline: list[dict[str, Any]] | None, top: int = 3
) -> list[tuple[str, float]]:
    """The features whose mean |contribution| changed most against the baseline (signed)."""
    if not baseline:
        return []
    before = {r["feature"]: r["mean_abs_contribution"] for r in baseline}
    now = {r["feature"]: r["mean_abs_contribution"] for r in current}
    changes = {f: now.get(f, 0.0) - before.get(f, 0.0) for f in set(now) | set(before)}
    ranked = sorted(changes.items(), key=lambda item: (-abs(item[1]), item[0]))
    return [(f, round(c, 6)) for f, c in ranked[:top] if c != 0]
