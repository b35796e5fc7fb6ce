"""Training: cross-validate with early stopping, then fit the final XGBoost model (`stages.train`).

Cross-validation finds the number of rounds (each fold early-stopped on a proper scoring rule
by default) and gives out-of-fold predictions, on which the decision threshold is chosen; the
final model is fit on every training row for that many rounds.

Only what is used is evaluated each round: a fold's held-out part (its history is what CV
reports), and for the final fit's learning curves (DVCLive) the training rows, at most
`train.curve_rows` of them (a seeded sample above that). Evaluation never changes the model.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from .. import __version__
from ..artifacts import paths
from ..artifacts.hashing import md5_file
from ..errors import PipelineError
from ..settings.params import Params
from .features import FeatureSpec, encode_target, model_dmatrix, preprocess
from .threshold import choose_threshold

OBJECTIVES = {
    "binary": "binary:logistic",
    "multiclass": "multi:softprob",
    "regression": "reg:squarederror",
}
LIBRARIES = ("xgboost", "pandas", "numpy", "scikit-learn", "pyarrow")


def booster_params(params: Params) -> dict[str, Any]:
    """XGBoost training parameters from the config (fixed seed and threads: deterministic)."""
    model = params.model
    task = params.data.task
    found: dict[str, Any] = {
        "objective": OBJECTIVES[task],
        "eval_metric": params.eval_metric,
        "learning_rate": model.learning_rate,
        "max_depth": model.max_depth,
        "min_child_weight": model.min_child_weight,
        "subsample": model.subsample,
        "colsample_bytree": model.colsample_bytree,
        "reg_lambda": model.reg_lambda,
        "reg_alpha": model.reg_alpha,
        "gamma": model.gamma,
        "max_cat_to_onehot": model.max_cat_to_onehot,
        "tree_method": model.tree_method,
        "device": model.device,
        "scale_pos_weight": model.scale_pos_weight,
        "seed": params.seed,
        "nthread": params.train.n_jobs,
    }
    if task != "binary":
        del found["scale_pos_weight"]  # a binary setting: weighs the positive class
    if task == "multiclass":
        found["num_class"] = len(params.data.classes)
    return found


def load_training_matrix(
    params: Params, path: Path = paths.TRAIN_DATA
) -> tuple[np.ndarray, np.ndarray, FeatureSpec]:
    """The prepared training rows as model input (through `preprocess`) and the task's labels."""
    if not path.is_file():
        raise PipelineError(f"{path} not found: run the prepare stage first")
    spec = FeatureSpec.from_data_config(params.data)
    frame = pd.read_parquet(path)
    if params.data.target not in frame.columns:
        raise PipelineError(f"{path} has no target column '{params.data.target}'")
    return preprocess(frame, spec), encode_target(frame[params.data.target], spec), spec


@dataclass(frozen=True)
class CrossValidation:
    """What k-fold cross-validation found: scores, rounds, and out-of-fold predictions.

    `out_of_fold` is (n,) for binary and regression, (n, classes) for multiclass.
    """

    summary: dict[str, float | int]
    rounds: int
    out_of_fold: np.ndarray


def cross_validate(
    features: np.ndarray,
    labels: np.ndarray,
    spec: FeatureSpec,
    params: Params,
    on_fold: Callable[[int, dict[str, float]], None] | None = None,
) -> CrossValidation | None:
    """k-fold CV (stratified for classifiers), each fold early-stopped on its held-out part.

    Returns each metric's mean and std at the folds' best rounds, the number of rounds for the
    final fit (the mean of the folds' best), and every training row's prediction by the fold
    model that did not see it (what the decision threshold is chosen on). None when
    `train.cv_folds` < 2. `on_fold(index, scores)` is called after each fold with that fold's
    scores (tuning prunes a trial from it).
    """
    folds = params.train.cv_folds
    if folds < 2:
        return None
    metrics = _watched_metrics(params)
    width = (len(spec.classes),) if spec.task == "multiclass" else ()
    out_of_fold = np.empty((len(labels), *width), dtype=np.float64)
    scores: dict[str, list[float]] = {metric: [] for metric in metrics}
    rounds = []
    kind = KFold if spec.task == "regression" else StratifiedKFold
    splitter = kind(n_splits=folds, shuffle=True, random_state=params.seed)
    for index, (fit_rows, held_rows) in enumerate(splitter.split(features, labels)):
        fit_x, fit_y = features[fit_rows], labels[fit_rows]
        held_x, held_y = features[held_rows], labels[held_rows]
        booster, history = _early_stopped(params, spec, fit_x, fit_y, held_x, held_y)
        best = int(booster.best_iteration)
        rounds.append(best + 1)
        for metric in metrics:
            scores[metric].append(float(history[metric][best]))
        held = model_dmatrix(held_x, spec, nthread=params.train.n_jobs)
        out_of_fold[held_rows] = booster.predict(held, iteration_range=(0, best + 1))
        if on_fold is not None:
            on_fold(index, {metric: scores[metric][-1] for metric in metrics})
    final_rounds = max(1, round(float(np.mean(rounds))))
    summary: dict[str, float | int] = {"cv_folds": folds, "cv_best_rounds": final_rounds}
    for metric in metrics:
        summary[f"cv_{metric}_mean"] = round(float(np.mean(scores[metric])), 6)
        summary[f"cv_{metric}_std"] = round(float(np.std(scores[metric])), 6)
    return CrossValidation(summary, final_rounds, out_of_fold)


