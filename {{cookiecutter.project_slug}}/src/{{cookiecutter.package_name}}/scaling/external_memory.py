"""`train.engine: external_memory`: train from Parquet batches through XGBoost's
`ExtMemQuantileDMatrix` (xgboost >= 3), for a training split larger than this machine's memory.

The prepared training split is read in batches of `train.dask.partition_rows` rows; each batch
goes through `features.preprocess` and `encode_target` (the one preprocessing path). XGBoost
keeps only the quantised pages, cached on disk under a temporary folder, and streams them every
round. A seeded `validation_size` share of each batch's rows is held out for early stopping and
the decision threshold (the holdout mode, as with Dask).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..artifacts import paths
from ..errors import PipelineError
from ..model.features import FeatureSpec, encode_target, preprocess
from ..settings.params import Params
from .dask_train import held_outputs

if TYPE_CHECKING:
    import xgboost as xgb


def held_out(batch: int, rows: int, share: float, seed: int) -> np.ndarray:
    """Which rows of batch number `batch` are held out (seeded per batch: reproducible)."""
    return np.random.default_rng([seed, batch]).random(rows) < share


def labels_as_trained(labels: np.ndarray, task: str) -> np.ndarray:
    """A matrix's labels (XGBoost keeps float32) as the local engine has them: class indices
    as int32 for classifiers, the numbers as float64 for regression."""
    return labels.astype(np.float64 if task == "regression" else np.int32)


def parquet_batches(
    path: Path,
    spec: FeatureSpec,
    batch_rows: int,
    keep: Callable[[int, int], np.ndarray | None],
) -> Any:
    """An `xgb.DataIter` class over the model input of a Parquet file, `batch_rows` at a time:
    `keep(batch number, rows)` picks the rows of each batch, or None to skip the batch (a batch
    with no row picked is skipped too, rather than handing XGBoost an empty one)."""
    import pyarrow.parquet as pq
    import xgboost as xgb

    class ParquetBatches(xgb.DataIter):
        """Model input from a Parquet file, batch by batch (rows chosen by `keep`)."""

        def __init__(self, cache: str) -> None:
            self._batch = 0
            self._reader: Any = None
            super().__init__(cache_prefix=cache)

        def reset(self) -> None:
            self._batch = 0
            self._reader = None

        def next(self, input_data: Callable[..., None]) -> bool:
            if self._reader is None:
                self._reader = pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
            for table in self._reader:
                rows = keep(self._batch, table.num_rows)
                self._batch += 1
                if rows is None or not rows.any():  # not this reader's, or no row chosen
                    continue
                part = table.to_pandas().loc[rows]
                input_data(
                    data=preprocess(part, spec),
                    label=encode_target(part[spec.target], spec),
                    feature_names=spec.names,
                    feature_types=spec.feature_types,
                )
                return True
            return False

    return ParquetBatches


@dataclass
class BatchFit:
    """A model trained from Parquet batches, its validation history, and the rows it saw."""

    booster: xgb.Booster  # cut to the best round
    best_iteration: int
    history: dict[str, list[float]]  # the validation metrics per round
    held_labels: np.ndarray
    held_scores: np.ndarray
    fit_labels: np.ndarray


def fit_from_batches(
    path: Path,
    spec: FeatureSpec,
    params: Params,
    booster_params: dict[str, Any],
    nthread: int,
    mine: Callable[[int], bool],
) -> BatchFit:
    """Train through `ExtMemQuantileDMatrix` on the batches `mine(batch number)` picks, with
    each batch's seeded `validation_size` share held out for early stopping (holdout mode).

    Alone, or on each member of an XGBoost collective (each picking its own batches)."""
    import xgboost as xgb

    from .round_progress import RoundProgress

    config = params.train
    share, seed, rows = config.validation_size, params.seed, config.dask.partition_rows

    def fit_rows(batch: int, n: int) -> np.ndarray | None:
        return ~held_out(batch, n, share, seed) if mine(batch) else None

    def held_rows(batch: int, n: int) -> np.ndarray | None:
        return held_out(batch, n, share, seed) if mine(batch) else None

    with tempfile.TemporaryDirectory(prefix="xgb-extmem-") as cache:
        batches = parquet_batches(path, spec, rows, fit_rows)
        held_batches = parquet_batches(path, spec, rows, held_rows)
        fit_matrix = xgb.ExtMemQuantileDMatrix(
            batches(str(Path(cache) / "fit")), enable_categorical=True, nthread=nthread
        )
        held_matrix = xgb.ExtMemQuantileDMatrix(
            held_batches(str(Path(cache) / "held")),
            ref=fit_matrix,
            enable_categorical=True,
            nthread=nthread,
        )
        history: dict[str, dict[str, list[float]]] = {}
        booster = xgb.train(
            booster_params,
            fit_matrix,
            num_boost_round=params.model.n_estimators,
            evals=[(held_matrix, "validation")],
            early_stopping_rounds=config.early_stopping_rounds,
            evals_result=history,
            verbose_eval=False,
            callbacks=[RoundProgress("train (external memory)", params.model.n_estimators)],
        )
        best = int(booster.best_iteration)
        kept = booster[: best + 1]
        fitted = BatchFit(
            booster=kept,
            best_iteration=best,
            history=history["validation"],
            held_labels=labels_as_trained(held_matrix.get_label(), spec.task),
            held_scores=kept.predict(held_matrix),
            fit_labels=labels_as_trained(fit_matrix.get_label(), spec.task),
        )
        del fit_matrix, held_matrix  # release the cache files before the folder goes
    return fitted


def fit_external_memory(
    params: Params, booster_params: dict[str, Any]
) -> tuple[xgb.Booster, dict[str, Any], np.ndarray, np.ndarray, FeatureSpec, dict[str, Any]]:
    """Train from the prepared Parquet through external memory (holdout mode)."""
    path = paths.TRAIN_DATA
    if not path.is_file():
        raise PipelineError(f"{path} not found: run the prepare stage first")
    spec = FeatureSpec.from_data_config(params.data)
    fitted = fit_from_batches(
        path, spec, params, booster_params, params.train.n_jobs, lambda batch: True
    )
    metric = params.eval_metric
    summary = {
        "engine": "external_memory",
        "best_iteration": fitted.best_iteration,
        f"validation_{metric}": round(float(fitted.history[metric][fitted.best_iteration]), 6),
        "fit_rows": len(fitted.fit_labels),
        "validation_rows": len(fitted.held_labels),
    }
    return (
        fitted.booster,
        summary,
        held_outputs(fitted.held_labels, fitted.held_scores),
        np.concatenate([fitted.fit_labels, fitted.held_labels]),
        spec,
        fitted.history,
    )
