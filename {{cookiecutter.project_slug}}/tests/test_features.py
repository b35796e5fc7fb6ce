"""The one preprocessing path: order, dtypes, spelling, unseen levels, missing markers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import committed_params, module, sample_record

config = module("config")
errors = module("errors")
features = module("features")


@pytest.fixture(scope="module")
def spec():
    return features.FeatureSpec.from_data_config(config.parse_params(committed_params()).data)


def test_columns_follow_the_spec_order_and_extras_are_ignored(spec) -> None:
    frame = pd.DataFrame([sample_record(extra="ignored")])[::-1]
    model_input = features.preprocess(frame.iloc[:, ::-1], spec)
    assert list(model_input.columns) == spec.names
    assert "duration" not in model_input.columns


def test_dtypes_are_float_and_fixed_categories(spec) -> None:
    model_input = features.preprocess(pd.DataFrame([sample_record()]), spec)
    assert model_input["age"].dtype == np.float64
    job = model_input["job"]
    assert isinstance(job.dtype, pd.CategoricalDtype)
    assert list(job.cat.categories) == list(spec.features[spec.names.index("job")].categories)


def test_spelling_is_normalised_and_unseen_levels_become_missing(spec) -> None:
    frame = pd.DataFrame([sample_record(marital="  Married "), sample_record(marital="astronaut")])
    model_input = features.preprocess(frame, spec)
    assert model_input["marital"].iloc[0] == "married"
    assert pd.isna(model_input["marital"].iloc[1])
    assert features.unseen_categories(frame, spec) == {"marital": ["astronaut"]}


def test_missing_markers_become_missing(spec) -> None:
    model_input = features.preprocess(
        pd.DataFrame([sample_record(pdays=999), sample_record(pdays=3)]), spec
    )
    assert math.isnan(model_input["pdays"].iloc[0])
    assert model_input["pdays"].iloc[1] == 3.0


def test_missing_column_and_bad_number_are_named(spec) -> None:
    with pytest.raises(errors.PipelineError, match=r"missing feature column.*'age'"):
        features.preprocess(pd.DataFrame([sample_record()]).drop(columns=["age"]), spec)
    with pytest.raises(errors.PipelineError, match=r"column 'age': expected numbers"):
        features.preprocess(pd.DataFrame([sample_record(age="old")]), spec)


def test_spec_round_trips_through_metadata(spec) -> None:
    assert features.FeatureSpec.from_dict(spec.to_dict()) == spec


def test_target_encoding(spec) -> None:
    assert features.encode_target(pd.Series(["yes", " no", "YES"]), spec).tolist() == [1, 0, 1]
    with pytest.raises(errors.PipelineError, match=r"column 'y'.*\['maybe'\]"):
        features.encode_target(pd.Series(["yes", "maybe"]), spec)
