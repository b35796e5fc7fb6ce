"""Records and columns of the configured data, for tests that hold on any data set.

Tests build their inputs from the data the project is configured for (`params.yaml`'s `data`
and the data file it names), never from one data set's column names, so `make test` passes
after `make data` on any table. A case that needs something the table lacks (a category
column, a missing-value marker) is skipped with a reason naming the data, not the whole test.
Tests of facts of the bundled sample itself are marked `@pytest.mark.sample` (tests/conftest.py
skips them, saying why, when the configured data is another).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers import ROOT, committed_params, module

# The bundled sample as `conf/data/bank_marketing.yaml` declares it.
SAMPLE_PATH = "data/raw/bank-additional-full.csv.gz"
SAMPLE_TARGET = "y"


@functools.cache
def data_config() -> Any:
    """The configured `DataConfig` (from the committed params.yaml)."""
    return module("settings.params").parse_params(committed_params()).data


def data_path() -> Path:
    return ROOT / data_config().path


def described() -> str:
    """How skip reasons and messages name the configured data."""
    return f"the configured data ({data_config().path})"


def is_bundled_sample() -> bool:
    """Whether the project is configured for the bundled bank sample."""
    return data_config().path == SAMPLE_PATH and data_config().target == SAMPLE_TARGET


def read_text_table(path: Path, rows: int | None = None) -> pd.DataFrame:
    """A data file in the configured format as text (blank cells stay empty strings)."""
    if path.name.lower().endswith(".parquet"):
        frame = pd.read_parquet(path).astype("string").fillna("")
        return frame if rows is None else frame.head(rows)
    return pd.read_csv(
        path, sep=data_config().separator, dtype=str, keep_default_na=False, nrows=rows
    )


@functools.cache
def data_table() -> pd.DataFrame:
    """The configured data file as text, every row and column (do not change it: copy)."""
    return read_text_table(data_path())


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` as the configured data is written (separator; gzip by the name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.lower().endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, sep=data_config().separator, index=False)
    return path


# Columns


def features() -> list[str]:
    return list(data_config().feature_columns)


def target() -> str:
    return str(data_config().target)


def task() -> str:
    """The configured task: binary, multiclass or regression."""
    return str(data_config().task)


def proper_score() -> str:
    """XGBoost's name of the task's proper score (the default training and tuning metric)."""
    return {"binary": "logloss", "multiclass": "mlogloss", "regression": "rmse"}[task()]


def _features_of(*dtypes: str) -> list[str]:
    columns = data_config().columns
    return [name for name in features() if columns[name].dtype in dtypes]


def category_features() -> list[str]:
    return _features_of("category")


def numeric_features() -> list[str]:
    return _features_of("int", "float")


def category_feature() -> str:
    """A category feature column, or skip the case: the table has none."""
    found = category_features()
    if not found:
        pytest.skip(f"{described()} has no category feature column")
    return found[0]


def numeric_feature(dtype: str | None = None) -> str:
    """A numeric feature column (of `dtype` when given: int or float), or skip the case."""
    found = _features_of(dtype) if dtype else numeric_features()
    if not found:
        pytest.skip(f"{described()} has no {dtype or 'numeric'} feature column")
    return found[0]


def marker_feature() -> str:
    """A numeric feature with a declared missing-value marker (`missing_values`), or skip."""
    columns = data_config().columns
    found = [
        name
        for name in numeric_features()
        if any(isinstance(m, (int, float)) for m in columns[name].missing_values)
    ]
    if not found:
        pytest.skip(f"{described()} declares no numeric missing-value marker on a feature")
    return found[0]


def number_marker(name: str) -> int | float:
    """The first numeric missing-value marker of column `name`."""
    return next(
        m for m in data_config().columns[name].missing_values if isinstance(m, (int, float))
    )


def nullable_feature() -> str:
    """A feature that may be null, or skip."""
    found = [name for name in features() if data_config().columns[name].nullable]
    if not found:
        pytest.skip(f"{described()} has no nullable feature column")
    return found[0]


def required_feature() -> str:
    """A feature declared `nullable: false`, or skip."""
    found = [name for name in features() if not data_config().columns[name].nullable]
    if not found:
        pytest.skip(f"{described()} has no feature declared nullable: false")
    return found[0]


def unseen_level(name: str) -> str:
    """A value that is not a level of category column `name`."""
    levels = set(data_config().columns[name].categories or [])
    return next(v for v in ("no-such-level", "no-such-level-2") if v not in levels)


def below_minimum(name: str) -> int | float | None:
    """A value below numeric column `name`'s declared minimum (None when it has none)."""
    low = data_config().columns[name].min
    if low is None:
        return None
    return math.ceil(low) - 1 if data_config().columns[name].dtype == "int" else low - 1


