"""Batch scoring (`python -m <package> predict`) on the pipeline's model."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
from pathlib import Path

import pandas as pd
import pytest

from helpers import module

batch = module("serving.batch")
scoring = module("model.batch")
files = module("model.files")


@pytest.fixture
def in_repo(pipeline_repo: Path, tmp_path: Path):
    """Run inside the pipeline repository; outputs go to tmp_path."""
    before = Path.cwd()
    os.chdir(pipeline_repo)
    yield tmp_path
    os.chdir(before)


def test_scores_every_row_in_order_as_evaluation_did(
    pipeline_repo: Path, in_repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
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
    # Progress of a CSV (its size unknown) in chunks: the first chunk, then the final count.
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("predict: ")]
    assert lines[0].startswith("predict: 500 rows; ")
    assert lines[-1].startswith(f"predict: {len(test):,} rows; ")


def test_a_failed_run_leaves_no_output(in_repo: Path, capsys) -> None:
    separator = files.load_model().metadata["params"]["data"]["separator"]
    source = in_repo / "bad.csv"
    source.write_text(f"not{separator}the{separator}columns\n1{separator}2{separator}3\n")
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
    scoring.score_file(model, plain, expected, threshold=model.threshold, chunk_rows=128)
    scoring.score_file(
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
    assert scoring.id_columns(["record_no", "x"], data) == ["record_no"]
    renamed = data.model_copy(
        update={"columns": {**data.columns, "label": data.columns["record_no"]}}
    )
    with pytest.raises(module("errors").PipelineError, match=r"id column\(s\) \['label'\]"):
        scoring.id_columns(["label", "record_no"], renamed)


# --- messages for bad files: the row and column, in plain words -----------------------------


def features_csv(pipeline_repo: Path, rows: int) -> tuple[pd.DataFrame, str]:
    """`rows` raw test rows (features only, repeated as needed) and the data's separator."""
    model = files.load_model()
    test = pd.read_parquet(pipeline_repo / "data" / "prepared" / "test.parquet")
    frame = test.drop(columns=[model.spec.target])
    frame = pd.concat([frame] * (1 + rows // len(frame)), ignore_index=True).head(rows)
    return frame, model.metadata["params"]["data"]["separator"]


def failed_run(source: Path, output: Path, capsys, *extra: str) -> str:
    """Run batch scoring that must fail; return its message (checked for plain words)."""
    assert batch.main(["--input", str(source), "--output", str(output), *extra]) == 1
    assert not output.exists()
    message = capsys.readouterr().err
    assert "Traceback" not in message
    assert "Error(" not in message, "a Python exception's repr in the message"
    return message


def test_bytes_that_are_not_utf8_are_named_by_row_and_column(
    pipeline_repo: Path, in_repo: Path, capsys
) -> None:
    frame, separator = features_csv(pipeline_repo, 3000)
    # Decoding fails before parsing, so any column can hold the byte.
    text_column = str(frame.columns[0])
    frame[text_column] = frame[text_column].astype("object")
    frame.loc[2499, text_column] = "caf\udce9"  # row 2500 holds a Latin-1 byte 0xe9
    source = in_repo / "latin1.csv"
    source.write_bytes(
        frame.to_csv(sep=separator, index=False).encode("utf-8", errors="surrogateescape")
    )
    message = failed_run(source, in_repo / "out.parquet", capsys, "--chunk-rows", "700")
    assert f"row 2500, column '{text_column}': byte 0xe9 is not valid UTF-8" in message, message
    assert "position" not in message


def test_a_header_without_rows_says_no_rows(pipeline_repo: Path, in_repo: Path, capsys) -> None:
    frame, separator = features_csv(pipeline_repo, 1)
    source = in_repo / "header.csv"
    frame.head(0).to_csv(source, sep=separator, index=False)
    message = failed_run(source, in_repo / "out.parquet", capsys)
    assert "has a header but no rows" in message, message
    assert "rows 1-0" not in message


def test_a_file_with_another_separator_gets_the_separator_suggested(
    pipeline_repo: Path, in_repo: Path, capsys
) -> None:
    frame, separator = features_csv(pipeline_repo, 20)
    other = "," if separator != "," else ";"
    source = in_repo / "other_separator.csv"
    frame.to_csv(source, sep=other, index=False)
    message = failed_run(source, in_repo / "out.parquet", capsys)
    assert "found one column" in message, message
    assert f"set data.separator to {other!r}" in message, message


def test_a_value_of_the_wrong_type_names_row_column_and_type(
    pipeline_repo: Path, in_repo: Path, capsys
) -> None:
    frame, separator = features_csv(pipeline_repo, 400)
    data = files.load_model().metadata["params"]["data"]["columns"]
    numeric = [c for c in frame.columns if data[c]["dtype"] in ("int", "float")]
    assert numeric, "the test needs a numeric feature column"
    column = numeric[0]
    frame[column] = frame[column].astype("object")
    frame.loc[[299, 349], column] = "abc"
    source = in_repo / "bad_value.csv"
    frame.to_csv(source, sep=separator, index=False)
    message = failed_run(source, in_repo / "out.parquet", capsys, "--chunk-rows", "100")
    expected = "a whole number" if data[column]["dtype"] == "int" else "a number"
    assert "rows 201-300: the input does not match" in message, message
    assert f"column '{column}': 1 of 100 rows fail the type check: expected {expected}" in message
    assert "'abc' (row 300)" in message, message
    assert "not supported between" not in message
