"""Describing a data file: the task is inferred from the target (or given), and must fit it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import committed_params, module

describe = module("data.describe")
init = module("data.init")
config = module("settings.params")
errors = module("errors")

ROWS = 120


def frame(target: object) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"size": rng.normal(5, 1, ROWS).round(3), "target": target})


def described(tmp_path, table: pd.DataFrame, **options):
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    return describe.describe(path, "target", **options)


def as_params(tmp_path, description):
    """The rendered data config, validated inside the committed params."""
    raw = committed_params()
    raw["data"] = yaml.safe_load(init.render(description, "t", "t.csv"))
    raw["evaluate"]["fairness"]["groups"] = []  # the sample's groups name the sample's columns
    return config.parse_params(raw).data


def test_three_text_levels_are_a_multiclass_target_with_every_class(tmp_path) -> None:
    levels = np.array(["Red", "green", "blue"])[np.arange(ROWS) % 3]
    found = described(tmp_path, frame(levels))
    assert (found.task, found.classes, found.positive_class) == (
        "multiclass",
        ["blue", "green", "Red"],  # as spelled in the data, compared lower-cased
        None,
    )
    data = as_params(tmp_path, found)
    assert data.task == "multiclass"
    assert data.classes == ("blue", "green", "red")
    assert data.positive_class is None


def test_integer_levels_are_multiclass_in_numeric_order(tmp_path) -> None:
    found = described(tmp_path, frame(np.array([10, 2, 1])[np.arange(ROWS) % 3]))
    assert (found.task, found.classes) == ("multiclass", [1, 2, 10])
    assert as_params(tmp_path, found).classes == ("1", "2", "10")


def test_many_distinct_numbers_are_a_regression_target(tmp_path) -> None:
    found = described(tmp_path, frame(np.linspace(-3.5, 40.25, ROWS)))
    assert (found.task, found.classes, found.positive_class) == ("regression", [], None)
    target = next(c for c in found.columns if c.name == "target")
    assert target.spec["dtype"] == "float"
    assert target.spec["role"] == "target"
    data = as_params(tmp_path, found)
    assert data.task == "regression"
    assert data.classes == ()
    assert "target" not in data.feature_columns


def test_a_given_task_wins_when_it_fits(tmp_path) -> None:
    found = described(tmp_path, frame(np.arange(ROWS) % 4), task="regression")
    assert found.task == "regression"
    assert as_params(tmp_path, found).columns["target"].dtype == "int"


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        (np.array(["a", "b", "c"])[np.arange(ROWS) % 3], {"task": "regression"}, "not numeric"),
        (np.arange(ROWS) % 3, {"task": "binary"}, "has 3 distinct values, not 2"),
        (
            np.arange(ROWS) % 3,
            {"task": "multiclass", "positive_class": "1"},
            "--positive-class applies to task binary only",
        ),
    ],
)
def test_a_task_that_does_not_fit_the_target_is_refused(tmp_path, target, options, message) -> None:
    with pytest.raises(errors.PipelineError, match=message):
        described(tmp_path, frame(target), **options)
