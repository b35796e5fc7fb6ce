"""The one preprocessing path: order, dtypes, spelling, unseen levels, missing markers."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import records
from helpers import committed_params, module

config = module("settings.params")
errors = module("errors")
features = module("model.features")


@pytest.fixture(scope="module")
def spec():
    return features.FeatureSpec.from_data_config(config.parse_params(committed_params()).data)


def spec_with(edit) -> object:
    """The spec of the committed params after `edit(raw data section)`."""
    raw = committed_params()
    edit(raw["data"])
    return features.FeatureSpec.from_data_config(config.parse_params(raw).data)


def test_columns_follow_the_spec_order_and_extras_are_ignored(spec) -> None:
    assert spec.names == records.features()
    assert not set(records.data_config().drop_columns) & set(spec.names)
    record = records.valid_record(extra="ignored")
    frame = pd.DataFrame([record])
    model_input = features.preprocess(frame.iloc[:, ::-1], spec)
    assert model_input.shape == (1, len(spec.names))
    for name in records.numeric_features():
        assert model_input[0, spec.names.index(name)] == np.float32(record[name]), name


def test_output_is_float32_and_numbers_are_quantitative(spec) -> None:
    model_input = features.preprocess(pd.DataFrame([records.valid_record()]), spec)
    assert model_input.dtype == np.float32
    name = records.numeric_feature()
    assert spec.feature_types[spec.names.index(name)] == "q"


def test_categories_become_level_indices(spec) -> None:
    name = records.category_feature()
    level = records.data_config().columns[name].categories[-1]
    model_input = features.preprocess(pd.DataFrame([records.valid_record(**{name: level})]), spec)
    feature = spec.features[spec.names.index(name)]
    assert model_input[0, spec.names.index(name)] == feature.categories.index(level)
    assert spec.feature_types[spec.names.index(name)] == "c"


def test_spelling_is_normalised_and_unseen_levels_become_missing(spec) -> None:
    name = records.category_feature()
    level = records.data_config().columns[name].categories[0]
    frame = pd.DataFrame(
        [
            records.valid_record(**{name: f"  {level.upper()} "}),
            records.valid_record(**{name: "astronaut"}),
        ]
    )
    model_input = features.preprocess(frame, spec)
    feature = spec.features[spec.names.index(name)]
    column = model_input[:, spec.names.index(name)]
    assert column[0] == feature.categories.index(level)
    assert math.isnan(column[1])
    assert features.unseen_categories(frame, spec) == {name: ["astronaut"]}


def test_missing_markers_become_missing() -> None:
    """A numeric missing-value marker (one declared here on a numeric feature) reads as NaN."""
    name = records.numeric_feature()
    marker = 987654

    def declare(data: dict) -> None:
        data["columns"][name]["missing_values"] = [marker]
        data["columns"][name].pop("max", None)

    spec = spec_with(declare)
    present = records.valid_record()[name]
    model_input = features.preprocess(
        pd.DataFrame([records.valid_record(**{name: marker}), records.valid_record()]), spec
    )
    column = model_input[:, spec.names.index(name)]
    assert math.isnan(column[0])
    assert column[1] == np.float32(present)


def test_missing_column_bad_number_and_overflow_are_named(spec) -> None:
    name = records.numeric_feature()
    quoted = re.escape(f"'{name}'")
    record = records.valid_record
    with pytest.raises(errors.PipelineError, match=rf"missing feature column.*{quoted}"):
        features.preprocess(pd.DataFrame([record()]).drop(columns=[name]), spec)
    with pytest.raises(errors.PipelineError, match=rf"column {quoted}: expected numbers"):
        features.preprocess(pd.DataFrame([record(**{name: "old"})]), spec)
    with pytest.raises(errors.PipelineError, match=rf"column {quoted}.*float32 range.*row 2"):
        features.preprocess(pd.DataFrame([record(), record(**{name: 1e39})]), spec)


def messy_frame(spec, rows: int) -> pd.DataFrame:
    """Raw rows with odd spellings, nulls, NaN, unseen levels and missing-value markers."""
    rng = np.random.default_rng(7)
    columns = {}
    for feature in spec.features:
        if feature.kind == "category":
            pool = [
                *feature.categories,
                *(f"  {c.upper()} " for c in feature.categories),
                None,
                float("nan"),
                "never-seen",
                *map(str, feature.missing_values),
            ]
            columns[feature.name] = [pool[i] for i in rng.integers(0, len(pool), rows)]
        else:
            values = rng.normal(50, 20, rows).round(1).astype(object)
            values[rng.random(rows) < 0.1] = None
            # Numeric markers only: text markers of a numeric column (a blank, "NA") are read
            # as missing by the data layer before records reach `preprocess`.
            for marker in [m for m in feature.missing_values if not isinstance(m, str)]:
                values[rng.random(rows) < 0.1] = marker
            columns[feature.name] = list(values)
    return pd.DataFrame(columns)


def test_small_and_large_inputs_and_all_input_shapes_give_the_same_matrix(spec) -> None:
    rows = features.SMALL_BATCH_ROWS * 2 + 3
    frame = messy_frame(spec, rows)
    whole = features.preprocess(frame, spec)  # above the small-batch size: factorize
    one_by_one = np.vstack([features.preprocess(frame.iloc[[i]], spec) for i in range(rows)])
    as_lists = features.preprocess({name: list(frame[name]) for name in frame.columns}, spec)
    as_categoricals = features.preprocess(
        frame.astype({f.name: "category" for f in spec.features if f.kind == "category"}), spec
    )
    for other in (one_by_one, as_lists, as_categoricals):
        np.testing.assert_array_equal(whole, other)  # NaN in the same places too
    assert np.isnan(whole).any()


def test_lists_of_exact_levels_take_the_lookup_path_with_the_same_codes(spec) -> None:
    """Lists whose every value is a level or marker as spelled in the spec (canonical requests)."""
    frame = messy_frame(spec, 300)
    rng = np.random.default_rng(11)
    for feature in spec.features:
        if feature.kind == "category":
            pool = [*feature.categories, *(str(m).lower() for m in feature.missing_values)]
            frame[feature.name] = [pool[i] for i in rng.integers(0, len(pool), len(frame))]
    as_lists = features.preprocess({name: list(frame[name]) for name in frame.columns}, spec)
    whole = features.preprocess(frame, spec)
    np.testing.assert_array_equal(whole, as_lists)
    for index, feature in enumerate(spec.features):
        if feature.kind == "category":
            levels = list(feature.categories)
            expected = [levels.index(v) if v in levels else np.nan for v in frame[feature.name]]
            np.testing.assert_array_equal(as_lists[:, index], np.array(expected, dtype=np.float32))


def test_level_indices_are_what_xgboost_itself_makes_of_pandas_categoricals(spec) -> None:
    """An independent check of the encoding: XGBoost's own pandas support as the reference."""
    frame = messy_frame(spec, 600)
    labels = np.random.default_rng(3).integers(0, 2, len(frame))
    reference = pd.DataFrame(
        {
            f.name: (
                pd.Categorical(
                    frame[f.name].map(lambda v: v.strip().lower() if isinstance(v, str) else v),
                    categories=list(f.categories),
                )
                if f.kind == "category"
                else pd.to_numeric(frame[f.name]).where(~frame[f.name].isin(f.missing_values))
            )
            for f in spec.features
        }
    )
    params = {"max_depth": 4, "max_cat_to_onehot": 1, "seed": 0, "nthread": 1}
    booster = xgb.train(params, xgb.DMatrix(reference, labels, enable_categorical=True), 20)
    expected = booster.predict(xgb.DMatrix(reference, enable_categorical=True))
    ours = booster.inplace_predict(features.preprocess(frame, spec))
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_dmatrix_carries_feature_names_and_types(spec) -> None:
    matrix = features.model_dmatrix(
        features.preprocess(pd.DataFrame([records.valid_record()]), spec), spec
    )
    assert matrix.feature_names == spec.names
    assert matrix.feature_types == spec.feature_types


