"""Stage prepare: validation errors name the problem, outputs are atomic, splits are right."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import records
from helpers import PACKAGE, ROOT, module

config = module("settings.params")
dates = module("data.dates")
errors = module("errors")
paths = module("artifacts.paths")
prepare = module("stages.prepare")

OUTPUTS = (paths.TRAIN_DATA, paths.TEST_DATA, paths.DATA_REPORT)
Case = tuple[pd.DataFrame, Callable[[dict[str, Any]], None] | None, str]


def run_prepare() -> dict:
    return prepare.prepare(config.load_params())


def stratified(params: dict[str, Any]) -> None:
    """The random split, whichever split the project is configured for."""
    params["split"]["method"] = "stratified"


def test_writes_splits_and_report(workspace, sample_slice: pd.DataFrame) -> None:
    workspace(edit=stratified)  # each side keeps the sample's class shares
    report = run_prepare()
    train, test = pd.read_parquet(paths.TRAIN_DATA), pd.read_parquet(paths.TEST_DATA)
    assert len(train) + len(test) == len(sample_slice) == report["rows_out"]
    # Features in the declared order, then the target, then hashed personal-data columns (never
    # model inputs): ids, timestamps, dropped columns out. Fairness groups that are not features
    # stay in the test split only (evaluation groups by them).
    params = config.load_params()
    hashed = params.data.hashed_columns
    kept = [*records.features(), records.target(), *hashed]
    groups = [g.column for g in params.evaluate.fairness.groups]
    carried = [c for c in dict.fromkeys(groups) if c not in kept]
    assert list(train.columns) == kept
    assert list(test.columns) == [*kept, *carried]
    assert report["test_rows"] == round(len(sample_slice) * 0.2)
    task = params.data.task
    shares = {"binary": "positive_share", "multiclass": "class_shares"}.get(task, "target_mean")
    assert set(report[shares]) == {"all", "train", "test"}
    if task == "binary":  # stratified: each side keeps the positive share
        expected_share = records.is_positive(sample_slice[records.target()]).mean()
        assert report[shares]["test"] == pytest.approx(expected_share, abs=1 / len(test))
        assert report[shares]["train"] == pytest.approx(expected_share, abs=1 / len(train))
    for name in records.category_features():
        assert isinstance(train[name].dtype, pd.CategoricalDtype), name
    for name in records.numeric_features():
        assert pd.api.types.is_numeric_dtype(train[name].dtype), name


def test_drop_columns_are_left_out(workspace) -> None:
    dropped = records.features()[0]
    workspace(edit=lambda p: p["data"].setdefault("drop_columns", []).append(dropped))
    run_prepare()
    assert dropped not in pd.read_parquet(paths.TRAIN_DATA).columns


def test_counts_and_drops_exact_duplicates(workspace, sample_slice: pd.DataFrame) -> None:
    with_duplicates = pd.concat([sample_slice, sample_slice.iloc[[0, 5, 9]]], ignore_index=True)
    workspace(with_duplicates)
    report = run_prepare()
    assert report["rows_in"] == len(sample_slice) + 3
    assert report["duplicates_dropped"] == 3
    assert report["rows_out"] == len(sample_slice)


def test_normalises_category_spelling(workspace, sample_slice) -> None:
    name = records.category_feature()
    frame = sample_slice.copy()
    level = records.data_config().columns[name].categories[0]
    respelled = f"  {level.upper()} "
    frame.loc[0, name] = respelled
    workspace(frame)
    run_prepare()
    both = pd.concat([pd.read_parquet(paths.TRAIN_DATA), pd.read_parquet(paths.TEST_DATA)])
    assert respelled not in set(both[name].astype(str))
    assert level in set(both[name].astype(str))


def test_missing_value_markers_become_missing(workspace, sample_slice) -> None:
    """A declared marker (here one added to a numeric feature) is read as a missing value."""
    name = records.numeric_features()[0] if records.numeric_features() else None
    if name is None:
        pytest.skip(f"{records.described()} has no numeric feature column")
    frame = sample_slice.copy()
    marker = 987654321
    frame.loc[[1, 4, 7], name] = str(marker)
    before = frame[name].isin(["", *map(str, records.data_config().columns[name].missing_values)])

    def declare(params: dict) -> None:
        column = params["data"]["columns"][name]
        column.setdefault("missing_values", []).append(marker)
        column.update(nullable=True, on_missing="keep")
        column.pop("max", None)

    workspace(frame, edit=declare)
    run_prepare()
    both = pd.concat([pd.read_parquet(paths.TRAIN_DATA), pd.read_parquet(paths.TEST_DATA)])
    assert marker not in set(both[name])
    assert both[name].isna().sum() == int(before.sum()) + 3


@pytest.mark.sample
def test_the_samples_999_means_never_contacted(workspace, sample_slice) -> None:
    workspace()
    run_prepare()
    both = pd.concat([pd.read_parquet(paths.TRAIN_DATA), pd.read_parquet(paths.TEST_DATA)])
    assert both["pdays"].isna().sum() == (sample_slice["pdays"] == "999").sum()


def test_time_split_keeps_the_last_rows_for_testing(workspace, sample_slice) -> None:
    workspace(edit=lambda p: p["split"].update(method="time"))
    run_prepare()
    test = pd.read_parquet(paths.TEST_DATA)
    ordered = sample_slice
    for name in records.data_config().timestamp_columns:  # prepare orders rows by its time
        times = dates.parse(ordered[name], records.data_config().columns[name].format)
        ordered = ordered.assign(_t=times).sort_values("_t", kind="stable")
    tail = ordered[records.target()].tail(len(test))
    expected = [config.normalise_category(value) for value in tail]
    assert test[records.target()].astype(str).tolist() == expected


def test_split_depends_on_the_seed_only(workspace) -> None:
    workspace(edit=stratified)  # the time split has no seed
    run_prepare()
    first = pd.read_parquet(paths.TEST_DATA)
    run_prepare()
    pd.testing.assert_frame_equal(first, pd.read_parquet(paths.TEST_DATA))
    workspace(edit=lambda p: (stratified(p), p.update(seed=7)))
    run_prepare()
    assert not first.equals(pd.read_parquet(paths.TEST_DATA))


def _break(frame: pd.DataFrame, column: str, rows: list[int], value: object) -> pd.DataFrame:
    broken = frame.copy()
    broken[column] = broken[column].astype(object)
    broken.loc[rows, column] = value
    return broken


def _missing_target(frame: pd.DataFrame) -> Case:
    name = records.target()
    return frame.drop(columns=[name]), None, rf"target column '{re.escape(name)}'.*missing"


def _missing_column(frame: pd.DataFrame) -> Case:
    name = records.features()[-1]
    return frame.drop(columns=[name]), None, rf"missing declared column.*{re.escape(name)}"


def _extra_column(frame: pd.DataFrame) -> Case:
    return frame.assign(surprise=1), None, r"'surprise'.*does not declare"


def _wrong_type(frame: pd.DataFrame) -> Case:
    name = records.numeric_feature()
    broken = _break(frame, name, [3, 4], "old")
    return broken, None, rf"column '{re.escape(name)}'.*type.*'old' \(row 4\)"


def _unknown_category(frame: pd.DataFrame) -> Case:
    name = records.category_feature()
    message = rf"column '{re.escape(name)}'.*1 of \d+ rows.*categories.*'astronaut' \(row 3\)"
    return _break(frame, name, [2], "astronaut"), None, message


def _out_of_range(frame: pd.DataFrame) -> Case:
    """Above the column's `max` (the largest value in the rows when none is declared)."""
    name = records.numeric_feature()
    declared = records.data_config().columns[name].max
    present = pd.to_numeric(frame[name], errors="coerce").max()
    limit = declared if declared is not None else float(present)
    whole = records.data_config().columns[name].dtype == "int"
    value = int(limit) + 1000 if whole else limit * 2 + 1000

    def edit(params: dict) -> None:
        params["data"]["columns"][name]["max"] = limit

    message = rf"column '{re.escape(name)}'.*<= {re.escape(str(limit))}.*{re.escape(str(value))}"
    return _break(frame, name, [0], str(value)), edit, message


