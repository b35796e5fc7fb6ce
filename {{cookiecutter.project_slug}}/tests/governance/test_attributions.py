"""Global attributions: XGBoost's contributions sum to the margin; their means are reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import module

attributions = module("governance.attributions")
features = module("model.features")
files = module("model.files")


@pytest.fixture(scope="module")
def model_and_test(pipeline_repo: Path) -> tuple:
    model = files.load_model(
        pipeline_repo / "models" / "model.ubj", pipeline_repo / "models" / "metadata.json"
    )
    return model, pd.read_parquet(pipeline_repo / "data" / "prepared" / "test.parquet")


def test_contributions_and_base_value_sum_to_the_margin(model_and_test: tuple) -> None:
    model, test = model_and_test
    rows = test.head(300)
    values, base = attributions.contribution_matrix(model, rows)
    matrix = features.model_dmatrix(features.preprocess(rows, model.spec), model.spec)
    margin = model.booster.predict(matrix, output_margin=True)
    assert values.shape == (len(rows), len(model.spec.names))
    np.testing.assert_allclose(values.sum(axis=1) + base, margin, rtol=1e-4, atol=1e-4)


def test_the_pipeline_reports_the_mean_absolute_contribution_per_feature(
    pipeline_repo: Path, model_and_test: tuple
) -> None:
    model, test = model_and_test
    report = json.loads((pipeline_repo / "reports" / "attributions.json").read_text())
    assert report["test_rows"] == len(test)
    assert report["rows"] == min(len(test), 10_000)
    matrix = features.model_dmatrix(features.preprocess(test, model.spec), model.spec)
    contribs = model.booster.predict(matrix, pred_contribs=True)[:, :-1]
    expected = dict(zip(model.spec.names, np.abs(contribs).mean(axis=0), strict=True))
    found = {r["feature"]: r["mean_abs_contribution"] for r in report["features"]}
    assert found.keys() == expected.keys()
    for name, value in expected.items():
        assert found[name] == pytest.approx(value, abs=2e-6)
    ranked = [r["mean_abs_contribution"] for r in report["features"]]
    assert ranked == sorted(ranked, reverse=True)


def test_a_sample_of_max_rows_is_explained_when_the_test_split_is_larger(
    model_and_test: tuple,
) -> None:
    model, test = model_and_test
    found = attributions.global_attributions(model, test, 100, 1, list(model.spec.classes))
    assert (found["rows"], found["test_rows"]) == (100, len(test))
    again = attributions.global_attributions(model, test, 100, 1, list(model.spec.classes))
    assert found == again


def test_movers_are_the_largest_signed_changes() -> None:
    now = [{"feature": f, "mean_abs_contribution": v} for f, v in [("a", 0.5), ("b", 0.1)]]
    then = [{"feature": f, "mean_abs_contribution": v} for f, v in [("a", 0.2), ("c", 0.15)]]
    assert attributions.movers(now, then) == [("a", 0.3), ("c", -0.15), ("b", 0.1)]
    assert attributions.movers(now, None) == []
