"""The training engines other than `local`, behind one call that `stages.train` makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..settings.params import Params

if TYPE_CHECKING:
    import xgboost as xgb

    from ..model.features import FeatureSpec


def fit_with_engine(
    params: Params,
    booster_params: dict[str, Any],
    live: Callable[[], Any] | None,
) -> tuple[xgb.Booster, dict[str, Any], np.ndarray, np.ndarray, FeatureSpec]:
    """Fit with `train.engine` (holdout mode); log the validation history with DVCLive."""
    if params.train.engine == "dask" and params.train.dask.external_memory:
        from .dask_external_memory import fit_on_dask_external_memory

        fitted = fit_on_dask_external_memory(params, booster_params)
        booster, summary, held, labels, spec, history = fitted
    elif params.train.engine == "dask":
        from .dask_train import fit_on_dask

        booster, summary, held, labels, spec, history = fit_on_dask(params, booster_params)
    else:
        from .external_memory import fit_external_memory

        booster, summary, held, labels, spec, history = fit_external_memory(params, booster_params)
    if live is not None:
        with live() as logger:
            rounds = len(next(iter(history.values()), []))
            for step in range(rounds):
                for metric, values in history.items():
                    logger.log_metric(f"validation/{metric}", float(values[step]))
                logger.next_step()
    return booster, summary, held, labels, spec
