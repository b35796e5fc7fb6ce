"""Stage `drift`: the test split against the training split, and the check the monitor reuses.

Per feature column: Evidently's drift score, threshold and verdict; the share of drifted columns
and the dataset verdict; drift of the model's predicted scores; drift of the target when the
current data has labels. Evidently is imported inside `run_check` only: importing it costs
seconds, and the command line and the service must start without it.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import paths
from .atomic import staged_outputs
from .config import DriftConfig, Params
from .drift_summary import column_result, markdown, summarise
from .errors import PipelineError
from .model_io import LoadedModel, load_model
from .scoring import positive_scores
from .stage import run_stage

log = logging.getLogger(__name__)
SCORE_COLUMN = "model_score"


@dataclass
class DriftCheck:
    """The summary (JSON-ready) and the Evidently snapshot (for the HTML report)."""

    summary: dict[str, Any]
    snapshot: Any
    current_sample: pd.DataFrame
    current_scores: np.ndarray

    def save_html(self, path: str | Path) -> None:
        self.snapshot.save_html(str(path))


def sample_rows(frame: pd.DataFrame, limit: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most `limit` rows drawn without replacement (0: all rows), in their original order."""
    if limit == 0 or len(frame) <= limit:
        return frame.reset_index(drop=True)
    chosen = np.sort(rng.choice(len(frame), size=limit, replace=False))
    return frame.iloc[chosen].reset_index(drop=True)


