"""Stage train: deterministic model bytes, metadata that scoring needs, rounds and threshold."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb

import records
from helpers import module

config = module("settings.params")
errors = module("errors")
paths = module("artifacts.paths")
prepare = module("stages.prepare")
train = module("stages.train")
training = module("model.training")
hashing = module("artifacts.hashing")


@pytest.fixture
def prepared(workspace) -> Path:
    root = workspace()
    prepare.prepare(config.load_params())
    return root


def test_same_inputs_give_byte_identical_models(prepared) -> None:
    params = config.load_params()
    train.train(params, log_with_dvclive=False)
    first = paths.MODEL_FILE.read_bytes()
    train.train(params, log_with_dvclive=False)
    assert paths.MODEL_FILE.read_bytes() == first


def test_metadata_describes_model_features_and_data(prepared) -> None:
    params = config.load_params()
    metrics = train.train(params, log_with_dvclive=False)
    metadata = json.loads(paths.METADATA_FILE.read_text())
    assert metadata["model_md5"] == hashing.md5_file(paths.MODEL_FILE)
    assert metadata["training_data_md5"] == hashing.md5_file(paths.TRAIN_DATA)
    spec = metadata["feature_spec"]
    assert [f["name"] for f in spec["features"]] == params.data.feature_columns
    for feature in spec["features"]:  # kinds and levels as the data config declares them
        column = params.data.columns[feature["name"]]
        assert feature["kind"] == ("category" if column.dtype == "category" else "numeric")
        assert feature["categories"] == list(column.categories or [])
    assert spec["classes"] == list(params.data.classes)
    assert spec["positive_class"] == params.data.positive_class
    assert {"xgboost", "pandas", "python"} <= set(metadata["libraries"])
    assert metadata["params"]["model"]["max_depth"] == params.model.max_depth
    booster = xgb.Booster(model_file=str(paths.MODEL_FILE))
    assert booster.num_boosted_rounds() == metrics["best_iteration"] + 1
    assert booster.num_boosted_rounds() == metrics["cv_best_rounds"]  # the final fit's rounds
    assert metrics["fit_rows"] == len(pd.read_parquet(paths.TRAIN_DATA))  # every training row
    assert metrics[f"cv_{records.proper_score()}_mean"] > 0
    target = pd.read_parquet(paths.TRAIN_DATA)[params.data.target]
    trivial = metadata["trivial_model"]
    if params.data.task == "regression":
        assert metadata["decision_threshold"] is None
        assert trivial["prediction"] == pytest.approx(target.astype(float).mean(), abs=1e-6)
        return
    words = target.astype(str).str.strip().str.lower()
    shares = {c: pytest.approx((words == c).mean(), abs=1e-6) for c in params.data.classes}
    assert trivial["class_shares"] == shares
    if params.data.task == "multiclass":
        assert metadata["decision_threshold"] is None
        return
    assert 0 < metrics["cv_logloss_mean"] < 1
    assert metrics["cv_auc_std"] >= 0
    chosen = metadata["decision_threshold"]
    assert chosen["method"] == "max_f1"
    assert "out-of-fold" in chosen["chosen_on"]
    assert 0 < chosen["value"] < 1
    assert trivial["positive_score"] == shares[params.data.positive_class]


def test_without_cross_validation_the_final_fit_early_stops(workspace, sample_slice) -> None:
    """On the binary version of the configured data (a fixed decision threshold is binary's)."""
    frame, binary = records.binary_version(sample_slice)

    def edit(params: dict) -> None:
        binary(params)
        params["train"]["cv_folds"] = 0
        params["train"]["threshold"] = {"method": "fixed", "value": 0.3}

    workspace(frame, edit)
    params = config.load_params()
    prepare.prepare(params)
    metrics = train.train(params, log_with_dvclive=False)
    metadata = json.loads(paths.METADATA_FILE.read_text())
    assert "cv_best_rounds" not in metrics
    assert metrics["validation_rows"] > 0
    assert metadata["decision_threshold"]["value"] == 0.3
    booster = xgb.Booster(model_file=str(paths.MODEL_FILE))
    assert booster.num_boosted_rounds() == metrics["best_iteration"] + 1


def test_dvclive_logs_the_learning_curve(prepared) -> None:
    train.train(config.load_params())
    curve = paths.DVCLIVE_DIR / "plots" / "metrics" / "train" / f"{records.proper_score()}.tsv"
    assert curve.is_file()
    assert len(curve.read_text().splitlines()) > 2
    assert not Path("dvc.yaml").exists()


def test_missing_training_data_is_explained(workspace) -> None:
    workspace()
    with pytest.raises(errors.PipelineError, match="run the prepare stage first"):
        train.train(config.load_params(), log_with_dvclive=False)


def test_learning_curves_need_no_commit(prepared) -> None:
    subprocess.run(["git", "init", "-q"], cwd=prepared, check=True)
    train.train(config.load_params())
    assert (paths.DVCLIVE_DIR / "metrics.json").is_file()


def test_cross_validation_evaluates_only_the_held_out_folds(prepared, monkeypatch) -> None:
    """Each fold's training rows are never scored (CV reports the held-out history only)."""
    evaluated: list[list[str]] = []
    real_train = xgb.train

    def recording(*args, evals=(), **kwargs):
        evaluated.append([name for _, name in evals])
        return real_train(*args, evals=evals, **kwargs)

    monkeypatch.setattr(training.xgb, "train", recording)
    params = config.load_params()
    features, labels, spec = training.load_training_matrix(params)
    cv = training.cross_validate(features, labels, spec, params)
    assert cv is not None
    assert evaluated == [["validation"]] * params.train.cv_folds


def test_a_large_tables_training_curve_comes_from_a_sample(workspace) -> None:
    """Above `train.curve_rows` training rows, the `train` learning curve is evaluated on a
    seeded sample of that many; the model is the same byte for byte."""
    workspace()
    prepare.prepare(config.load_params())
    rows = len(pd.read_parquet(paths.TRAIN_DATA))
    trained = []
    for curve_rows in (rows, max(1, rows // 2)):
        workspace(edit=lambda params, n=curve_rows: params["train"].update(curve_rows=n))
        params = config.load_params()
        prepare.prepare(params)
        train.train(params)
        (curve,) = (paths.DVCLIVE_DIR / "plots" / "metrics" / "train").glob("*.tsv")
        trained.append((paths.MODEL_FILE.read_bytes(), curve.read_text().splitlines()))
    (whole_model, whole_curve), (sampled_model, sampled_curve) = trained
    assert sampled_model == whole_model
    assert len(sampled_curve) == len(whole_curve) > 2
    assert sampled_curve != whole_curve  # the sample's figures, not every row's
