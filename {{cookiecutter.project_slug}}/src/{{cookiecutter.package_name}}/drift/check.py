"""The drift check that the `drift` stage and the monitor share: one table against another.

Per feature column: Evidently's drift score, threshold and verdict; the share of drifted columns
and the dataset verdict; drift of the model's predicted scores; drift of the target when the
current data has labels. Evidently is imported inside `run_check` only: importing it costs
seconds, and the command line and the service must start without it. With the
`verdicts_before_report` speed-up (see `speedups`) a caller that does not write the HTML gets
each column scored by Evidently's stat test alone; the report (plots, tables) is built only if
the HTML is asked for later.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import speedups
from ..compat import evidently_column_drift
from ..errors import PipelineError
from ..model.files import LoadedModel
from ..model.scoring import decide, predictions
from ..settings.params import DriftConfig
from .chance import column_thresholds
from .summary import column_result, summarise

log = logging.getLogger(__name__)
SCORE_COLUMN = "model_score"


@dataclass
class DriftCheck:
    """The summary (JSON-ready) and Evidently's report (for the HTML), built when first asked."""

    summary: dict[str, Any]
    current_sample: pd.DataFrame
    current_scores: np.ndarray
    build_report: Callable[[], Any] = field(repr=False)
    built: Any = field(default=None, repr=False)

    @property
    def snapshot(self) -> Any:
        """Evidently's report over the checked samples, with the thresholds of the summary."""
        if self.built is None:
            self.built = self.build_report()
        return self.built

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
    with_report: bool = False,
) -> DriftCheck:
    """Compare `current` with `reference` (raw records with the model's feature columns).

    Both sides are sampled to `config.sample_rows` (seeded), scored by the model through the
    one preprocessing path, and checked column by column with the configured methods, each
    column's threshold raised to what chance gives at these sample sizes (`drift.chance`). The
    target is checked when `current` has it (with at least one label). `with_report`: the
    caller writes the HTML, so Evidently's report is built now and gives the verdicts too (one
    pass over the columns); otherwise the stat tests give them and the report waits.
    """
    _refuse_unusable_inputs(reference, current, model, names)
    rng = np.random.default_rng(seed)
    ref = sample_rows(reference, config.sample_rows, rng)
    cur = sample_rows(current, config.sample_rows, rng)
    thin = columns_with_too_few_values(ref, cur, model.spec.names, config.min_values)
    checked = [name for name in model.spec.names if name not in thin]
    if not checked:
        raise PipelineError(
            f"drift check: every feature has fewer than drift.min_values ({config.min_values}) "
            f"non-missing values on a side: {thin}"
        )
    ref_scores, cur_scores = model_outputs(model, ref), model_outputs(model, cur)
    labelled = model.spec.target in cur.columns and bool(cur[model.spec.target].notna().any())
    thresholds = _thresholds(
        ref, cur, ref_scores, cur_scores, model, config, checked, labelled, seed
    )

    def report() -> Any:
        return _run_evidently(
            ref, cur, ref_scores, cur_scores, model, thresholds, checked, labelled
        )

    snapshot = None
    if not with_report and speedups.enabled("verdicts_before_report"):
        results = _stattest_results(
            ref, cur, ref_scores, cur_scores, model, thresholds, checked, labelled
        )
    else:
        snapshot = report()
        results = _column_results(snapshot.dict(), _column_kinds(model))
    missing = [name for name in [*checked, SCORE_COLUMN] if name not in results]
    if missing:
        raise PipelineError(f"drift check: Evidently returned no result for {missing}")
    summary = summarise(
        {name: results[name] for name in checked},
        task=model.spec.task,
        drift_share=config.drift_share,
        prediction=results[SCORE_COLUMN],
        target=results.get(model.spec.target) if labelled else None,
        reference={"name": names[0], "rows": len(reference), "rows_checked": len(ref)},
        current={"name": names[1], "rows": len(current), "rows_checked": len(cur)},
        too_few_values=thin,
    )
    return DriftCheck(summary, cur, cur_scores, report, snapshot)


def model_outputs(model: LoadedModel, frame: pd.DataFrame) -> np.ndarray:
    """The column whose drift is the prediction drift, per task.

    binary: the positive score; multiclass: the predicted class as `data.classes` spells it
    (its distribution is compared); regression: the predicted value.
    """
    outputs = predictions(model, frame)
    if model.spec.task == "multiclass":  # the classes spelled as the data config does
        return np.asarray(model.spec.spelled(decide(model.spec, outputs, None)), dtype=object)
    return outputs


def prediction_kind(model: LoadedModel) -> str:
    """ "category" when the prediction drift compares classes (multiclass), else "numeric"."""
    return "category" if model.spec.task == "multiclass" else "numeric"


def target_kind(model: LoadedModel) -> str:
    """ "numeric" for a regression target, "category" for classes."""
    return "numeric" if model.spec.task == "regression" else "category"


def _refuse_unusable_inputs(
    reference: pd.DataFrame, current: pd.DataFrame, model: LoadedModel, names: tuple[str, str]
) -> None:
    if len(current) == 0 or len(reference) == 0:
        raise PipelineError(
            f"drift check: {names[0] if len(reference) == 0 else names[1]} has no rows"
        )
    if SCORE_COLUMN in model.spec.names:
        raise PipelineError(
            f"drift check: a feature is named '{SCORE_COLUMN}', reserved for scores"
        )


def columns_with_too_few_values(
    ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str], min_values: int
) -> dict[str, list[int]]:
    """Columns with fewer than `min_values` non-missing values on a side: [reference, current]."""
    counts = {
        name: [int(ref[name].notna().sum()), int(cur[name].notna().sum())] for name in columns
    }
    return {name: pair for name, pair in counts.items() if min(pair) < min_values}


