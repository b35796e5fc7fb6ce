"""Batch scoring (`python -m <package> predict`) on the pipeline's model."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from helpers import module

batch = module("serving.batch")
files = module("model.files")


@pytest.fixture
def in_repo(pipeline_repo: Path, tmp_path: Path):
    """Run inside the pipeline repository; outputs go to tmp_path."""
    before = Path.cwd()
    os.chdir(pipeline_repo)
    yield tmp_path
    os.chdir(before)


def test_scores_every_row_in_order_as_evaluation_did(pipeline_repo: Path, in_repo: Path) -> None:
    model = files.load_model()
    spec, separator = model.spec, model.metadata["params"]["data"]["separator"]
    test = pd.read_parquet(pipeline_repo / "data" / "prepared" / "test.parquet")
    source = in_repo / "batch.csv"
    test.drop(columns=[spec.target]).to_csv(source, sep=separator, index=False)
    threshold = json.loads((pipeline_repo / "metrics" / "evaluate.json").read_text())["threshold"]
    output = in_repo / "scores.parquet"
    assert batch.main(["--input", str(source), "--output", str(output), "--chunk-rows", "500"]) == 0
    scored = pd.read_parquet(output)
    evaluated = pd.read_parquet(pipeline_repo / "reports" / "test_predictions.parquet")
    assert len(scored) == len(test)
    assert scored["score"].tolist() == pytest.approx(evaluated["score"].tolist(), abs=1e-6)
    assert ((scored["score"] >= threshold) == (scored["label"] == spec.positive_class)).all()


def test_a_failed_run_leaves_no_output(in_repo: Path, capsys) -> None:
    source = in_repo / "bad.csv"
    source.write_text("not,the,columns\n1,2,3\n")
    output = in_repo / "scores.parquet"
    assert batch.main(["--input", str(source), "--output", str(output)]) == 1
    assert not output.exists()
    assert "missing" in capsys.readouterr().err


def with_id_columns(model):
    """The model with two id columns declared in its data config (never features)."""
    metadata = copy.deepcopy(model.metadata)
    columns = metadata["params"]["data"]["columns"]
    columns["record_no"] = {"dtype": "int", "role": "id", "nullable": False}
    columns["reference"] = {"dtype": "string", "role": "id"}
    return dataclasses.replace(model, metadata=metadata)


def test_id_columns_are_carried_to_the_output(pipeline_repo: Path, in_repo: Path) -> None:
    model = files.load_model()
    spec, separator = model.spec, model.metadata["params"]["data"]["separator"]
    test = pd.read_parquet(pipeline_repo / "data" / "prepared" / "test.parquet").head(300)
    plain = in_repo / "plain.csv"
    test.drop(columns=[spec.target]).to_csv(plain, sep=separator, index=False)
    with_ids = test.drop(columns=[spec.target]).assign(
        record_no=range(1000, 1000 + len(test)), reference=[f"R-{i:04d}" for i in range(len(test))]
    )
    source = in_repo / "with_ids.csv"
    with_ids.to_csv(source, sep=separator, index=False)
    expected, scored = in_repo / "plain.parquet", in_repo / "ids.parquet"
    batch.score_file(model, plain, expected, threshold=model.threshold, chunk_rows=128)
    batch.score_file(
        with_id_columns(model), source, scored, threshold=model.threshold, chunk_rows=128
    )
    output = pd.read_parquet(scored)
    assert list(output.columns) == ["record_no", "reference", "label", "score"]
    assert output["record_no"].tolist() == with_ids["record_no"].tolist()
    assert output["reference"].tolist() == with_ids["reference"].tolist()
    # Ids are never model inputs: the scores are those of the same rows without them.
    pd.testing.assert_frame_equal(output[["label", "score"]], pd.read_parquet(expected))


def test_an_id_column_named_like_an_output_is_refused(pipeline_repo: Path) -> None:
    data = module("settings.params").DataConfig.model_validate(
        with_id_columns(
            files.load_model(
                pipeline_repo / "models" / "model.ubj", pipeline_repo / "models" / "metadata.json"
            )
        ).metadata["params"]["data"]
    )
    assert batch.id_columns(["record_no", "x"], data) == ["record_no"]
    renamed = data.model_copy(
        update={"columns": {**data.columns, "label": data.columns["record_no"]}}
    )
    with pytest.raises(module("errors").PipelineError, match=r"id column\(s\) \['label'\]"):
        batch.id_columns(["label", "record_no"], renamed)