# The order the metrics are watched in (binary's as before the other tasks came).
CV_ORDER = {
    "binary": ("auc", "aucpr", "logloss", "error"),
    "multiclass": ("merror", "mlogloss"),
    "regression": ("mae", "rmse"),
}


def _watched_metrics(params: Params) -> list[str]:
    """Every CV metric of the task, the configured one last (early stopping watches the last)."""
    chosen = params.eval_metric
    return [m for m in CV_ORDER[params.data.task] if m != chosen] + [chosen]


def _curve_evals(
    matrix: xgb.DMatrix, x: np.ndarray, y: np.ndarray, spec: FeatureSpec, params: Params
) -> list[tuple[xgb.DMatrix, str]]:
    """The training-set entry of the learning curves: `matrix` itself when it has at most
    `train.curve_rows` rows, else a seeded sample of that many of its rows."""
    limit = params.train.curve_rows
    if len(y) <= limit:
        return [(matrix, "train")]
    rows = np.sort(np.random.default_rng(params.seed).choice(len(y), limit, replace=False))
    sample = model_dmatrix(x[rows], spec, y[rows], nthread=params.train.n_jobs)
    return [(sample, "train")]


def _early_stopped(
    params: Params,
    spec: FeatureSpec,
    fit_x: np.ndarray,
    fit_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    callbacks: list[Any] | None = None,
) -> tuple[xgb.Booster, dict[str, list[float]]]:
    """A booster early-stopped on (val_x, val_y), and the validation history per metric.

    With `callbacks` (the learning curves) the training rows are evaluated too (`_curve_evals`);
    without, only the validation part, whose history is the same either way.
    """
    n_jobs = params.train.n_jobs
    train_matrix = model_dmatrix(fit_x, spec, fit_y, nthread=n_jobs)
    valid_matrix = model_dmatrix(val_x, spec, val_y, nthread=n_jobs)
    curves = _curve_evals(train_matrix, fit_x, fit_y, spec, params) if callbacks else []
    history: dict[str, dict[str, list[float]]] = {}
    booster = xgb.train(
        {**booster_params(params), "eval_metric": _watched_metrics(params)},
        train_matrix,
        num_boost_round=params.model.n_estimators,
        evals=[*curves, (valid_matrix, "validation")],
        early_stopping_rounds=params.train.early_stopping_rounds,
        evals_result=history,
        callbacks=callbacks,
        verbose_eval=False,
    )
    return booster, history["validation"]