def run_check(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    model: LoadedModel,
    config: DriftConfig,
    seed: int,
    names: tuple[str, str] = ("reference", "current"),
) -> DriftCheck:
    """Compare `current` with `reference` (raw records with the model's feature columns).

    Both sides are sampled to `config.sample_rows` (seeded), scored by the model through the
    one preprocessing path, and checked column by column with the configured methods. The
    target is checked when `current` has it (with at least one label).
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    spec = model.spec
    if len(current) == 0 or len(reference) == 0:
        raise PipelineError(
            f"drift check: {names[0] if len(reference) == 0 else names[1]} has no rows"
        )
    if SCORE_COLUMN in spec.names:
        raise PipelineError(
            f"drift check: a feature is named '{SCORE_COLUMN}', reserved for scores"
        )
    rng = np.random.default_rng(seed)
    ref = sample_rows(reference, config.sample_rows, rng)
    cur = sample_rows(current, config.sample_rows, rng)
    thin = {
        name: [int(ref[name].notna().sum()), int(cur[name].notna().sum())] for name in spec.names
    }
    thin = {name: counts for name, counts in thin.items() if min(counts) < config.min_values}
    checked = [name for name in spec.names if name not in thin]
    if not checked:
        raise PipelineError(
            f"drift check: every feature has fewer than drift.min_values ({config.min_values}) "
            f"non-missing values on a side: {thin}"
        )
    ref_scores, cur_scores = positive_scores(model, ref), positive_scores(model, cur)
    labelled = spec.target in cur.columns and bool(cur[spec.target].notna().any())
    numeric = [f.name for f in spec.features if f.kind == "numeric"]
    category = [f.name for f in spec.features if f.kind == "category"]
    columns = [*spec.names, SCORE_COLUMN, *([spec.target] if labelled else [])]
    definition = DataDefinition(
        numerical_columns=[*numeric, SCORE_COLUMN],
        categorical_columns=[*category, *([spec.target] if labelled else [])],
    )

    def dataset(frame: pd.DataFrame, scores: np.ndarray) -> Any:
        table = _evidently_frame(frame, spec.names, columns)
        table[SCORE_COLUMN] = scores
        return Dataset.from_pandas(table, data_definition=definition)

    metrics: list[Any] = [
        DataDriftPreset(
            columns=checked,
            num_method=config.num_method,
            num_threshold=config.num_threshold,
            cat_method=config.cat_method,
            cat_threshold=config.cat_threshold,
            drift_share=config.drift_share,
        ),
        ValueDrift(
            column=SCORE_COLUMN, method=config.num_method, threshold=config.prediction_threshold
        ),
    ]
    if labelled:
        metrics.append(
            ValueDrift(
                column=spec.target, method=config.cat_method, threshold=config.target_threshold
            )
        )
    with warnings.catch_warnings():
        # Constant columns (one value in a period) make numpy warn inside Evidently's stats.
        warnings.simplefilter("ignore", RuntimeWarning)
        snapshot = Report(metrics, include_tests=True).run(
            dataset(cur, cur_scores), dataset(ref, ref_scores)
        )
    results = _column_results(
        snapshot.dict(),
        kinds={
            **{name: "numeric" for name in numeric},
            **{name: "category" for name in category},
            SCORE_COLUMN: "prediction",
            spec.target: "target",
        },
    )
    missing = [name for name in [*checked, SCORE_COLUMN] if name not in results]
    if missing:
        raise PipelineError(f"drift check: Evidently returned no result for {missing}")
    summary = summarise(
        {name: results[name] for name in checked},
        drift_share=config.drift_share,
        prediction=results[SCORE_COLUMN],
        target=results.get(spec.target) if labelled else None,
        reference={"name": names[0], "rows": len(reference), "rows_checked": len(ref)},
        current={"name": names[1], "rows": len(current), "rows_checked": len(cur)},
        too_few_values=thin,
    )
    return DriftCheck(summary, snapshot, cur, cur_scores)


def _evidently_frame(frame: pd.DataFrame, features: list[str], columns: list[str]) -> pd.DataFrame:
    """The columns Evidently reads; nullable integers as floats (it expects numpy dtypes)."""
    table = frame[[c for c in columns if c in frame.columns]].copy()
    for name in features:
        if pd.api.types.is_integer_dtype(table[name].dtype) or pd.api.types.is_float_dtype(
            table[name].dtype
        ):
            table[name] = table[name].astype("float64")
    return table


def _column_results(snapshot: dict[str, Any], kinds: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per column: method, score, threshold and the verdict of its Evidently test (FAIL = drift)."""
    status = {
        test["metric_config"]["metric_id"]: test["status"]
        for test in snapshot.get("tests", [])
        if test.get("metric_config", {}).get("params", {}).get("type", "").endswith("ValueDrift")
    }
    results = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if not config.get("type", "").endswith(":ValueDrift"):
            continue
        column = config["column"]
        if metric["id"] not in status:
            raise PipelineError(f"drift check: Evidently returned no test verdict for '{column}'")
        results[column] = column_result(
            kinds.get(column, "numeric"),
            config["method"],
            metric["value"],
            config["threshold"],
            status[metric["id"]] == "FAIL",
        )
    return results


def drift(params: Params) -> dict[str, Any]:
    """Run the stage: the test split against the training split; write JSON, Markdown, HTML."""
    model = load_model()
    frames = []
    for path in (paths.TRAIN_DATA, paths.TEST_DATA):
        if not path.is_file():
            raise PipelineError(f"{path} not found: run the prepare stage first")
        frames.append(pd.read_parquet(path))
    check = run_check(
        frames[0], frames[1], model, params.drift, params.seed, ("training split", "test split")
    )
    with staged_outputs() as staged:
        staged.write_json(paths.DRIFT_METRICS, check.summary)
        staged.write_text(paths.DRIFT_MARKDOWN, markdown(check.summary, "Verdict", level=0))
        check.save_html(staged.path(paths.DRIFT_HTML))
    summary = check.summary
    log.info(
        "drift: %d of %d columns drifted (dataset drift: %s); prediction drift: %s",
        summary["drifted_columns"],
        summary["columns"],
        summary["dataset_drift"],
        summary["prediction_drift"]["drifted"],
    )
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("drift", __doc__ or "", drift, argv)


if __name__ == "__main__":
    sys.exit(main())
