"""The Dask engine: a model trained on a 2-worker local cluster scores like the local engine's,
batch scoring on Dask gives the local scores in the same order, a bad scheduler fails fast."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import module

paths = module("artifacts.paths")
errors = module("errors")
files = module("model.files")
features = module("model.features")
metrics = module("model.metrics")
scoring = module("model.scoring")
params_module = module("settings.params")
batch = module("model.batch")
cluster = module("scaling.cluster")
dask_batch = module("scaling.dask_batch")

LOCAL_CLUSTER = {"workers": 2, "threads_per_worker": 1, "processes": False}


def engine_params(repo: Path, engine: str, **dask: Any) -> Any:
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["train"]["engine"] = engine
    raw["train"]["dask"] = {**LOCAL_CLUSTER, **dask}
    return params_module.parse_params(raw)


def copy_split(repo: Path, into: Path) -> None:
    for path in (paths.TRAIN_DATA, paths.TEST_DATA):
        (into / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo / path, into / path)


def labelled_scores(model: Any, test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    labels = features.encode_target(test[model.spec.target], model.spec)
    return labels, scoring.positive_scores(model, test)


@pytest.mark.parametrize(
    ("engine", "batches", "dask"),
    [
        ("dask", 12, {}),
        ("dask", 9, {"external_memory": True}),
        ("external_memory", 9, {}),
    ],
    ids=["dask", "dask-external-memory", "external-memory"],
)
def test_another_engine_scores_within_the_local_models_interval(
    pipeline_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
    batches: int,
    dask: dict[str, Any],
) -> None:
    """On any data: `batches` partitions or batches of the training split, whatever its size."""
    copy_split(pipeline_repo, tmp_path)
    monkeypatch.chdir(tmp_path)
    rows = len(pd.read_parquet(paths.TRAIN_DATA))
    params = engine_params(pipeline_repo, engine, partition_rows=-(-rows // batches), **dask)
    train_stage = module("stages.train")
    metrics_out = train_stage.train(params, log_with_dvclive=False)
    assert metrics_out["engine"] == engine
    assert metrics_out.get("external_memory", False) == dask.get("external_memory", False)
    if engine == "dask":
        assert metrics_out["dask_workers"] == LOCAL_CLUSTER["workers"]
    train_split = pd.read_parquet(paths.TRAIN_DATA)
    assert metrics_out["fit_rows"] + metrics_out["validation_rows"] == len(train_split)
    spec = features.FeatureSpec.from_data_config(params.data)
    metadata = json.loads(Path(paths.METADATA_FILE).read_text(encoding="utf-8"))
    trained_on = features.encode_target(train_split[spec.target], spec)
    assert metadata["trivial_model"] == module("model.training").trivial_model(trained_on, spec)

    test = pd.read_parquet(paths.TEST_DATA)
    local = files.load_model(pipeline_repo / paths.MODEL_FILE, pipeline_repo / paths.METADATA_FILE)
    other = files.load_model(paths.MODEL_FILE, paths.METADATA_FILE)
    assert other.spec == local.spec
    labels, local_scores = labelled_scores(local, test)
    _, other_scores = labelled_scores(other, test)
    evaluate = params.evaluate
    interval = metrics.with_intervals(
        labels,
        local_scores,
        local.threshold,
        evaluate.bootstrap_resamples,
        evaluate.confidence_level,
        params.seed,
    )["roc_auc"]
    other_auc = metrics.with_intervals(
        labels, other_scores, other.threshold, 100, evaluate.confidence_level, params.seed
    )["roc_auc"].value
    assert interval.ci_low <= other_auc <= interval.ci_high


def test_batch_scoring_on_dask_gives_the_local_scores_in_order(
    pipeline_repo: Path, tmp_path: Path
) -> None:
    model = files.load_model(pipeline_repo / paths.MODEL_FILE, pipeline_repo / paths.METADATA_FILE)
    source = tmp_path / "batch.parquet"
    pd.read_parquet(pipeline_repo / paths.TEST_DATA).to_parquet(source)
    local_out, dask_out = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    rows = batch.score_file(
        model, source, local_out, threshold=model.threshold, chunk_rows=97, progress=False
    )
    dask_rows = dask_batch.score_file_on_dask(
        model,
        source,
        dask_out,
        threshold=model.threshold,
        chunk_rows=97,
        config=params_module.DaskConfig(**LOCAL_CLUSTER),
    )
    assert dask_rows == rows
    parts = sorted(p.name for p in dask_out.iterdir())
    assert parts == [dask_batch.part_name(i) for i in range(-(-rows // 97))]
    local, on_dask = pd.read_parquet(local_out), pd.read_parquet(dask_out)
    assert list(on_dask.columns) == list(local.columns)
    np.testing.assert_allclose(on_dask["score"], local["score"], rtol=0, atol=1e-12)
    assert on_dask["label"].tolist() == local["label"].tolist()


def test_a_chunk_with_bad_rows_leaves_no_output_folder(pipeline_repo: Path, tmp_path: Path) -> None:
    model = files.load_model(pipeline_repo / paths.MODEL_FILE, pipeline_repo / paths.METADATA_FILE)
    test = pd.read_parquet(pipeline_repo / paths.TEST_DATA)
    repeats = -(-300 // len(test))  # enough rows for three chunks, whatever the data's size
    frame = pd.concat([test] * repeats, ignore_index=True).head(300).astype("string")
    numeric = next(f.name for f in model.spec.features if f.kind == "numeric")
    frame.loc[250, numeric] = "not a number"
    source = tmp_path / "bad.parquet"
    frame.to_parquet(source, index=False)
    target = tmp_path / "out.parquet"
    with pytest.raises(errors.PipelineError, match=r"rows 201-300"):
        dask_batch.score_file_on_dask(
            model,
            source,
            target,
            threshold=0.5,
            chunk_rows=100,
            config=params_module.DaskConfig(**LOCAL_CLUSTER),
        )
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet"]


def test_a_bad_scheduler_address_fails_fast_and_says_so() -> None:
    config = params_module.DaskConfig(address="tcp://127.0.0.1:9", connect_timeout_s=1)
    started = time.monotonic()
    with (
        pytest.raises(errors.PipelineError, match=r"tcp://127.0.0.1:9.*within 1 s"),
        cluster.dask_client(config),
    ):
        pass
    assert time.monotonic() - started < 30  # the timeout, not a hang


def test_external_memory_labels_keep_the_tasks_type() -> None:
    """XGBoost keeps labels as float32: regression targets stay numbers (not truncated to
    integers, which made the trivial model's mean wrong), class indices become integers."""
    external_memory = module("scaling.external_memory")
    stored = np.array([0.5, 2.25, 1.0], dtype=np.float32)
    regression = external_memory.labels_as_trained(stored, "regression")
    assert regression.dtype == np.float64
    assert regression.tolist() == [0.5, 2.25, 1.0]
    classes = external_memory.labels_as_trained(np.array([0, 2, 1], dtype=np.float32), "multiclass")
    assert classes.dtype == np.int32
    assert classes.tolist() == [0, 2, 1]
