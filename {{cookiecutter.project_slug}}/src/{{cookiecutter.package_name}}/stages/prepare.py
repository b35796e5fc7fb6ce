"""Stage `prepare`: read the raw data, validate and clean it, split it into train and test."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..artifacts.hashing import md5_file
from ..data.pii import key_id, load_key, protect
from ..data.raw import read_table
from ..data.validation import CleaningReport, clean
from ..errors import PipelineError
from ..model.features import FeatureSpec, encode_target
from ..settings.command import run_stage
from ..settings.params import DataConfig, Params, SplitConfig

log = logging.getLogger(__name__)


def prepare(params: Params) -> dict[str, Any]:
    """Run the stage; write train/test Parquet and the data report.

    Personal data (role pii) is dropped or hashed in memory, before anything is written: the
    prepared data keeps the hashed columns after the features and the target (never model
    inputs), so they can still be joined or grouped.
    """
    data = params.data
    key = load_key() if data.hashed_columns else None  # refuse before any work
    raw = read_table(data.path, data)
    cleaned, cleaning = clean(raw, data)
    if data.timestamp_columns:  # the time split's order; rows keep their order on ties
        cleaned = cleaned.sort_values(data.timestamp_columns, kind="stable", ignore_index=True)
    period = time_period(cleaned, data)
    # Personal data first: pii: drop columns go, pii: hash columns are hashed in memory.
    cleaned = protect(cleaned, data, key)
    # Ids, timestamps, dropped columns: out. Hashed personal-data columns stay after the
    # features and target (never model inputs). Columns that fairness groups by but the model
    # does not use stay in the test split only (evaluate reads them; no feature is made of them).
    carried = [c for c in fairness_columns(params) if c not in data.hashed_columns]
    cleaned = cleaned[[*data.feature_columns, data.target, *data.hashed_columns, *carried]]
    train, test = split(cleaned, data, params.split, params.seed)
    train = train.drop(columns=carried)
    report = data_report(Path(data.path), cleaning, cleaned, train, test, data)
    if period:
        report["period"] = period
    suspects = late_timestamps(cleaned, data) + leak_suspects(train, data, params.seed)
    if suspects:  # only then: the report of a table without suspects is unchanged
        report["leak_suspects"] = suspects
    report["pii"] = {
        "dropped": [c for c, how in data.pii_columns.items() if how == "drop"],
        "hashed": data.hashed_columns,
        "key_id": key_id(key) if key is not None else None,
    }
    with staged_outputs() as staged:
        train.to_parquet(staged.path(paths.TRAIN_DATA), index=False)
        test.to_parquet(staged.path(paths.TEST_DATA), index=False)
        staged.write_json(paths.DATA_REPORT, report)
    log.info(
        "prepare: %d rows in, %d out (%d duplicates dropped); train %d, test %d",
        cleaning.rows_in,
        cleaning.rows_out,
        cleaning.duplicates_dropped,
        len(train),
        len(test),
    )
    return report


def leak_suspects(train: pd.DataFrame, data: DataConfig, seed: int) -> list[dict[str, Any]]:
    """Features that nearly determine the target (data.leaks), each logged as a warning."""
    from ..data.leaks import find_leaks

    found = find_leaks(train, data.target, data.task, data.feature_columns, seed=seed)
    for suspect in found:
        log.warning(
            "prepare: WARN possible target leak %s: %s. If it is known only after the outcome, "
            "give it role: drop in conf/data/",
            list(suspect.columns),
            suspect.why,
        )
    return [suspect.to_dict() for suspect in found]


def late_timestamps(cleaned: pd.DataFrame, data: DataConfig) -> list[dict[str, Any]]:
    """The timestamp column where it is at or after the outcome time (role outcome_time) in
    most rows (`data.leaks.after_outcome`), logged as a warning."""
    if data.outcome_time is None:
        return []
    from ..data.leaks import after_outcome

    found = after_outcome(cleaned, data.outcome_time, data.timestamp_columns)
    for suspect in found:
        log.warning(
            "prepare: WARN possible target leak %s: %s. The time split orders rows by it: "
            "give role timestamp to a time known before the outcome",
            list(suspect.columns),
            suspect.why,
        )
    return [suspect.to_dict() for suspect in found]


def fairness_columns(params: Params) -> list[str]:
    """The columns of `evaluate.fairness.groups` that are neither features nor the target
    (each once: a column may be grouped twice, e.g. with and without bins)."""
    data = params.data
    used = {*data.feature_columns, data.target}
    groups = dict.fromkeys(g.column for g in params.evaluate.fairness.groups)
    return [column for column in groups if column not in used]


def time_period(frame: pd.DataFrame, data: DataConfig) -> dict[str, str] | None:
    """The first and last value of the timestamp column (ISO text), if one is declared."""
    if not data.timestamp_columns:
        return None
    column = data.timestamp_columns[0]
    values = pd.to_datetime(frame[column], errors="coerce").dropna()
    if values.empty:
        return None
    return {"column": column, "first": values.min().isoformat(), "last": values.max().isoformat()}


def split(
    frame: pd.DataFrame, data: DataConfig, config: SplitConfig, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows: stratified random (seeded) or time-ordered (the last rows are the test).

    `prepare` sorts the rows by the timestamp column first when one is declared.
    """
    n_test = round(len(frame) * config.test_size)
    if n_test < 1 or n_test >= len(frame):
        raise PipelineError(
            f"split.test_size={config.test_size} leaves {n_test} of {len(frame)} rows "
            "for the test set; need at least one row on each side"
        )
    if config.method == "time":
        return frame.iloc[:-n_test].reset_index(drop=True), frame.iloc[-n_test:].reset_index(
            drop=True
        )
    labels = frame[data.target]
    if data.task == "regression":
        # no classes: stratify on the target's deciles (by rank), so both sides span its range
        ranks = labels.rank(method="first").to_numpy()
        labels = pd.Series(np.ceil(ranks * REGRESSION_STRATA / len(ranks)).astype(int))
    counts = labels.value_counts()
    if int(counts.min()) < 2:
        raise PipelineError(
            f"split.method=stratified needs at least 2 rows of each class in '{data.target}'; "
            f"found {counts.to_dict()}"
        )
    test_rows = stratified_test_rows(labels.to_numpy(), n_test, seed)
    is_test = np.zeros(len(frame), dtype=bool)
    is_test[test_rows] = True
    return frame.loc[~is_test].reset_index(drop=True), frame.loc[is_test].reset_index(drop=True)


