"""The typed schema of params.yaml: valid configs load, invalid ones name the key."""

from __future__ import annotations

import pytest

import records
from helpers import committed_params, module

config = module("settings.params")
errors = module("errors")


def test_committed_params_are_valid() -> None:
    raw = committed_params()
    params = config.parse_params(raw)
    assert params.data.target == raw["data"]["target"]
    assert params.data.target not in params.data.feature_columns
    assert not set(raw["data"].get("drop_columns", [])) & set(params.data.feature_columns)


@pytest.mark.sample
def test_the_samples_params() -> None:
    params = config.parse_params(committed_params())
    assert params.data.target == "y"
    assert "duration" not in params.data.feature_columns


def test_unknown_key_is_named_with_a_suggestion() -> None:
    raw = committed_params()
    raw["model"]["max_dpeth"] = 3
    with pytest.raises(errors.PipelineError) as caught:
        config.parse_params(raw)
    assert "key 'model.max_dpeth' is not a known setting" in str(caught.value)
    assert "did you mean 'model.max_depth'" in str(caught.value)


def test_wrong_type_is_named() -> None:
    raw = committed_params()
    raw["model"]["max_depth"] = "deep"
    with pytest.raises(errors.PipelineError, match=r"key 'model\.max_depth'.*'deep'"):
        config.parse_params(raw)


def test_missing_key_is_named() -> None:
    raw = committed_params()
    del raw["split"]["test_size"]
    with pytest.raises(errors.PipelineError, match=r"key 'split\.test_size' is required"):
        config.parse_params(raw)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("split", "test_size"), 1.5, "split.test_size"),
        (("data", "positive_class"), "maybe", "positive_class"),
        (("data", "drop_columns"), [records.target()], "must not drop the target"),
        (("evaluate", "gate"), {"absolute": [{"metric": "roc_auc"}]}, "exactly one of 'min'"),
        (
            ("evaluate", "gate"),
            {"absolute": [{"metric": "auc", "min": 0.5}]},
            "evaluate.gate.absolute.0.metric",
        ),
        (("evaluate", "gate"), {"beat_trivial": "always"}, "evaluate.gate.beat_trivial"),
        (("train", "threshold"), {"method": "fixed", "value": 1.5}, "train.threshold.value"),
    ],
)
def test_invalid_values_are_explained(path: tuple[str, str], value: object, expected: str) -> None:
    raw = committed_params()
    raw[path[0]][path[1]] = value
    with pytest.raises(errors.PipelineError, match=expected.replace(".", r"\.")):
        config.parse_params(raw)


def test_category_levels_may_be_spelled_as_in_the_data() -> None:
    raw = committed_params()
    columns = raw["data"]["columns"]
    columns["status"] = {"dtype": "category", "categories": ["Married", " single", "divorced", 0]}
    levels = config.parse_params(raw).data.columns["status"].categories
    assert levels == ["married", "single", "divorced", "0"]
    columns["status"]["categories"] = ["Married", "married "]
    with pytest.raises(errors.PipelineError, match=r"data\.columns\.status.*twice"):
        config.parse_params(raw)


def test_targets_of_any_type_and_column_roles() -> None:
    raw = committed_params()
    first, second = records.features()[:2]
    target = {"dtype": "category", "role": "target", "nullable": False, "categories": [False, True]}
    raw["data"]["columns"][records.target()] = target  # whatever the configured task
    raw["data"]["task"] = "binary"
    raw["data"]["classes"] = [False, True]
    raw["data"]["positive_class"] = True
    for column in raw["data"]["columns"].values():
        if column.get("role") == "id":
            column["role"] = "drop"  # the configured ids, if any: only `first` is one here
    raw["data"]["columns"][first]["role"] = "id"
    data = config.parse_params(raw).data
    assert (data.classes, data.positive_class) == (("false", "true"), "true")
    assert first not in data.feature_columns
    assert data.id_columns == [first]
    raw["data"]["columns"][second] = {"dtype": "string"}
    with pytest.raises(errors.PipelineError, match="dtype string is for id, timestamp or drop"):
        config.parse_params(raw)
    raw["data"]["columns"][second] = {"dtype": "string", "role": "drop"}
    raw["data"]["task"] = "regression"
    with pytest.raises(errors.PipelineError, match="task regression has no 'classes'"):
        config.parse_params(raw)


def test_missing_params_file_explains_how_to_make_it(tmp_path) -> None:
    with pytest.raises(errors.PipelineError, match="make params"):
        config.load_params(tmp_path / "params.yaml")
