"""`train.engine: dask` with `train.dask.external_memory: true`: memory per worker bounded by
the batch size, not by the worker's share of the table.

`xgboost.dask` keeps each worker's share of the training rows resident. Here each worker
instead streams its own batches of the prepared Parquet (`train.dask.partition_rows` rows;
batch i goes to worker i mod n) into XGBoost's `ExtMemQuantileDMatrix`, the workers joined in
one XGBoost collective (distributed external memory, XGBoost >= 3.0): the quantile sketch and
every round's histograms are combined across workers, so all of them grow the same trees. A
worker holds one batch and its quantised pages, cached on its local disk. The held-out rows of
each batch are those of the one-machine `external_memory` engine (seeded per batch), through
the same preprocessing function. Every worker must read the prepared Parquet at the same path
(a shared or copied folder), as for `dask`.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..artifacts import paths
from ..compat import xgboost_collective_args
from ..errors import PipelineError
from ..model.features import FeatureSpec
from ..settings.params import Params
from .cluster import dask_client, worker_threads
from .dask_train import held_outputs
from .external_memory import fit_from_batches

if TYPE_CHECKING:
    import xgboost as xgb


def train_share(
    rank: int,
    workers: int,
    collective: dict[str, Any],
    path: str,
    spec: FeatureSpec,
    params: Params,
    booster_params: dict[str, Any],
) -> dict[str, Any]:
    """On one Dask worker: train on batches `rank`, `rank + workers`, ... in the collective.

    Returns the model (from rank 0 only: every rank holds the same one), the validation
    history, and this worker's held-out labels and scores and fit labels.
    """
    from xgboost.dask import CommunicatorContext

    with CommunicatorContext(**collective):
        fitted = fit_from_batches(
            Path(path),
            spec,
            params,
            booster_params,
            booster_params["nthread"],
            lambda batch: batch % workers == rank,
        )
    return {
        "model": bytes(fitted.booster.save_raw("ubj")) if rank == 0 else None,
        "best_iteration": fitted.best_iteration,
        "history": fitted.history,
        "held_labels": fitted.held_labels,
        "held_scores": fitted.held_scores,
        "fit_labels": fitted.fit_labels,
    }


def fit_on_dask_external_memory(
    params: Params, booster_params: dict[str, Any]
) -> tuple[xgb.Booster, dict[str, Any], np.ndarray, np.ndarray, FeatureSpec, dict[str, Any]]:
    """Train on the cluster, each worker from its own batches (holdout mode); as `fit_on_dask`."""
    import pyarrow.parquet as pq
    import xgboost as xgb

    path = paths.TRAIN_DATA.resolve()
    if not path.is_file():
        raise PipelineError(f"{paths.TRAIN_DATA} not found: run the prepare stage first")
    spec = FeatureSpec.from_data_config(params.data)
    config = params.train
    batches = -(-pq.ParquetFile(path).metadata.num_rows // config.dask.partition_rows)
    with dask_client(config.dask) as client:
        threads = worker_threads(client)
        # No more workers than batches: every member of the collective has rows.
        addresses = sorted(client.nthreads())[: max(1, batches)]
        collective = xgboost_collective_args(client, len(addresses))
        run = uuid.uuid4().hex
        futures = [
            client.submit(
                train_share,
                rank,
                len(addresses),
                collective,
                str(path),
                spec,
                params,
                {**booster_params, "nthread": threads},
                workers=[address],
                allow_other_workers=False,
                pure=False,
                key=f"xgboost-external-memory-{run}-{rank}",
            )
            for rank, address in enumerate(addresses)
        ]
        shares = client.gather(futures)
    booster = xgb.Booster()
    booster.load_model(bytearray(shares[0]["model"]))
    best = shares[0]["best_iteration"]
    history = shares[0]["history"]
    held_labels = np.concatenate([share["held_labels"] for share in shares])
    held_scores = np.concatenate([share["held_scores"] for share in shares])
    fit_labels = np.concatenate([share["fit_labels"] for share in shares])
    metric = params.eval_metric
    summary = {
        "engine": "dask",
        "external_memory": True,
        "dask_workers": len(addresses),
        "best_iteration": best,
        f"validation_{metric}": round(float(history[metric][best]), 6),
        "fit_rows": len(fit_labels),
        "validation_rows": len(held_labels),
    }
    return (
        booster,
        summary,
        held_outputs(held_labels, held_scores),
        np.concatenate([fit_labels, held_labels]),
        spec,
        history,
    )
