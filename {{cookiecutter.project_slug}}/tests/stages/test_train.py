"""Stage train: deterministic model bytes, metadata that scoring needs, early stopping."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import xgboost as xgb

from helpers import module

config = module("settings.params")
errors = module("errors")
paths = module("artifacts.paths")
prepare = module("stages.prepare")
train = module("stages.train")
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
    job = next(f for f in spec["features"] if f["name"] == "job")
    assert job["kind"] == "category"
    assert "admin." in job["categories"]
    assert spec["classes"] == ["no", "yes"]
    assert spec["positive_class"] == "yes"
    assert {"xgboost", "pandas", "python"} <= set(metadata["libraries"])
    assert metadata["params"]["model"]["max_depth"] == params.model.max_depth
    booster = xgb.Booster(model_file=str(paths.MODEL_FILE))
    assert booster.num_boosted_rounds() == metrics["best_iteration"] + 1
    assert 0 < metrics["cv_auc_mean"] <= 1
    assert metrics["cv_auc_std"] >= 0


def test_dvclive_logs_the_learning_curve(prepared) -> None:
    train.train(config.load_params())
    curve = paths.DVCLIVE_DIR / "plots" / "metrics" / "validation" / "auc.tsv"
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