def _null_where_not_allowed(frame: pd.DataFrame) -> Case:
    """A blank in a column declared `nullable: false` (declared so here when none is)."""
    complete = [n for n in records.features() if (frame[n].str.strip() != "").all()]
    name = complete[0]

    def edit(params: dict) -> None:
        params["data"]["columns"][name]["nullable"] = False

    return _break(frame, name, [1], ""), edit, rf"column '{re.escape(name)}'.*nullable"


def _all_null_column(frame: pd.DataFrame) -> Case:
    name = records.features()[-1]
    return frame.assign(**{name: ""}), None, rf"\['{re.escape(name)}'\] hold no value"


def _bad_target_value(frame: pd.DataFrame) -> Case:
    name = records.target()
    return _break(frame, name, [0], "perhaps"), None, rf"column '{re.escape(name)}'.*'perhaps'"


# name: the broken input, an edit of the params (or None) and the expected message
BAD_INPUTS: dict[str, Callable[[pd.DataFrame], Case]] = {
    "missing target": _missing_target,
    "missing column": _missing_column,
    "extra column": _extra_column,
    "wrong type": _wrong_type,
    "unknown category": _unknown_category,
    "out of range": _out_of_range,
    "null where not allowed": _null_where_not_allowed,
    "all-null column": _all_null_column,
    "bad target value": _bad_target_value,
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_clearly_and_keeps_previous_outputs(workspace, sample_slice, case) -> None:
    broken, edit, message = BAD_INPUTS[case](sample_slice)
    workspace(edit=edit)
    run_prepare()
    before = {path: Path(path).read_bytes() for path in OUTPUTS}
    workspace(broken, edit)
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
    workspace(sample_slice.drop(columns=[records.target()]))
    assert prepare.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error in prepare: ")
    assert "Traceback" not in err


def test_reads_parquet_input(workspace, sample_slice) -> None:
    root = workspace(edit=lambda p: p["data"].update(path="data/raw/sample.parquet"))
    typed = sample_slice.copy()
    for name, column in records.data_config().columns.items():
        if column.dtype == "int" and (typed[name].str.strip() != "").all():
            typed[name] = typed[name].astype(int)  # as Parquet stores whole numbers
    typed.to_parquet(root / "data/raw/sample.parquet", index=False)
    assert run_prepare()["rows_out"] == len(sample_slice)


def test_missing_value_policies_drop_and_fill(workspace, sample_slice) -> None:
    complete = [n for n in records.numeric_features() if (sample_slice[n].str.strip() != "").all()]
    if len(complete) < 2:
        pytest.skip(f"{records.described()} has fewer than 2 numeric features without blanks")
    dropped, filled = complete[:2]
    frame = sample_slice.copy()
    frame.loc[[0, 1], dropped] = ""
    frame.loc[[2, 3, 4], filled] = ""

    def policies(params: dict) -> None:
        columns = params["data"]["columns"]
        columns[dropped].update(on_missing="drop_row", nullable=True)
        columns[filled].update(on_missing="fill", fill_value=0, nullable=True)
        columns[filled].pop("min", None)

    workspace(frame, edit=policies)
    report = run_prepare()
    assert report["rows_dropped_missing"] == 2
    assert report["values_filled"] == {filled: 3}
    assert report["rows_out"] == len(sample_slice) - 2
    assert report["nulls"][filled] == 0


@pytest.mark.integration  # starts a fresh interpreter
def test_prepare_starts_without_xgboost() -> None:
    code = (
        f"import sys\nimport {PACKAGE}.stages.prepare\n"
        "sys.exit(1 if 'xgboost' in sys.modules else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"xgboost loaded by the prepare stage: {done.stderr}"
