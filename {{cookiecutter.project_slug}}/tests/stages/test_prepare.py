"""Stage prepare: validation errors name the problem, outputs are atomic, splits are right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import PACKAGE, ROOT, module

config = module("settings.params")
errors = module("errors")
paths = module("artifacts.paths")
prepare = module("stages.prepare")

OUTPUTS = (paths.TRAIN_DATA, paths.TEST_DATA, paths.DATA_REPORT)


def run_prepare() -> dict:
    return prepare.prepare(config.load_params())


def test_writes_splits_and_report(workspace, sample_slice: pd.DataFrame) -> None:
    workspace()
    report = run_prepare()
    train, test = pd.read_parquet(paths.TRAIN_DATA), pd.read_parquet(paths.TEST_DATA)
    assert len(train) + len(test) == len(sample_slice) == report["rows_out"]
    assert "duration" not in train.columns
    assert report["test_rows"] == round(len(sample_slice) * 0.2)
    expected_share = (sample_slice["y"] == "yes").mean()
    assert report["positive_share"]["test"] == pytest.approx(expected_share, abs=1 / len(test))
    assert report["positive_share"]["train"] == pytest.approx(expected_share, abs=1 / len(train))
    assert isinstance(train["job"].dtype, pd.CategoricalDtype)


def test_counts_and_drops_exact_duplicates(workspace, sample_slice: pd.DataFrame) -> None:
    with_duplicates = pd.concat([sample_slice, sample_slice.iloc[[0, 5, 9]]], ignore_index=True)
    workspace(with_duplicates)
    report = run_prepare()
    assert report["rows_in"] == len(sample_slice) + 3
    assert report["duplicates_dropped"] == 3
    assert report["rows_out"] == len(sample_slice)


def test_normalises_category_spelling_and_missing_markers(workspace, sample_slice) -> None:
    frame = sample_slice.copy()
    frame.loc[0, "marital"] = "  MARRIED "
    workspace(frame)
    run_prepare()
    both = pd.concat([pd.read_parquet(paths.TRAIN_DATA), pd.read_parquet(paths.TEST_DATA)])
    assert "  MARRIED " not in set(both["marital"].astype(str))
    assert both["pdays"].isna().sum() == (sample_slice["pdays"] == "999").sum()


def test_time_split_keeps_the_last_rows_for_testing(workspace, sample_slice) -> None:
    workspace(edit=lambda p: p["split"].update(method="time"))
    run_prepare()
    test = pd.read_parquet(paths.TEST_DATA)
    tail = sample_slice.tail(len(test)).reset_index(drop=True)
    assert test["age"].astype(int).tolist() == tail["age"].astype(int).tolist()


def test_split_depends_on_the_seed_only(workspace) -> None:
    workspace()
    run_prepare()
    first = pd.read_parquet(paths.TEST_DATA)
    run_prepare()
    pd.testing.assert_frame_equal(first, pd.read_parquet(paths.TEST_DATA))
    workspace(edit=lambda p: p.update(seed=7))
    run_prepare()
    assert not first.equals(pd.read_parquet(paths.TEST_DATA))


def _break(frame: pd.DataFrame, column: str, rows: list[int], value: object) -> pd.DataFrame:
    broken = frame.copy()
    broken[column] = broken[column].astype(object)
    broken.loc[rows, column] = value
    return broken


BAD_INPUTS = {
    "missing target": (lambda f: f.drop(columns=["y"]), r"target column 'y'.*missing"),
    "missing column": (
        lambda f: f.drop(columns=["euribor3m"]),
        r"missing declared column.*euribor3m",
    ),
    "extra column": (lambda f: f.assign(surprise=1), r"'surprise'.*does not declare"),
    "wrong type": (
        lambda f: _break(f, "age", [3, 4], "old"),
        r"column 'age'.*type.*'old' \(row 4\)",
    ),
    "unknown category": (
        lambda f: _break(f, "job", [2], "astronaut"),
        r"column 'job'.*1 of \d+ rows.*categories.*'astronaut' \(row 3\)",
    ),
    "out of range": (lambda f: _break(f, "age", [0], "300"), r"column 'age'.*<= 120.*300"),
    "null where not allowed": (
        lambda f: _break(f, "campaign", [1], ""),
        r"column 'campaign'.*nullable",
    ),
    "all-null column": (lambda f: f.assign(euribor3m=""), r"\['euribor3m'\] hold no value"),
    "bad target value": (lambda f: _break(f, "y", [0], "perhaps"), r"column 'y'.*'perhaps'"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_clearly_and_keeps_previous_outputs(workspace, sample_slice, case) -> None:
    workspace()
    run_prepare()
    before = {path: Path(path).read_bytes() for path in OUTPUTS}
    breaker, message = BAD_INPUTS[case]
    workspace(breaker(sample_slice))
    with pytest.raises(errors.PipelineError, match=message):
        run_prepare()
    assert {path: Path(path).read_bytes() for path in OUTPUTS} == before
    leftovers = [p.name for d in ("data/prepared", "reports") for p in Path(d).iterdir()]
    assert not [name for name in leftovers if ".tmp" in name]


def test_missing_file_is_named(workspace) -> None:
    workspace(edit=lambda p: p["data"].update(path="data/raw/nowhere.csv"))
    with pytest.raises(errors.PipelineError, match=r"data/raw/nowhere\.csv not found"):
        run_prepare()


def test_empty_file_is_explained(workspace) -> None:
    root = workspace()
    (root / "data/raw/sample.csv").write_bytes(b"")
    with pytest.raises(errors.PipelineError, match="is empty"):
        run_prepare()


def test_header_only_file_is_explained(workspace, sample_slice) -> None:
    workspace(sample_slice.head(0))
    with pytest.raises(errors.PipelineError, match="has no rows"):
        run_prepare()


def test_too_few_rows_after_cleaning(workspace, sample_slice) -> None:
    workspace(sample_slice.head(50))
    with pytest.raises(errors.PipelineError, match=r"only 50 rows.*min_rows"):
        run_prepare()


def test_command_line_exits_non_zero_with_one_paragraph(workspace, sample_slice, capsys) -> None:
    workspace(sample_slice.drop(columns=["y"]))
    assert prepare.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error in prepare: ")
    assert "Traceback" not in err


def test_reads_parquet_input(workspace, sample_slice) -> None:
    root = workspace(edit=lambda p: p["data"].update(path="data/raw/sample.parquet"))
    typed = sample_slice.copy()
    for column in ("age", "campaign", "pdays", "previous", "duration"):
        typed[column] = typed[column].astype(int)
    typed.to_parquet(root / "data/raw/sample.parquet", index=False)
    assert run_prepare()["rows_out"] == len(sample_slice)


def test_missing_value_policies_drop_and_fill(workspace, sample_slice) -> None:
    frame = sample_slice.copy()
    frame.loc[[0, 1], "euribor3m"] = ""
    frame.loc[[2, 3, 4], "emp.var.rate"] = ""

    def policies(params: dict) -> None:
        columns = params["data"]["columns"]
        columns["euribor3m"]["on_missing"] = "drop_row"
        columns["emp.var.rate"].update(on_missing="fill", fill_value=0.0)

    workspace(frame, edit=policies)
    report = run_prepare()
    assert report["rows_dropped_missing"] == 2
    assert report["values_filled"] == {"emp.var.rate": 3}
    assert report["rows_out"] == len(sample_slice) - 2
    assert report["nulls"]["emp.var.rate"] == 0


def test_prepare_starts_without_xgboost() -> None:
    code = (
        f"import sys\nimport {PACKAGE}.stages.prepare\n"
        "sys.exit(1 if 'xgboost' in sys.modules else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"xgboost loaded by the prepare stage: {done.stderr}"
