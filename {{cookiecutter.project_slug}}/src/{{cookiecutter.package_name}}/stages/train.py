"""Stage `train`: write the model, its metadata and the training metrics.

The training itself is `model.training` (cross-validation, the final fit, the decision
threshold, the metadata); another `train.engine` trains through `scaling.engines`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..compat import file_only_dvclive
from ..model.training import (
    booster_params,
    build_metadata,
    choose_decision_threshold,
    cross_validate,
    fit,
    load_training_matrix,
    trivial_model,
)
from ..settings.command import run_stage
from ..settings.params import Params

log = logging.getLogger(__name__)


def train(params: Params, log_with_dvclive: bool = True) -> dict[str, Any]:
    """Run the stage; write the model, its metadata and the training metrics."""
    if params.train.engine != "local":  # scaling/: another engine, the holdout mode
        from ..scaling.engines import fit_with_engine

        booster, fit_summary, held, labels, spec = fit_with_engine(
            params, booster_params(params), _live if log_with_dvclive else None
        )
        cv = None
    else:
        features, labels, spec = load_training_matrix(params)
        cv = cross_validate(features, labels, spec, params)
        rounds = cv.rounds if cv else None
        if log_with_dvclive:
            from dvclive.xgb import DVCLiveCallback

            with _live() as live:
                booster, fit_summary, held = fit(
                    features, labels, spec, params, rounds, [DVCLiveCallback(live=live)]
                )
        else:
            booster, fit_summary, held = fit(features, labels, spec, params, rounds)
    threshold = (
        choose_decision_threshold(params, labels, cv, held) if spec.task == "binary" else None
    )
    model_bytes = bytes(booster.save_raw(raw_format="ubj"))
    metrics = {
        **(cv.summary if cv else {}),
        **fit_summary,
        "n_features": len(spec.features),
        **({"threshold": threshold["value"]} if threshold else {}),
    }
    metadata = build_metadata(params, spec, model_bytes, metrics)
    metadata["decision_threshold"] = threshold
    metadata["trivial_model"] = trivial_model(labels, spec)
    with staged_outputs() as staged:
        staged.write_bytes(paths.MODEL_FILE, model_bytes)
        staged.write_json(paths.METADATA_FILE, metadata)
        staged.write_json(paths.TRAIN_METRICS, metrics)
    log.info("train: %s", metrics)
    return metrics


def _live() -> Any:
    return file_only_dvclive(paths.DVCLIVE_DIR)


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("train", __doc__ or "", train, argv)


if __name__ == "__main__":
    sys.exit(main())
