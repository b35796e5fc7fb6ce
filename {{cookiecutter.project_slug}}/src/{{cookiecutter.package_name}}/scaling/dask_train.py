"""`train.engine: dask`: the final model trained with `xgboost.dask` on a Dask cluster.

The prepared training split is read as Dask partitions (`train.dask.partition_rows` rows
each); every partition goes through the same `features.preprocess` and `encode_target` as the
local engine (`map_partitions`), so the model input is the same. K-fold cross-validation would
cost K distributed fits, so this engine uses the holdout mode: a seeded `validation_size` share
of the rows is held out for early stopping and for choosing the decision threshold. The model
is an ordinary XGBoost booster saved in the same file format, so evaluate, package, serving and
the gate do not change.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..artifacts import paths
from ..errors import PipelineError
from ..model.features import FeatureSpec, encode_target, preprocess
from ..settings.params import Params
from .cluster import dask_client, worker_threads

if TYPE_CHECKING:
    import xgboost as xgb

log = logging.getLogger(__name__)
HOLDOUT = "holdout"


def model_input(part: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """One partition's model input: `preprocess` output with the feature names as columns."""
    return pd.DataFrame(preprocess(part, spec), columns=spec.names, index=part.index)


def labels_of(part: pd.DataFrame, spec: FeatureSpec) -> pd.Series:
    """One partition's 0/1 labels (`encode_target`)."""
    return pd.Series(encode_target(part[spec.target], spec), index=part.index, name="label")


def read_partitions(params: Params, spec: FeatureSpec) -> Any:
    """The prepared training split as a Dask DataFrame of about `partition_rows` rows each."""
    import dask.dataframe as dd

    if not paths.TRAIN_DATA.is_file():
        raise PipelineError(f"{paths.TRAIN_DATA} not found: run the prepare stage first")
    frame = dd.read_parquet(paths.TRAIN_DATA)
    if spec.target not in frame.columns:
        raise PipelineError(f"{paths.TRAIN_DATA} has no target column '{spec.target}'")
    rows = int(frame.shape[0].compute())
    partitions = max(1, -(-rows // params.train.dask.partition_rows))
    return frame.repartition(npartitions=partitions)


def _fit_and_held_parts(client: Any, params: Params, spec: FeatureSpec) -> tuple[Any, Any]:
    """The model input with its labels, split (seeded) into the fit and held-out parts, persisted
    on the cluster."""
    frame = read_partitions(params, spec)
    meta_x = pd.DataFrame({name: pd.Series(dtype="float32") for name in spec.names})
    label_type = "float64" if spec.task == "regression" else "int32"
    meta_y = pd.Series(dtype=label_type, name="label")
    features = frame.map_partitions(model_input, spec, meta=meta_x)
    labels = frame.map_partitions(labels_of, spec, meta=meta_y)
    both = features.assign(label=labels)
    config = params.train
    fit_part, held_part = both.random_split(
        [1 - config.validation_size, config.validation_size], random_state=params.seed
    )
    fit_part, held_part = client.persist([fit_part, held_part])
    return fit_part, held_part


def fit_on_dask(
    params: Params, booster_params: dict[str, Any]
) -> tuple[xgb.Booster, dict[str, Any], np.ndarray, np.ndarray, FeatureSpec, dict[str, Any]]:
    """Train on the cluster; return the booster (best rounds kept), the fit summary, the
    holdout's labels and scores (labels first), all training labels, the spec, and history."""
    import xgboost as xgb
    import xgboost.dask

    from .round_progress import RoundProgress

    spec = FeatureSpec.from_data_config(params.data)
    config = params.train
    with dask_client(config.dask) as client:
        fit_part, held_part = _fit_and_held_parts(client, params, spec)
        threads = worker_threads(client)
        matrix_args = {
            "feature_names": spec.names,
            "feature_types": spec.feature_types,
            "enable_categorical": True,
        }
        fit_matrix = xgb.dask.DaskQuantileDMatrix(
            client, fit_part[spec.names], fit_part["label"], **matrix_args
        )
        held_matrix = xgb.dask.DaskQuantileDMatrix(
            client, held_part[spec.names], held_part["label"], ref=fit_matrix, **matrix_args
        )
        output = xgb.dask.train(
            client,
            {**booster_params, "nthread": threads},
            fit_matrix,
            num_boost_round=params.model.n_estimators,
            evals=[(held_matrix, "validation")],
            early_stopping_rounds=config.early_stopping_rounds,
            verbose_eval=False,
            callbacks=[RoundProgress("train (dask)", params.model.n_estimators)],
        )
        booster: xgb.Booster = output["booster"]
        history = output["history"]["validation"]
        best = int(booster.best_iteration)
        kept = booster[: best + 1]
        held_scores = xgb.dask.predict(client, kept, held_matrix).compute()
        held_labels = held_part["label"].compute().to_numpy()
        all_labels = np.concatenate([fit_part["label"].compute().to_numpy(), held_labels])
        workers = len(client.nthreads())
    metric = params.eval_metric
    summary = {
        "engine": "dask",
        "dask_workers": workers,
        "best_iteration": best,
        f"validation_{metric}": round(float(history[metric][best]), 6),
        "fit_rows": len(all_labels) - len(held_labels),
        "validation_rows": len(held_labels),
    }
    return (
        kept,
        summary,
        held_outputs(held_labels, held_scores),
        all_labels,
        spec,
        history,
    )


def held_outputs(labels: np.ndarray, scores: np.ndarray) -> np.ndarray | None:
    """The validation labels above the scores (binary's threshold input); None for multiclass."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.vstack([labels, scores]) if scores.ndim == 1 else None