# Records


def _is_missing(text: str, name: str) -> bool:
    markers = {str(m).strip().lower() for m in data_config().columns[name].missing_values}
    return text.strip() == "" or text.strip().lower() in markers


def typed_value(text: str, name: str) -> Any:
    """A text cell of column `name` as a request carries it (categories canonically spelled)."""
    column = data_config().columns[name]
    if column.dtype == "category":
        return module("settings.params").normalise_category(text)
    if column.dtype == "int":
        return int(float(text))
    return float(text)


def _in_range(value: Any, name: str) -> bool:
    column = data_config().columns[name]
    if column.dtype == "category":
        return value in (column.categories or [])
    low = -math.inf if column.min is None else column.min
    high = math.inf if column.max is None else column.max
    return low <= value <= high


@functools.cache
def _complete_records() -> tuple[tuple[tuple[str, Any], ...], ...]:
    names = features()
    found = []
    for row in data_table()[names].itertuples(index=False, name=None):
        if any(_is_missing(text, name) for text, name in zip(row, names, strict=True)):
            continue
        values = tuple(typed_value(text, name) for text, name in zip(row, names, strict=True))
        if all(_in_range(v, name) for v, name in zip(values, names, strict=True)):
            found.append(tuple(zip(names, values, strict=True)))
        if len(found) >= 200:
            break
    if not found:
        raise AssertionError(f"{described()} has no row with every feature present and valid")
    return tuple(found)


def valid_records(count: int) -> list[dict[str, Any]]:
    """`count` distinct rows of the data with every feature present: what a client sends."""
    rows = _complete_records()
    assert len(rows) >= count, f"{described()} has only {len(rows)} complete rows"
    return [dict(row) for row in rows[:count]]


def valid_record(**overrides: Any) -> dict[str, Any]:
    """One valid record of the configured features (a row of the data), `overrides` applied."""
    return {**valid_records(1)[0], **overrides}


def other_value(name: str, record: dict[str, Any]) -> Any:
    """A valid value of column `name` that differs from `record`'s (a level or a number)."""
    for other in valid_records(len(_complete_records())):
        if other[name] != record[name]:
            return other[name]
    pytest.skip(f"column {name!r} of {described()} holds one value in its complete rows")


# Rows


def positive_class() -> str:
    return str(data_config().positive_class)


def is_positive(labels: pd.Series, positive: str | None = None) -> pd.Series:
    """Which text labels of the target are the positive class (as the pipeline compares them;
    the configured one unless `positive` names another)."""
    normalise = module("settings.params").normalise_category
    wanted = positive_class() if positive is None else normalise(positive)
    return labels.map(lambda v: normalise(v) == wanted)


def imbalanced(
    frame: pd.DataFrame, share: float = 0.1, seed: int = 0, label: str | None = None
) -> pd.DataFrame:
    """`frame` with positive rows (of class `label` if given) dropped at random until they are
    at most `share` of it."""
    positive = is_positive(frame[target()], label)
    negatives = int((~positive).sum())
    keep = min(int(positive.sum()), int(share * negatives / (1 - share)))
    kept = frame[positive].sample(keep, random_state=seed)
    return pd.concat([frame[~positive], kept]).sort_index().reset_index(drop=True)


# Two classes of the configured data: above the median or the first class are "high".
BINARY_CLASSES = ["high", "low"]
POSITIVE = "high"


def binary_version(frame: pd.DataFrame) -> tuple[pd.DataFrame, Callable[[dict[str, Any]], None]]:
    """A copy of `frame` and a params edit for tests of binary-only behaviour (threshold, F1).

    The configured data unchanged where the task is binary; otherwise its target made two
    classes (regression: above the median is "high"; multiclass: the first class is "high").
    """
    if task() == "binary":
        return frame.copy(), lambda params: None
    labels = frame[target()]
    if task() == "regression":
        numbers = pd.to_numeric(labels)
        high = numbers > numbers.median()
    else:
        normalise = module("settings.params").normalise_category
        high = labels.map(normalise) == normalise(str(data_config().classes[0]))
    binary = frame.copy()
    binary[target()] = high.map({True: POSITIVE, False: "low"})

    def edit(params: dict[str, Any]) -> None:
        data = params["data"]
        data.pop("class_labels", None)
        data.update(task="binary", classes=BINARY_CLASSES, positive_class=POSITIVE)
        declared = data["columns"][target()]
        kept = {key: declared[key] for key in ("role",) if key in declared}
        declared.clear()
        declared.update(dtype="category", nullable=False, categories=BINARY_CLASSES, **kept)

    return binary, edit