def _column_kinds(model: LoadedModel) -> dict[str, str]:
    spec = model.spec
    return {
        **{f.name: "numeric" for f in spec.features if f.kind == "numeric"},
        **{f.name: "category" for f in spec.features if f.kind == "category"},
        SCORE_COLUMN: "prediction",
        spec.target: "target",
    }


def _thresholds(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    ref_scores: np.ndarray,
    cur_scores: np.ndarray,
    model: LoadedModel,
    config: DriftConfig,
    checked: list[str],
    labelled: bool,
    seed: int,
) -> dict[str, tuple[str, float]]:
    """Per checked column, the score and the target: (method, threshold above chance)."""
    kinds = {f.name: f.kind for f in model.spec.features}
    columns = {
        name: (
            kinds[name],
            config.num_method if kinds[name] == "numeric" else config.cat_method,
            config.num_threshold if kinds[name] == "numeric" else config.cat_threshold,
        )
        for name in checked
    }
    kind = prediction_kind(model)
    method = config.cat_method if kind == "category" else config.num_method
    columns[SCORE_COLUMN] = (kind, method, config.prediction_threshold)
    if labelled:
        kind = target_kind(model)
        method = config.cat_method if kind == "category" else config.num_method
        columns[model.spec.target] = (kind, method, config.target_threshold)
    names = [name for name in columns if name != SCORE_COLUMN]
    ref_side = _evidently_frame(ref, checked, names).assign(**{SCORE_COLUMN: ref_scores})
    cur_side = _evidently_frame(cur, checked, names).assign(**{SCORE_COLUMN: cur_scores})
    floors = column_thresholds(ref_side, cur_side, columns, config.chance_splits, seed)
    return {name: (columns[name][1], floors[name]) for name in columns}


def _run_evidently(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    ref_scores: np.ndarray,
    cur_scores: np.ndarray,
    model: LoadedModel,
    thresholds: dict[str, tuple[str, float]],
    checked: list[str],
    labelled: bool,
) -> Any:
    """Evidently's report over both sides: per-column drift, score drift, target drift.

    `thresholds` gives each column's method and threshold (see `_thresholds`).
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    spec = model.spec
    numeric = [f.name for f in spec.features if f.kind == "numeric"]
    category = [f.name for f in spec.features if f.kind == "category"]
    for name, kind in [(SCORE_COLUMN, prediction_kind(model)), (spec.target, target_kind(model))]:
        if name == SCORE_COLUMN or labelled:
            (category if kind == "category" else numeric).append(name)
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=category)

    spelling = dict(zip(spec.classes, spec.spelled(spec.classes), strict=True))

    def dataset(frame: pd.DataFrame, scores: np.ndarray) -> Any:
        table = _side_table(frame, scores, model, labelled)
        if spelling and spec.target in table.columns:  # classes as the data config writes them
            table[spec.target] = table[spec.target].map(lambda c: spelling.get(c, c))
        return Dataset.from_pandas(table, data_definition=definition)

    metrics: list[Any] = [
        DataDriftPreset(
            columns=checked,
            per_column_method={name: thresholds[name][0] for name in checked},
            per_column_threshold={name: thresholds[name][1] for name in checked},
        ),
        *(
            ValueDrift(column=name, method=method, threshold=threshold)
            for name, (method, threshold) in thresholds.items()
            if name not in checked
        ),
    ]
    with warnings.catch_warnings():
        # Constant columns (one value in a period) make numpy warn inside Evidently's stats.
        warnings.simplefilter("ignore", RuntimeWarning)
        return Report(metrics, include_tests=True).run(
            dataset(cur, cur_scores), dataset(ref, ref_scores)
        )


def _stattest_results(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    ref_scores: np.ndarray,
    cur_scores: np.ndarray,
    model: LoadedModel,
    thresholds: dict[str, tuple[str, float]],
    checked: list[str],
    labelled: bool,
) -> dict[str, dict[str, Any]]:
    """What `_column_results` reads from Evidently's report, from its stat tests alone.

    The same tables (`_evidently_frame`), column types and thresholds as `_run_evidently`.
    """
    spec = model.spec
    tables = [
        _side_table(frame, scores, model, labelled)
        for frame, scores in ((ref, ref_scores), (cur, cur_scores))
    ]
    types = {f.name: f.kind for f in spec.features}
    types[SCORE_COLUMN] = prediction_kind(model)
    types[spec.target] = target_kind(model)
    kinds = _column_kinds(model)
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # as around Evidently's report
        for name in [*checked, *(n for n in thresholds if n not in checked)]:
            method, threshold = thresholds[name]
            score, drifted = evidently_column_drift(
                tables[0][name], tables[1][name], types[name], method, threshold
            )
            results[name] = column_result(kinds[name], method, score, threshold, drifted)
    return results


def _side_table(
    frame: pd.DataFrame, scores: np.ndarray, model: LoadedModel, labelled: bool
) -> pd.DataFrame:
    """One side as Evidently reads it: the features, the model's scores, the target if labelled."""
    spec = model.spec
    columns = [*spec.names, SCORE_COLUMN, *([spec.target] if labelled else [])]
    table = _evidently_frame(frame, spec.names, columns)
    table[SCORE_COLUMN] = scores
    return table


def _evidently_frame(frame: pd.DataFrame, features: list[str], columns: list[str]) -> pd.DataFrame:
    """The columns Evidently reads; nullable integers as floats (it expects numpy dtypes).

    `features` are converted, and any other numeric column (a regression target).
    """
    table = frame[[c for c in columns if c in frame.columns]].copy()
    for name in dict.fromkeys([*features, *table.columns]):
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