def fit(
    features: np.ndarray,
    labels: np.ndarray,
    spec: FeatureSpec,
    params: Params,
    rounds: int | None = None,
    callbacks: list[Any] | None = None,
) -> tuple[xgb.Booster, dict[str, float | int], np.ndarray | None]:
    """The final model.

    With `rounds` (found by cross-validation): every training row, exactly that many rounds.
    Without: early stopping on a stratified `train.validation_size` part, whose predictions
    are returned with the booster (labels first) for choosing the decision threshold.
    The returned booster holds exactly the trees it keeps.
    """
    n_jobs = params.train.n_jobs
    if rounds is not None:
        matrix = model_dmatrix(features, spec, labels, nthread=n_jobs)
        booster = xgb.train(
            booster_params(params),
            matrix,
            num_boost_round=rounds,
            evals=_curve_evals(matrix, features, labels, spec, params) if callbacks else (),
            callbacks=callbacks,
            verbose_eval=False,
        )
        return booster, {"best_iteration": rounds - 1, "fit_rows": len(labels)}, None
    fit_x, val_x, fit_y, val_y = train_test_split(
        features,
        labels,
        test_size=params.train.validation_size,
        stratify=labels if spec.classifier else None,
        random_state=params.seed,
    )
    booster, history = _early_stopped(params, spec, fit_x, fit_y, val_x, val_y, callbacks)
    best_iteration = int(booster.best_iteration)
    summary = {
        "best_iteration": best_iteration,
        f"validation_{params.eval_metric}": round(
            float(history[params.eval_metric][best_iteration]), 6
        ),
        "fit_rows": len(fit_y),
        "validation_rows": len(val_y),
    }
    kept = booster[: best_iteration + 1]
    validation = model_dmatrix(val_x, spec, nthread=n_jobs)
    if spec.task != "binary":
        return kept, summary, None  # a decision threshold is for binary models only
    return kept, summary, np.vstack([val_y, kept.predict(validation)])


def choose_decision_threshold(
    params: Params, labels: np.ndarray, cv: CrossValidation | None, held: np.ndarray | None
) -> dict[str, Any]:
    """The binary decision threshold: chosen on out-of-fold (or validation) predictions."""
    if cv is not None:
        threshold_labels, threshold_scores = labels, cv.out_of_fold
        chosen_on = f"out-of-fold predictions ({cv.summary['cv_folds']} folds)"
    else:
        assert held is not None
        threshold_labels, threshold_scores = held[0], held[1]
        chosen_on = "the early-stopping validation part"
    config = params.train.threshold
    return {
        "value": round(choose_threshold(threshold_labels, threshold_scores, config), 6),
        "method": config.method,
        "chosen_on": "config (fixed)" if config.method == "fixed" else chosen_on,
    }


def trivial_model(labels: np.ndarray, spec: FeatureSpec) -> dict[str, Any]:
    """The model that ignores the features, fit on the training split.

    Classifiers: the class shares (the class prior); regression: the training mean.
    """
    if spec.task == "regression":
        deciles = np.quantile(labels, np.linspace(0.1, 0.9, 9))
        return {
            "kind": "training mean",
            "prediction": round(float(np.mean(labels)), 6),
            "deciles": [round(float(v), 6) for v in deciles],
        }
    if spec.task == "multiclass":
        counts = np.bincount(labels, minlength=len(spec.classes)) / len(labels)
        shares = {c: round(float(s), 6) for c, s in zip(spec.classes, counts, strict=True)}
        return {"kind": "class prior", "class_shares": shares}
    positive = round(float(np.mean(labels)), 6)
    negative = next(c for c in spec.classes if c != spec.positive_class)
    return {
        "kind": "class prior",
        "class_shares": {negative: round(1 - positive, 6), spec.positive_class: positive},
        "positive_score": positive,
    }


def build_metadata(
    params: Params, spec: FeatureSpec, model_bytes: bytes, metrics: dict[str, Any]
) -> dict[str, Any]:
    """Everything needed to use the model later: features, classes, data and code versions."""
    return {
        "model_file": paths.MODEL_FILE.name,
        "model_md5": hashlib.md5(model_bytes, usedforsecurity=False).hexdigest(),
        "package_version": __version__,
        "feature_spec": spec.to_dict(),
        "objective": booster_params(params)["objective"],
        "training_data_md5": md5_file(paths.TRAIN_DATA),
        "training": metrics,
        "params": {
            "seed": params.seed,
            "data": params.data.model_dump(mode="json"),
            "model": params.model.model_dump(),
            "train": params.train.model_dump(),
        },
        "libraries": {
            "python": platform.python_version(),
            **{name: importlib_metadata.version(_distribution(name)) for name in LIBRARIES},
        },
    }


def _distribution(name: str) -> str:
    """The installed distribution of a library (xgboost may come as xgboost-cpu)."""
    if name == "xgboost":
        for candidate in ("xgboost", "xgboost-cpu"):
            try:
                importlib_metadata.version(candidate)
            except importlib_metadata.PackageNotFoundError:
                continue
            return candidate
    return name
