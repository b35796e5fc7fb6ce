"""Batch scoring (`python -m <package> predict`) on the pipeline's model."""

from __future__ import annotations

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