def test_spec_round_trips_through_metadata(spec) -> None:
    assert features.FeatureSpec.from_dict(spec.to_dict()) == spec


def test_target_encoding(spec) -> None:
    """Per task: 1 for the positive class, the class's index, or the number."""
    classes = list(records.data_config().classes)
    if spec.task == "regression":
        labels, expected = pd.Series(["1.5", " 2", "-3e1"]), [1.5, 2.0, -30.0]
    elif spec.task == "multiclass":
        labels = pd.Series([classes[1], f" {classes[0]}", classes[-1].upper()])
        expected = [1, 0, len(classes) - 1]
    else:
        positive = records.positive_class()
        negative = next(c for c in classes if c != positive)
        labels, expected = pd.Series([positive, f" {negative}", positive.upper()]), [1, 0, 1]
    assert features.encode_target(labels, spec).tolist() == expected
    quoted = re.escape(f"'{records.target()}'")
    with pytest.raises(errors.PipelineError, match=rf"column {quoted}.*\['maybe'\]"):
        features.encode_target(pd.Series([labels[0], "maybe"]), spec)


def test_classes_are_spelled_as_the_data_config_writes_them_from_arrays_too() -> None:
    def spec_of(labels: tuple[str, ...]) -> object:
        return features.FeatureSpec((), "y", ("no", "yes"), "yes", "binary", labels)

    decided = np.array(["yes", "no", "yes"])
    for labels in ((), ("no", "yes")):  # spelled alike: the fast path
        spelled = spec_of(labels).spelled(decided)
        assert spelled == ["yes", "no", "yes"]
        assert {type(label) for label in spelled} == {str}
    assert spec_of(("No", "Yes")).spelled(decided) == ["Yes", "No", "Yes"]
    assert spec_of(("No", "Yes")).spelled(["no"]) == ["No"]
