"""Multiclass and regression through prepare, train, evaluate, the gate and batch scoring.

Small synthetic tables in a scratch workspace (in process, a second or two each): the same
stage functions the pipeline runs, on a task other than the sample's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from helpers import module

config = module("settings.params")
paths = module("artifacts.paths")
prepare = module("stages.prepare")
train = module("stages.train")
evaluate = module("stages.evaluate")
batch = module("serving.batch")
files = module("model.files")
scoring = module("model.scoring")
monitor = module("drift.monitor")

ROWS = 300
CLASSES = ["low", "mid", "high"]


def multiclass_table() -> pd.DataFrame:
    """The class is the third of `x` it falls in (5% of labels moved); `noise` is noise."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, ROWS)
    kind = np.array(CLASSES)[np.floor(x).astype(int)]
    moved = rng.random(ROWS) < 0.05
    kind[moved] = rng.choice(CLASSES, int(moved.sum()))
    return pd.DataFrame(
        {
            "ref": np.arange(ROWS) + 1000,
            "x": x.round(4),
            "noise": rng.normal(size=ROWS).round(4),
            "colour": rng.choice(["red", "blue"], ROWS),
            "kind": kind,
        }
    )


def regression_table(useless: bool = False) -> pd.DataFrame:
    """y = 10 + 4x + noise; `useless`: y is noise alone (no feature says anything)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=ROWS)
    noise = rng.normal(size=ROWS)
    y = noise * 3 + 10 if useless else 10 + 4 * x + noise
    return pd.DataFrame(
        {
            "ref": np.arange(ROWS) + 1000,
            "x": x.round(4),
            "noise": rng.normal(size=ROWS).round(4),
            "colour": rng.choice(["red", "blue"], ROWS),
            "y": y.round(4),
        }
    )


def data_config(task: str) -> Callable[[dict[str, Any]], None]:
    def edit(params: dict[str, Any]) -> None:
        columns: dict[str, Any] = {
            "ref": {"dtype": "int", "role": "id"},
            "x": {"dtype": "float"},
            "noise": {"dtype": "float"},
            "colour": {"dtype": "category", "categories": ["red", "blue"]},
        }
        if task == "multiclass":
            target, extra = "kind", {"classes": CLASSES}
            columns["kind"] = {"dtype": "category", "role": "target", "categories": CLASSES}
        else:
            target, extra = "y", {}
            columns["y"] = {"dtype": "float", "role": "target"}
        params["data"] = {
            "path": "data/raw/sample.csv",
            "task": task,
            "target": target,
            **extra,
            "min_rows": 50,
            "columns": columns,
        }
        params["evaluate"]["fairness"]["groups"] = []  # the sample's groups name its columns

    return edit


def run_stages(workspace, table: pd.DataFrame, task: str) -> Any:
    workspace(table, data_config(task))
    params = config.load_params()
    prepare.prepare(params)
    train.train(params, log_with_dvclive=False)
    evaluate.evaluate(params)
    return params


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_multiclass_end_to_end_and_batch_scoring(workspace) -> None:
    run_stages(workspace, multiclass_table(), "multiclass")
    metadata = read(paths.METADATA_FILE)
    assert metadata["feature_spec"]["task"] == "multiclass"
    assert metadata["feature_spec"]["classes"] == CLASSES
    assert metadata["decision_threshold"] is None  # a threshold is for binary models only
    booster = xgb.Booster(model_file=str(paths.MODEL_FILE))
    assert json.loads(booster.save_config())["learner"]["objective"]["name"] == "multi:softprob"
    assert "cv_mlogloss_mean" in read(paths.TRAIN_METRICS)  # early stopping on log loss

    prepared = pd.read_parquet(paths.TRAIN_DATA)
    shares = prepared["kind"].value_counts(normalize=True)
    trivial = metadata["trivial_model"]["class_shares"]
    assert trivial == pytest.approx({c: shares[c] for c in CLASSES}, abs=1e-6)

    evaluation = read(paths.EVALUATE_METRICS)
    metrics = evaluation["metrics"]
    for name in ("accuracy", "f1_macro", "f1_weighted", "log_loss", "roc_auc_ovr",
                 *(f"{k}_{c}" for k in ("precision", "recall") for c in CLASSES)):  # fmt: skip
        assert metrics[name]["ci_low"] <= metrics[name]["value"] <= metrics[name]["ci_high"], name
    assert metrics["accuracy"]["value"] > 0.8
    gate = read(paths.GATE_FILE)
    assert gate["passed"]
    assert [r["metric"] for r in gate["rules"]] == ["log_loss", "f1_macro"]

    predictions = pd.read_parquet(paths.TEST_PREDICTIONS)
    assert list(predictions.columns) == ["label", *(f"probability_{c}" for c in CLASSES)]
    probabilities = predictions.iloc[:, 1:].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    test = pd.read_parquet(paths.TEST_DATA)
    assert predictions["label"].tolist() == [CLASSES.index(k) for k in test["kind"]]

    confusion = read(paths.PLOTS_DIR / "confusion.json")
    assert len(confusion) == len(test)
    assert {r["actual"] for r in confusion} == set(CLASSES)
    assert read(paths.PLOTS_DIR / "roc.json") == []  # binary only
    assert read(paths.PLOTS_DIR / "predicted_actual.json") == []  # regression only

    # batch scoring: the id column, the label and one probability per class
    table = multiclass_table().drop(columns=["kind"]).head(40)
    table.to_csv("batch.csv", index=False)
    assert batch.main(["--input", "batch.csv", "--output", "out.parquet"]) == 0
    scored = pd.read_parquet("out.parquet")
    assert list(scored.columns) == ["ref", "label", *(f"probability_{c}" for c in CLASSES)]
    assert scored["ref"].tolist() == table["ref"].tolist()
    probabilities = scored.iloc[:, 2:].to_numpy()
    assert scored["label"].tolist() == [CLASSES[i] for i in probabilities.argmax(axis=1)]
    # x decides the class: the middle of each third is predicted as that third
    clear = table["x"].sub(table["x"].round(0) + 0.5).abs() < 0.3
    truth = np.array(CLASSES)[np.floor(table["x"]).astype(int)]
    assert (scored["label"][clear] == truth[clear]).mean() > 0.9


def test_regression_end_to_end(workspace) -> None:
    params = run_stages(workspace, regression_table(), "regression")
    metadata = read(paths.METADATA_FILE)
    assert metadata["feature_spec"]["task"] == "regression"
    assert metadata["feature_spec"]["classes"] == []
    assert metadata["decision_threshold"] is None
    booster = xgb.Booster(model_file=str(paths.MODEL_FILE))
    config_json = json.loads(booster.save_config())["learner"]
    assert config_json["objective"]["name"] == "reg:squarederror"
    assert "cv_rmse_mean" in read(paths.TRAIN_METRICS)
    training = pd.read_parquet(paths.TRAIN_DATA)
    assert metadata["trivial_model"]["prediction"] == pytest.approx(training["y"].mean(), abs=1e-5)

    evaluation = read(paths.EVALUATE_METRICS)
    assert set(evaluation["metrics"]) == {"rmse", "mae", "r2", "mape"}
    test = pd.read_parquet(paths.TEST_DATA)
    predictions = pd.read_parquet(paths.TEST_PREDICTIONS)
    assert list(predictions.columns) == ["label", "prediction"]
    error = predictions["prediction"] - test["y"]
    assert evaluation["metrics"]["rmse"]["value"] == pytest.approx(
        float(np.sqrt((error**2).mean())), abs=1e-5
    )
    assert evaluation["metrics"]["r2"]["value"] > 0.8
    gate = read(paths.GATE_FILE)
    assert gate["passed"]
    assert [r["metric"] for r in gate["rules"]] == ["rmse"]
    assert len(read(paths.PLOTS_DIR / "predicted_actual.json")) == len(test)
    residuals = read(paths.PLOTS_DIR / "residuals.json")
    assert {"predicted", "residual"} == set(residuals[0])
    assert read(paths.PLOTS_DIR / "confusion.json") == []

    table = regression_table().drop(columns=["y"]).head(25)
    table.to_csv("batch.csv", index=False)
    assert batch.main(["--input", "batch.csv", "--output", "out.parquet"]) == 0
    scored = pd.read_parquet("out.parquet")
    assert list(scored.columns) == ["ref", "prediction"]
    model = files.load_model()
    assert np.allclose(scored["prediction"], scoring.predictions(model, table))

    # the monitor on a labelled batch: the binary default floor (roc_auc) does not apply, so
    # the rule is RMSE against the trivial model's (the training mean) on the same rows
    performance = monitor.batch_performance(test, None, model, params, evaluation)
    trivial_rmse = float(np.sqrt(((test["y"] - training["y"].mean()) ** 2).mean()))
    assert performance["metric"] == "rmse"
    assert performance["floor"] == pytest.approx(trivial_rmse, abs=1e-4)
    assert performance["below_floor"] is False
    assert performance["test_value"] == evaluation["metrics"]["rmse"]["value"]
    json.dumps(performance)  # JSON-ready (summary.json)


def test_a_regression_model_that_learns_nothing_fails_the_gate(workspace) -> None:
    run_stages(workspace, regression_table(useless=True), "regression")
    gate = read(paths.GATE_FILE)
    assert not gate["passed"]
    (rule,) = gate["rules"]
    assert rule["metric"] == "rmse"
    assert "not better than the trivial model" in rule["message"]
