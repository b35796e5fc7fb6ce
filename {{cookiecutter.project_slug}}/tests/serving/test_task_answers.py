"""The answer columns of batch scoring and the service's score buckets, per task."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from helpers import module

batch = module("model.batch")
features = module("model.features")
prometheus = module("serving.http.prometheus")
service = module("serving.service")
scoring = module("model.scoring")


def spec(
    task: str,
    classes: tuple[str, ...] = (),
    positive: str | None = None,
    labels: tuple[str, ...] = (),
):
    return features.FeatureSpec((), "y", classes, positive, task, labels)


def test_answers_spell_classes_as_the_data_config_does() -> None:
    binary = spec("binary", ("<=50k", ">50k"), ">50k", ("<=50K", ">50K"))
    got = batch.answer_columns(binary, np.array([0.2, 0.7]), 0.5)
    assert list(got["label"]) == ["<=50K", ">50K"]
    three = spec("multiclass", ("a", "b", "c"), None, ("A", "b", "Cc"))
    got = batch.answer_columns(three, np.array([[0.1, 0.2, 0.7]]), None)
    assert list(got["label"]) == ["Cc"]
    spelled = ("label", "probability_A", "probability_b", "probability_Cc")
    assert batch.output_columns(three) == spelled
    # the spelling travels with the model's metadata
    assert features.FeatureSpec.from_dict(three.to_dict()).labels == ("A", "b", "Cc")


def test_metadata_spells_classes_as_the_data_config_does() -> None:
    info = {"model_name": "m", "model_version": "1", "model_md5": "0", "test_metrics": {}}
    limits = SimpleNamespace(max_records=10, max_body_bytes=100)
    binary = spec("binary", ("<=50k", ">50k"), ">50k", ("<=50K", ">50K"))
    packaged = SimpleNamespace(
        info={**info, "gate": {}},
        model=SimpleNamespace(spec=binary),
        settings=limits,
        threshold=0.5,
    )
    metadata = service.metadata_of(packaged)
    assert (metadata.classes, metadata.positive_class) == (["<=50K", ">50K"], ">50K")
    packaged.model.spec = spec("regression")
    metadata = service.metadata_of(packaged)
    assert (metadata.classes, metadata.positive_class) == ([], None)


def test_binary_answers_at_the_threshold() -> None:
    binary = spec("binary", ("no", "yes"), "yes")
    got = batch.answer_columns(binary, np.array([0.2, 0.7, 0.5]), 0.5)
    assert list(got["label"]) == ["no", "yes", "yes"]
    assert list(got["score"]) == [0.2, 0.7, 0.5]
    assert batch.output_columns(binary) == ("label", "score")


def test_multiclass_answers_the_most_probable_class_and_every_probability() -> None:
    three = spec("multiclass", ("a", "b", "c"))
    outputs = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    got = batch.answer_columns(three, outputs, None)
    assert list(got["label"]) == ["b", "a"]
    assert list(got["probability_c"]) == [0.2, 0.3]
    assert batch.output_columns(three) == (
        "label",
        "probability_a",
        "probability_b",
        "probability_c",
    )


def test_regression_answers_the_value_only() -> None:
    values = np.array([1.5, -2.0])
    got = batch.answer_columns(spec("regression"), values, None)
    assert list(got) == ["prediction"]
    assert batch.output_columns(spec("regression")) == ("prediction",)
    with pytest.raises(ValueError, match="no class decision for task regression"):
        scoring.decide(spec("regression"), values, None)


def test_an_id_column_named_like_an_answer_column_is_refused() -> None:
    data = module("settings.params").DataConfig.model_validate(
        {
            "path": "t.csv",
            "task": "regression",
            "target": "y",
            "columns": {
                "prediction": {"dtype": "int", "role": "id"},
                "x": {"dtype": "float"},
                "y": {"dtype": "float", "role": "target"},
            },
        }
    )
    with pytest.raises(module("errors").PipelineError, match=r"\['prediction'\]"):
        batch.id_columns(["prediction", "x"], data, spec("regression"))


def test_regression_score_buckets_are_the_distinct_training_deciles() -> None:
    metadata = {"trivial_model": {"deciles": [3.0, 1.5, 1.5, 7.25]}}
    assert prometheus.value_buckets(metadata) == (1.5, 3.0, 7.25)
    assert prometheus.value_buckets({}) == (0.0,)
