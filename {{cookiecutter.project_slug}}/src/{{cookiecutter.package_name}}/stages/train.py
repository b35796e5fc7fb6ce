"""Stage `train`: cross-validate, then fit the final XGBoost model with early stopping."""

from __future__ import annotations

import hashlib
import logging
import platform
import sys
from collections.abc import Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.model_selection import StratifiedKFold, train_test_split

from .. import __version__
from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..artifacts.hashing import md5_file
from ..cli import run_stage
from ..compat import file_only_dvclive
from ..errors import PipelineError
from ..model.features import FeatureSpec, encode_target, model_dmatrix, preprocess
from ..settings.params import Params

log = logging.getLogger(__name__)
CV_METRICS = ("auc", "aucpr", "logloss", "error")
LIBRARIES = ("xgboost", "pandas", "numpy", "scikit-learn", "pyarrow")


def booster_params(params: Params) -> dict[str, Any]:
    """XGBoost training parameters from the config (fixed seed and threads: deterministic)."""
    model = params.model
    return {
        "objective": "binary:logistic",
        "eval_metric": params.train.eval_metric,
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


def load_training_matrix(
    params: Params, path: Path = paths.TRAIN_DATA
) -> tuple[np.ndarray, np.ndarray, FeatureSpec]:
    """The prepared training rows as model input (through `preprocess`) and 0/1 labels."""
    if not path.is_file():
        raise PipelineError(f"{path} not found: run the prepare stage first")
    spec = FeatureSpec.from_data_config(params.data)
    frame = pd.read_parquet(path)
    if params.data.target not in frame.columns:
        raise PipelineError(f"{path} has no target column '{params.data.target}'")
    return preprocess(frame, spec), encode_target(frame[params.data.target], spec), spec


def cross_validate(
    features: np.ndarray, labels: np.ndarray, spec: FeatureSpec, params: Params
) -> dict[str, float | int]:
    """Stratified k-fold CV with early stopping: mean and std of each metric at the best round."""
    folds = params.train.cv_folds
    if folds < 2:
        return {}
    matrix = model_dmatrix(features, spec, labels, nthread=params.train.n_jobs)
    # Early stopping watches the last metric: put the configured one last.
    metrics = [m for m in CV_METRICS if m != params.train.eval_metric] + [params.train.eval_metric]
    history = xgb.cv(
        booster_params(params),
        matrix,
        num_boost_round=params.model.n_estimators,
        folds=StratifiedKFold(n_splits=folds, shuffle=True, random_state=params.seed),
        metrics=metrics,
        early_stopping_rounds=params.train.early_stopping_rounds,
        seed=params.seed,
        as_pandas=True,
    )
    best = history.iloc[-1]
    summary: dict[str, float | int] = {"cv_folds": folds, "cv_best_rounds": len(history)}
    for metric in metrics:
        summary[f"cv_{metric}_mean"] = round(float(best[f"test-{metric}-mean"]), 6)
        summary[f"cv_{metric}_std"] = round(float(best[f"test-{metric}-std"]), 6)
    return summary


def fit(
    features: np.ndarray,
    labels: np.ndarray,
    spec: FeatureSpec,
    params: Params,
    callbacks: list[Any] | None = None,
) -> tuple[xgb.Booster, dict[str, float | int]]:
    """The final model: fit on the training split, early-stop on a stratified validation part.

    The returned booster holds exactly the trees up to the best round.
    """
    fit_x, val_x, fit_y, val_y = train_test_split(
        features,
        labels,
        test_size=params.train.validation_size,
        stratify=labels,
        random_state=params.seed,
    )
    n_jobs = params.train.n_jobs
    train_matrix = model_dmatrix(fit_x, spec, fit_y, nthread=n_jobs)
    valid_matrix = model_dmatrix(val_x, spec, val_y, nthread=n_jobs)
    booster = xgb.train(
        booster_params(params),
        train_matrix,
        num_boost_round=params.model.n_estimators,
        evals=[(train_matrix, "train"), (valid_matrix, "validation")],
        early_stopping_rounds=params.train.early_stopping_rounds,
        callbacks=callbacks,
        verbose_eval=False,
    )
    best_iteration = int(booster.best_iteration)
    summary = {
        "best_iteration": best_iteration,
        f"validation_{params.train.eval_metric}": round(float(booster.best_score), 6),
        "fit_rows": len(fit_y),
        "validation_rows": len(val_y),
    }
    return booster[: best_iteration + 1], summary


def train(params: Params, log_with_dvclive: bool = True) -> dict[str, Any]:
    """Run the stage; write the model, its metadata and the training metrics."""
    features, labels, spec = load_training_matrix(params)
    cv_summary = cross_validate(features, labels, spec, params)
    if log_with_dvclive:
        from dvclive.xgb import DVCLiveCallback

        with _live() as live:
            booster, fit_summary = fit(features, labels, spec, params, [DVCLiveCallback(live=live)])
    else:
        booster, fit_summary = fit(features, labels, spec, params)
    model_bytes = bytes(booster.save_raw(raw_format="ubj"))
    metrics = {**cv_summary, **fit_summary, "n_features": len(spec.features)}
    metadata = build_metadata(params, spec, model_bytes, metrics)
    with staged_outputs() as staged:
        staged.write_bytes(paths.MODEL_FILE, model_bytes)
        staged.write_json(paths.METADATA_FILE, metadata)
        staged.write_json(paths.TRAIN_METRICS, metrics)
    log.info("train: %s", metrics)
    return metrics


def _live() -> Any:
    return file_only_dvclive(paths.DVCLIVE_DIR)


def build_metadata(
    params: Params, spec: FeatureSpec, model_bytes: bytes, metrics: dict[str, Any]
) -> dict[str, Any]:
    """Everything needed to use the model later: features, classes, data and code versions."""
    return {
        "model_file": paths.MODEL_FILE.name,
        "model_md5": hashlib.md5(model_bytes, usedforsecurity=False).hexdigest(),
        "package_version": __version__,
        "feature_spec": spec.to_dict(),
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


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("train", __doc__ or "", train, argv)


if __name__ == "__main__":
    sys.exit(main())
