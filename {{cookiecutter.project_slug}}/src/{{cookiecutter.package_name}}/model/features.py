"""The one preprocessing path from raw records to model input (no train/serve skew).

Training, evaluation, batch scoring and the online service all call `preprocess` with the same
`FeatureSpec`, saved in the model metadata: same feature order, dtypes and category levels.
It works on numpy arrays, not DataFrames: one request of one record costs microseconds, and a
million rows a fraction of a second, through the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np
import pandas as pd

from ..errors import PipelineError
from ..settings.params import DataConfig, Task, normalise_category

if TYPE_CHECKING:
    import xgboost as xgb

FeatureKind = Literal["numeric", "category"]


@dataclass(frozen=True)
class Feature:
    """One model input column."""

    name: str
    kind: FeatureKind
    categories: tuple[str, ...] = ()
    missing_values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class FeatureSpec:
    """Everything needed to turn raw records into model input, and targets into labels.

    `task` decides the labels: binary 0/1 (1 = `positive_class`), multiclass the index of the
    class in `classes`, regression the number itself (no classes).
    """

    features: tuple[Feature, ...]
    target: str
    classes: tuple[str, ...]
    positive_class: str | None
    task: Task = "binary"
    # The classes as the data config spells them (answers use these); `classes` when empty.
    labels: tuple[str, ...] = ()

    def spelled(self, classes: Any) -> list[str]:
        """Class names (compared spelling) as the data config writes them."""
        if not self.labels or self.labels == self.classes:  # spelled alike: no lookups
            return classes.tolist() if isinstance(classes, np.ndarray) else list(classes)
        spelling = dict(zip(self.classes, self.labels or self.classes, strict=True))
        return [spelling.get(c, c) for c in classes]

    @property
    def classifier(self) -> bool:
        return self.task != "regression"

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]

    @property
    def feature_types(self) -> list[str]:
        """XGBoost's feature types: "c" (categorical, level indices) or "q" (numeric)."""
        return ["c" if feature.kind == "category" else "q" for feature in self.features]

    @classmethod
    def from_data_config(cls, data: DataConfig) -> FeatureSpec:
        features = []
        for name in data.feature_columns:
            column = data.columns[name]
            kind: FeatureKind = "category" if column.dtype == "category" else "numeric"
            features.append(
                Feature(
                    name=name,
                    kind=kind,
                    categories=tuple(column.categories or ()),
                    missing_values=tuple(column.missing_values),
                )
            )
        return cls(
            tuple(features), data.target, data.classes, data.positive_class, data.task,
            data.class_labels,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "target": self.target,
            "classes": list(self.classes),
            "labels": list(self.labels or self.classes),
            "positive_class": self.positive_class,
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "categories": list(f.categories),
                    "missing_values": list(f.missing_values),
                }
                for f in self.features
            ],
        }

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> FeatureSpec:
        features = tuple(
            Feature(
                name=f["name"],
                kind=f["kind"],
                categories=tuple(f["categories"]),
                missing_values=tuple(f["missing_values"]),
            )
            for f in payload["features"]
        )
        task = payload.get("task", "binary")
        classes = tuple(payload.get("classes") or ())
        wanted = {"binary": len(classes) == 2, "multiclass": len(classes) >= 2}
        if not wanted.get(task, not classes):
            raise PipelineError(f"model metadata: task {task} with classes {list(classes)}")
        labels = tuple(payload.get("labels") or classes)
        return cls(
            features, payload["target"], classes, payload.get("positive_class"), task, labels
        )


Columns = Union[pd.DataFrame, Mapping[str, Any]]  # noqa: UP007 (runtime alias)
# Up to this many rows, category values are looked up one by one (a dict lookup each, the
# service's request sizes); above it, distinct values are found first with `pd.factorize`.
# Both look every value up in the same table, so they give the same codes.
SMALL_BATCH_ROWS = 512


def preprocess(data: Columns, spec: FeatureSpec) -> np.ndarray:
    """Model input for `data`: a float32 matrix, the spec's features as columns, in order.

    `data` is a DataFrame or any mapping of column name to values (a list, array or Series),
    e.g. the columns of validated service requests. Numbers become floats; a category becomes
    the index of its level in the spec (after normalising spelling: stripped, lower-cased);
    missing values, declared missing-value markers and levels the model never saw become NaN,
    which XGBoost treats as missing. Extra columns are ignored. A missing column, a non-numeric
    value in a numeric column or a number beyond float32 range raises `PipelineError`.
    """
    absent = [name for name in spec.names if name not in data]
    if absent:
        raise PipelineError(f"input is missing feature column(s) {absent}")
    rows = len(data[spec.features[0].name]) if spec.features else 0
    matrix = np.empty((rows, len(spec.features)), dtype=np.float32)
    for index, feature in enumerate(spec.features):
        values = data[feature.name]
        if feature.kind == "numeric":
            _fill_numeric(matrix, index, values, feature)
        else:
            matrix[:, index] = _category_codes(values, feature)
    return matrix


