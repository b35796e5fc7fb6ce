"""The three tasks in the settings: what each needs, and clear refusals of what does not fit."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import committed_params, module

config = module("settings.params")
errors = module("errors")


def with_data(task: str, target: dict[str, Any], **data: Any) -> dict[str, Any]:
    raw = committed_params()
    raw["data"] = {
        "path": "data/raw/t.csv",
        "task": task,
        "target": "y",
        **data,
        "columns": {"x": {"dtype": "float"}, "y": {"role": "target", **target}},
    }
    raw["evaluate"]["fairness"]["groups"] = []  # the sample's groups name the sample's columns
    return raw


def multiclass(**data: Any) -> dict[str, Any]:
    levels = {"dtype": "category", "categories": ["a", 2, True]}
    return with_data("multiclass", levels, **{"classes": ["a", 2, True], **data})


def regression(dtype: str = "float", **data: Any) -> dict[str, Any]:
    return with_data("regression", {"dtype": dtype}, **data)


def test_multiclass_takes_any_number_of_classes_spelled_as_in_the_data() -> None:
    params = config.parse_params(multiclass())
    assert params.data.classes == ("a", "2", "true")
    assert params.data.positive_class is None
    assert params.eval_metric == "mlogloss"  # train.eval_metric auto


def test_regression_has_no_classes_and_stops_early_on_rmse() -> None:
    params = config.parse_params(regression(dtype="int"))
    assert (params.data.classes, params.data.positive_class) == ((), None)
    assert params.eval_metric == "rmse"


def test_binary_keeps_log_loss_and_needs_a_positive_class() -> None:
    raw = with_data("binary", {"dtype": "category", "categories": [0, 1]}, classes=[0, 1])
    with pytest.raises(errors.PipelineError, match="task binary needs 'positive_class'"):
        config.parse_params(raw)
    raw["data"]["positive_class"] = 1
    assert config.parse_params(raw).eval_metric == "logloss"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (multiclass(positive_class="a"), "'positive_class' applies to task binary only"),
        (multiclass(classes=["a"]), r"task multiclass needs at least 2 'classes'"),
        (multiclass(classes=["a", "2"]), "categories are exactly 'classes'"),
        (regression(classes=["a", "b"]), "task regression has no 'classes'"),
        (regression(positive_class="a"), "task regression has no 'classes' and no"),
        (
            with_data("regression", {"dtype": "category", "categories": ["a", "b"]}),
            "task regression needs a numeric target: column 'y' is category",
        ),
        (
            with_data("binary", {"dtype": "category", "categories": ["a", "b", "c"]},
                      classes=["a", "b", "c"], positive_class="a"),
            "task binary needs exactly 2 'classes'",
        ),
    ],
)  # fmt: skip
def test_settings_that_do_not_fit_the_task_are_refused(raw, message) -> None:
    with pytest.raises(errors.PipelineError, match=message):
        config.parse_params(raw)


def test_an_early_stopping_metric_of_another_task_is_refused() -> None:
    raw = regression()
    raw["train"]["eval_metric"] = "logloss"
    with pytest.raises(errors.PipelineError, match="'logloss' does not fit task regression"):
        config.parse_params(raw)


def test_class_labels_keep_the_spelling_of_classes() -> None:
    data = config.DataConfig.model_validate(
        {
            "path": "t.csv",
            "target": "income",
            "classes": [" <=50K", ">50K"],
            "positive_class": ">50K",
            "columns": {
                "x": {"dtype": "float"},
                "income": {"dtype": "category", "role": "target", "categories": ["<=50K", ">50K"]},
            },
        }
    )
    assert data.classes == ("<=50k", ">50k")  # compared spelling
    assert data.class_labels == ("<=50K", ">50K")  # as written, stripped
    assert data.label_spelling == {"<=50k": "<=50K", ">50k": ">50K"}
    again = config.DataConfig.model_validate(data.model_dump())  # metadata round trip
    assert again.class_labels == ("<=50K", ">50K")
    with pytest.raises(ValueError, match="'class_labels'"):
        config.DataConfig.model_validate({**data.model_dump(), "class_labels": ["a", "b"]})
