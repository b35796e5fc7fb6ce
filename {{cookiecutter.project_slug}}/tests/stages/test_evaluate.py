"""Stage evaluate: metrics with intervals, plots data, gate verdict, test predictions.

On the binary version of the configured data (its own task's evaluation runs in `make run`'s
pipeline test): thresholds, F1 and the ROC curve are binary's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import f1_score, log_loss, roc_auc_score

import records
from conftest import fast_params
from helpers import module

config = module("settings.params")
errors = module("errors")
evaluate = module("stages.evaluate")
paths = module("artifacts.paths")
prepare = module("stages.prepare")
train = module("stages.train")


@pytest.fixture(scope="module")
def evaluated_dir(tmp_path_factory: pytest.TempPathFactory, sample_slice) -> Path:
    """One prepare/train/evaluate run shared by the read-only tests of this module."""
    root = tmp_path_factory.mktemp("evaluated")
    frame, binary = records.binary_version(sample_slice)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        params = fast_params()
        binary(params)
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        (root / "data/raw").mkdir(parents=True)
        separator = params["data"].get("separator", ",")
        frame.to_csv(root / "data/raw/sample.csv", sep=separator, index=False)
        params = config.load_params()
        prepare.prepare(params)
        train.train(params, log_with_dvclive=False)
        evaluate.evaluate(params)
    return root


@pytest.fixture
def evaluated(evaluated_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(evaluated_dir)
    return json.loads(paths.EVALUATE_METRICS.read_text())


def test_metrics_have_intervals_and_match_the_predictions(evaluated: dict) -> None:
    predictions = pd.read_parquet(paths.TEST_PREDICTIONS)
    roc = evaluated["metrics"]["roc_auc"]
    assert roc["value"] == pytest.approx(
        roc_auc_score(predictions["label"], predictions["score"]), abs=1e-6
    )
    assert roc["ci_low"] <= roc["value"] <= roc["ci_high"]  # all 1.0 if it ranks perfectly
    loss = evaluated["metrics"]["log_loss"]
    assert loss["ci_low"] < loss["value"] < loss["ci_high"]
    assert set(evaluated["metrics"]) == {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
    }
    assert evaluated["test_rows"] == len(predictions)


def test_plots_data_have_the_shapes_dvc_templates_need(evaluated) -> None:
    def load(name: str) -> list[dict]:
        return json.loads((paths.PLOTS_DIR / f"{name}.json").read_text())

    roc = load("roc")
    assert (roc[0]["fpr"], roc[0]["tpr"]) == (0.0, 0.0)
    assert (roc[-1]["fpr"], roc[-1]["tpr"]) == (1.0, 1.0)
    assert len(roc) <= 200
    assert np.all(np.diff([p["fpr"] for p in roc]) >= 0)
    assert {"recall", "precision"} == set(load("precision_recall")[0])
    confusion = load("confusion")
    assert len(confusion) == evaluated["test_rows"]
    data = config.load_params().data
    assert {row["actual"] for row in confusion} == set(data.classes)
    importance = load("feature_importance")
    assert len(importance) == len(data.feature_columns)
    gains = [row["total_gain"] for row in importance]
    assert gains == sorted(gains, reverse=True)
    assert len(load("calibration")) <= 10


def test_gate_verdict_is_written(evaluated) -> None:
    verdict = json.loads(paths.GATE_FILE.read_text())
    assert [rule["metric"] for rule in verdict["rules"]] == ["log_loss", "f1"]
    assert verdict["passed"] == all(rule["passed"] for rule in verdict["rules"])


def test_decisions_use_the_threshold_saved_with_the_model(evaluated) -> None:
    chosen = json.loads(paths.METADATA_FILE.read_text())["decision_threshold"]["value"]
    assert evaluated["threshold"] == chosen
    predictions = pd.read_parquet(paths.TEST_PREDICTIONS)
    decided = (predictions["score"] >= chosen).astype(int)
    assert evaluated["metrics"]["f1"]["value"] == pytest.approx(
        f1_score(predictions["label"], decided), abs=1e-6
    )


def test_the_trivial_model_is_the_training_class_share(evaluated) -> None:
    share = json.loads(paths.METADATA_FILE.read_text())["trivial_model"]["positive_score"]
    predictions = pd.read_parquet(paths.TEST_PREDICTIONS)
    trivial = evaluated["vs_trivial"]["log_loss"]["trivial"]["value"]
    assert trivial == pytest.approx(
        log_loss(predictions["label"], np.full(len(predictions), share)), abs=1e-6
    )
    everyone = f1_score(predictions["label"], np.ones(len(predictions), dtype=int))
    assert evaluated["vs_trivial"]["f1"]["trivial"]["value"] == pytest.approx(everyone, abs=1e-6)


def test_model_and_metadata_must_match(evaluated_dir: Path, tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(evaluated_dir, copy)
    monkeypatch.chdir(copy)
    paths.MODEL_FILE.write_bytes(paths.MODEL_FILE.read_bytes() + b" ")
    with pytest.raises(errors.PipelineError, match="is not the model described by"):
        evaluate.evaluate(config.load_params())
