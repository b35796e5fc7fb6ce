"""The one preprocessing path from raw records to model input (architecture invariant 1).

Training, evaluation, batch scoring and the online service all call `preprocess` with the same
`FeatureSpec`, saved in the model metadata: same feature order, dtypes and category levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .config import DataConfig, normalise_category
from .errors import PipelineError

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
    """Everything needed to turn raw records into model input, and labels into 0/1."""

    features: tuple[Feature, ...]
    target: str
    classes: tuple[str, str]
    positive_class: str

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]

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
        return cls(tuple(features), data.target, data.classes, data.positive_class)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "classes": list(self.classes),
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
        classes = tuple(payload["classes"])
        if len(classes) != 2:
            raise PipelineError(f"model metadata: expected 2 classes, found {list(classes)}")
        return cls(features, payload["target"], (classes[0], classes[1]), payload["positive_class"])


def preprocess(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Model input for `frame`: the spec's columns in order, floats and fixed categoricals.

    Category spelling is normalised (stripped, lower-cased); a level the model never saw and
    a declared missing-value marker both become missing, which XGBoost handles natively.
    Extra columns are ignored. A missing column or a non-numeric value in a numeric column
    raises `PipelineError`.
    """
    absent = [name for name in spec.names if name not in frame.columns]
    if absent:
        raise PipelineError(f"input is missing feature column(s) {absent}")
    columns = {}
    for feature in spec.features:
        values = frame[feature.name]
        if feature.kind == "numeric":
            columns[feature.name] = _numeric(values, feature)
        else:
            columns[feature.name] = _categorical(values, feature)
    return pd.DataFrame(columns, index=frame.index)


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
    """Labels as 0/1 (1 = the positive class); unknown labels raise `PipelineError`."""
    normalised = labels.astype("string").str.strip().str.lower()
    known = normalised.isin(spec.classes)
    if not bool(known.all()):
        bad = sorted(set(normalised[~known].astype(str)))[:5]
        raise PipelineError(
            f"column '{spec.target}' (the target) has values {bad} outside {list(spec.classes)}"
        )
    return (normalised == spec.positive_class).to_numpy(dtype=np.int32)


def _numeric(values: pd.Series, feature: Feature) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    try:
        numbers = pd.to_numeric(values, errors="raise").astype("float64")
    except (ValueError, TypeError) as exc:
        raise PipelineError(f"column '{feature.name}': expected numbers ({exc})") from None
    if feature.missing_values:
        markers = [float(m) for m in feature.missing_values if _is_number(m)]
        numbers = numbers.mask(numbers.isin(markers))
    return numbers


def _categorical(values: pd.Series, feature: Feature) -> pd.Categorical:
    # Normalise each distinct value once (fast on millions of rows), then map codes.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    levels = {level: index for index, level in enumerate(feature.categories)}
    markers = {normalise_category(str(m)) for m in feature.missing_values}
    lookup = np.array(
        [
            -1 if (key := normalise_category(str(u))) in markers else levels.get(key, -1)
            for u in uniques
        ]
        + [-1],
        dtype=np.int64,
    )
    mapped = lookup[codes]  # the sentinel -1 indexes the trailing -1 entry
    return pd.Categorical.from_codes(mapped, categories=list(feature.categories))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