REGRESSION_STRATA = 10


def stratified_test_rows(labels: np.ndarray, n_test: int, seed: int) -> np.ndarray:
    """Positions of a seeded random test set that keeps each class's share (rounded).

    Written with numpy rather than scikit-learn so that `prepare` starts in a fraction of the
    time (importing scikit-learn costs seconds); rows keep their original order on each side.
    """
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quotas = np.floor(counts * n_test / len(labels)).astype(int)
    # Hand out the rows lost to rounding to the classes with the largest remainders.
    remainders = counts * n_test / len(labels) - quotas
    for index in np.argsort(-remainders, kind="stable")[: n_test - quotas.sum()]:
        quotas[index] += 1
    chosen = [
        rng.permutation(np.flatnonzero(labels == cls))[:quota]
        for cls, quota in zip(classes, quotas, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def data_report(
    raw_path: Path,
    cleaning: CleaningReport,
    cleaned: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    data: DataConfig,
) -> dict[str, Any]:
    """A small JSON-ready summary: row counts, duplicates, nulls, class balance, input md5."""
    spec = FeatureSpec.from_data_config(data)

    def positive_share(part: pd.DataFrame) -> Any:
        """binary: the positive share; multiclass: each class's share; regression: the mean."""
        labels = encode_target(part[data.target], spec)
        if data.task != "multiclass":
            return round(float(labels.mean()), 6)
        shares = np.bincount(labels, minlength=len(spec.classes)) / max(len(labels), 1)
        return {c: round(float(v), 6) for c, v in zip(spec.classes, shares, strict=True)}

    return {
        "raw_md5": md5_file(raw_path),
        "rows_in": cleaning.rows_in,
        "rows_out": cleaning.rows_out,
        "duplicates_dropped": cleaning.duplicates_dropped,
        "rows_dropped_missing": cleaning.rows_dropped_missing,
        "values_filled": cleaning.values_filled,
        "train_rows": len(train),
        "test_rows": len(test),
        {"binary": "positive_share", "multiclass": "class_shares"}.get(data.task, "target_mean"): {
            "all": positive_share(cleaned),
            "train": positive_share(train),
            "test": positive_share(test),
        },
        "nulls": {name: int(count) for name, count in cleaned.isna().sum().items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("prepare", __doc__ or "", prepare, argv)


if __name__ == "__main__":
    sys.exit(main())
