"""Fairness by group: known disparities found with the right sign and size, gated, small groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

from fairness_cases import disparate
from helpers import committed_params, module

fairness = module("governance.fairness")
config = module("settings.params")
errors = module("errors")


def assessed(min_group_size: int = 30) -> dict:
    labels, outcomes = disparate()
    return fairness.assess_column(labels, outcomes, min_group_size, 300, 0.95, 7)


def test_a_known_demographic_disparity_is_found_with_its_sign_and_size() -> None:
    result = assessed()
    parity = result["measures"]["demographic_parity"]
    assert parity["metric"] == "selection_rate"
    assert (parity["higher"], parity["lower"]) == ("a", "b")
    assert parity["higher_value"] == pytest.approx(0.6)
    assert parity["lower_value"] == pytest.approx(0.3)
    assert parity["difference"]["value"] == pytest.approx(0.3)
    assert parity["ratio"]["value"] == pytest.approx(0.5)
    low, high = parity["difference"]["ci_low"], parity["difference"]["ci_high"]
    assert 0.2 < low < 0.3 < high < 0.4


def test_the_gaps_equal_fairlearns_own_functions_on_the_judged_groups() -> None:
    labels, outcomes = disparate()
    judged = labels != "c"
    result = assessed()
    expected_dp = demographic_parity_difference(
        outcomes.truth[judged], outcomes.predicted[judged], sensitive_features=labels[judged]
    )
    expected_eo = equalized_odds_difference(
        outcomes.truth[judged], outcomes.predicted[judged], sensitive_features=labels[judged]
    )
    measures = result["measures"]
    assert measures["demographic_parity"]["difference"]["value"] == pytest.approx(expected_dp)
    assert measures["equalized_odds"]["difference"]["value"] == pytest.approx(expected_eo)


def test_groups_below_the_minimum_size_are_reported_not_judged() -> None:
    result = assessed(min_group_size=30)
    assert result["not_judged"] == ["c"]
    assert {g["group"]: g["size"] for g in result["groups"]} == {"a": 1000, "b": 1000, "c": 10}
    small = next(g for g in result["groups"] if g["group"] == "c")
    assert small["judged"] is False
    assert small["metrics"]["selection_rate"]["value"] == pytest.approx(1.0)
    # c selects every row, but it is not judged: the gap stays a - b
    assert result["measures"]["demographic_parity"]["lower"] == "b"
    assert result["measures"]["demographic_parity"]["higher"] == "a"
    alone = fairness.assess_column(*disparate(), 1001, 100, 0.95, 7)
    assert alone["measures"] == {}
    assert "not judged" in alone["note"]


def test_a_gate_rule_on_the_gap_fails_naming_the_group_pair() -> None:
    results = {"confidence_level": 0.95, "columns": {"region": assessed()}}
    strict = config.FairnessRule(measure="demographic_parity", max_difference=0.1)
    loose = config.FairnessRule(measure="demographic_parity", max_difference=0.5)
    failed, passed = module("model.gate").fairness_rules([strict, loose], results)
    assert failed["passed"] is False
    assert failed["kind"] == "fairness"
    assert "'region'" in failed["message"]
    assert "between 'a' and 'b'" in failed["message"]
    assert (
        failed["value"]
        == results["columns"]["region"]["measures"]["demographic_parity"]["difference"]["ci_low"]
    )
    assert passed["passed"] is True


def test_a_gate_rule_on_a_column_without_two_judged_groups_passes_and_says_why() -> None:
    labels, outcomes = disparate()
    results = {"columns": {"region": fairness.assess_column(labels, outcomes, 5000, 100, 0.95, 1)}}
    rule = config.FairnessRule(measure="equalized_odds", max_difference=0.01)
    (found,) = module("model.gate").fairness_rules([rule], results)
    assert found["passed"] is True
    assert "not judged" in found["message"]


def test_numeric_columns_are_cut_into_bins_with_the_last_edge_included() -> None:
    frame = pd.DataFrame({"age": [17, 29.5, 30, 64, 65, 120, 121, None, 5]})
    group = config.FairnessGroup(column="age", bins=[17, 30, 65, 120])
    assert list(fairness.group_labels(frame, group)) == [
        "[17, 30)",
        "[17, 30)",
        "[30, 65)",
        "[30, 65)",
        "[65, 120]",
        "[65, 120]",
        "outside [17, 120]",
        "(missing)",
        "outside [17, 120]",
    ]


def test_category_values_are_grouped_by_their_normalised_spelling() -> None:
    frame = pd.DataFrame({"region": ["North ", "north", None, "SOUTH"]})
    labels = fairness.group_labels(frame, config.FairnessGroup(column="region"))
    assert list(labels) == ["north", "north", "(missing)", "south"]


def test_the_error_gap_of_a_regression_is_the_mean_absolute_error_gap() -> None:
    labels = np.array(["x"] * 100 + ["y"] * 100, dtype=object)
    truth = np.zeros(200)
    predicted = np.r_[np.full(100, 1.0), np.full(100, 3.0)]
    outcomes = fairness.Outcomes("regression", truth, predicted, predicted)
    result = fairness.assess_column(labels, outcomes, 30, 200, 0.95, 3)
    gap = result["measures"]["error_gap"]
    assert (gap["higher"], gap["lower"]) == ("y", "x")
    assert gap["difference"]["value"] == pytest.approx(2.0)
    assert list(result["measures"]) == ["error_gap"]


def test_multiclass_parity_is_the_worst_class_selection_gap() -> None:
    labels = np.array(["x"] * 100 + ["y"] * 100, dtype=object)
    truth = np.zeros(200, dtype=int)
    predicted = np.r_[np.zeros(100, dtype=int), np.r_[np.zeros(60), np.full(40, 2)].astype(int)]
    scores = np.eye(3)[predicted]
    outcomes = fairness.Outcomes("multiclass", truth, predicted, scores, ("p", "q", "r"))
    result = fairness.assess_column(labels, outcomes, 30, 200, 0.95, 3)
    parity = result["measures"]["demographic_parity"]
    assert parity["difference"]["value"] == pytest.approx(0.4)
    assert parity["metric"] in {"selection_rate_p", "selection_rate_r"}


def test_fairness_settings_name_the_bad_key() -> None:
    raw = committed_params()
    raw["data"] = {  # a table of its own: a number, a category and the target, whatever the data
        "path": "data/raw/t.csv",
        "target": "y",
        "classes": ["no", "yes"],
        "positive_class": "yes",
        "columns": {
            "x": {"dtype": "float"},
            "colour": {"dtype": "category", "categories": ["red", "blue"]},
            "y": {"dtype": "category", "role": "target", "categories": ["no", "yes"]},
        },
    }
    feature, category = "x", "colour"
    raw["evaluate"]["fairness"] = {"groups": [{"column": "no_such_column"}]}
    with pytest.raises(errors.PipelineError, match=r"groups\.0\.column: 'no_such_column'"):
        config.parse_params(raw)
    raw["evaluate"]["fairness"] = {"groups": [{"column": category, "bins": [0, 1]}]}
    with pytest.raises(errors.PipelineError, match=r"groups\.0\.bins"):
        config.parse_params(raw)
    raw["evaluate"]["fairness"] = {"groups": [{"column": feature, "bins": [3, 1]}]}
    with pytest.raises(errors.PipelineError, match="strictly increasing"):
        config.parse_params(raw)