def model_dmatrix(
    matrix: np.ndarray,
    spec: FeatureSpec,
    labels: np.ndarray | None = None,
    nthread: int | None = None,
) -> xgb.DMatrix:
    """A `DMatrix` of `preprocess` output, with the feature names and types (categorical)."""
    import xgboost as xgb  # here: `prepare` uses this module and needs no XGBoost

    return xgb.DMatrix(
        matrix,
        labels,
        feature_names=spec.names,
        feature_types=spec.feature_types,
        enable_categorical=True,
        nthread=nthread,
    )


def unseen_categories(frame: pd.DataFrame, spec: FeatureSpec) -> dict[str, list[str]]:
    """Per category feature, the distinct non-null values outside the model's levels."""
    found: dict[str, list[str]] = {}
    for feature in spec.features:
        if feature.kind != "category" or feature.name not in frame.columns:
            continue
        raw = frame[feature.name].dropna()
        levels = set(feature.categories) | {
            normalise_category(str(m)) for m in feature.missing_values
        }
        uniques = pd.unique(raw.astype(str))
        bad = sorted({u for u in uniques if normalise_category(u) not in levels})
        if bad:
            found[feature.name] = bad
    return found


def encode_target(labels: pd.Series, spec: FeatureSpec) -> np.ndarray:
    """Target values as the model's labels, per task; unknown or missing ones raise.

    binary: 0/1 (1 = the positive class); multiclass: the index of the class in
    `spec.classes`; regression: the numbers (float64).
    """
    if spec.task == "regression":
        numbers = pd.to_numeric(labels, errors="coerce")
        bad = labels[numbers.isna()]
        if len(bad):
            raise PipelineError(
                f"column '{spec.target}' (the target) has {len(bad)} missing or non-numeric "
                f"value(s), e.g. {bad.astype(str).tolist()[:5]}"
            )
        return numbers.to_numpy(dtype=np.float64)
    normalised = labels.astype("string").str.strip().str.lower()
    known = normalised.isin(spec.classes)
    if not bool(known.all()):
        bad = sorted(set(normalised[~known].astype(str)))[:5]
        raise PipelineError(
            f"column '{spec.target}' (the target) has values {bad} outside {list(spec.classes)}"
        )
    if spec.task == "multiclass":
        index = {level: code for code, level in enumerate(spec.classes)}
        return normalised.map(index).to_numpy(dtype=np.int32)
    return (normalised == spec.positive_class).to_numpy(dtype=np.int32)


def _fill_numeric(matrix: np.ndarray, index: int, values: Any, feature: Feature) -> None:
    numbers = _float64(values, feature)
    with np.errstate(over="ignore"):  # beyond float32 range -> inf, reported below
        matrix[:, index] = numbers  # float32: the precision the model computes in
    column = matrix[:, index]
    infinite = np.isinf(column)
    if infinite.any():
        first = int(np.flatnonzero(infinite)[0])
        raise PipelineError(
            f"column '{feature.name}': {int(infinite.sum())} value(s) infinite or beyond the "
            f"float32 range the model computes in, e.g. {numbers[first]!r} "
            f"(row {first + 1} of this chunk)"
        )
    markers = [float(m) for m in feature.missing_values if _is_number(m)]
    if markers:
        column[np.isin(numbers, markers)] = np.nan


def _float64(values: Any, feature: Feature) -> np.ndarray:
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    try:
        if isinstance(values, pd.Series):
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass  # strings or pandas' NA: let pandas parse, and name the bad value if any
    try:
        parsed = pd.to_numeric(pd.Series(values, dtype=object), errors="raise")
        return parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise PipelineError(f"column '{feature.name}': expected numbers ({exc})") from None


def _category_codes(values: Any, feature: Feature) -> np.ndarray:
    table = _level_table(feature.categories, feature.missing_values)
    if isinstance(values, list):
        try:  # every value a level spelled as in the table (the service's canonical requests)
            return np.fromiter(map(table.__getitem__, values), dtype=np.float32, count=len(values))
        except (KeyError, TypeError):
            pass  # None, another spelling, an unseen level: value by value below
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    elif len(values) <= SMALL_BATCH_ROWS:
        return np.fromiter((_code(v, table) for v in values), dtype=np.float32, count=len(values))
    else:
        if not isinstance(values, (pd.Series, np.ndarray)):
            values = np.asarray(values, dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.fromiter(
        (*(_code(u, table) for u in uniques), np.nan), dtype=np.float32, count=len(uniques) + 1
    )
    return lookup[codes]  # the NA sentinel -1 indexes the trailing NaN


@lru_cache(maxsize=256)
def _level_table(categories: tuple[str, ...], missing_values: tuple[Any, ...]) -> dict[str, float]:
    """Normalised spelling -> level index; declared missing-value markers -> NaN."""
    table = {level: float(index) for index, level in enumerate(categories)}
    table.update({normalise_category(str(m)): np.nan for m in missing_values})
    return table


def _code(value: Any, table: dict[str, float]) -> float:
    """The level index of one raw value (NaN when missing, a marker or never seen)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return np.nan
    if isinstance(value, str):
        code = table.get(value)  # already normalised: the common case, no string work
        if code is not None:
            return code
    return table.get(normalise_category(str(value)), np.nan)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
