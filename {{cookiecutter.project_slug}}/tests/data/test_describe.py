"""Describing a data file by inference: each edge case of real tables, asserted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import module

describe = module("data.describe")
errors = module("errors")

ROWS = 200


def table(**columns: object) -> pd.DataFrame:
    """A frame of ROWS rows: a 0/1 target with 30% ones, a numeric feature, and `columns`."""
    rng = np.random.default_rng(0)
    base = {
        "target": (np.arange(ROWS) % 10 < 3).astype(int),
        "amount": rng.normal(50, 10, ROWS).round(2),
    }
    return pd.DataFrame({**base, **columns})


def run(tmp_path: Path, frame: pd.DataFrame, name: str = "t.csv", sep: str = ",", **options):
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, sep=sep, index=False)
    return describe.describe(path, options.pop("target", "target"), **options)


def column(description, name: str):
    return next(c for c in description.columns if c.name == name)


@pytest.fixture(params=[True, False], ids=["fast", "plain"])
def reader(request, monkeypatch) -> bool:
    """Every case runs with the fast reader and with plain pandas: same answers."""
    original = describe.describe
    monkeypatch.setattr(describe, "describe", lambda *a, **k: original(*a, **k, fast=request.param))
    return request.param


def test_integer_zero_one_target_is_binary_with_the_minority_positive(tmp_path, reader) -> None:
    found = run(tmp_path, table())
    assert (found.task, found.classes, found.positive_class) == ("binary", [0, 1], 1)
    assert column(found, "target").spec["role"] == "target"


def test_yes_no_target_keeps_the_data_spelling(tmp_path, reader) -> None:
    frame = table()
    frame["target"] = np.where(frame["target"] == 1, "Yes", "No")
    found = run(tmp_path, frame)
    assert found.classes == ["No", "Yes"]
    assert found.positive_class == "Yes"


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_boolean_target(tmp_path, reader, name) -> None:
    frame = table()
    frame["target"] = frame["target"] == 0  # True is the majority: False is positive
    found = run(tmp_path, frame, name)
    assert [str(c).lower() for c in found.classes] == ["true", "false"]


def test_a_given_positive_class_wins(tmp_path, reader) -> None:
    found = run(tmp_path, table(), positive_class="0")
    assert (found.classes, found.positive_class) == ([1, 0], 0)


def test_id_columns_declared_or_named_and_unique(tmp_path, reader) -> None:
    codes = [f"C{i:05d}" for i in range(ROWS)]
    found = run(tmp_path, table(customerID=codes, ref=range(ROWS)), ids=("ref",))
    assert column(found, "customerID").spec["role"] == "id"
    # no value is missing: nullable false (the comment says so too)
    assert column(found, "ref").spec == {"dtype": "string", "role": "id", "nullable": False}


def test_blank_strings_in_a_numeric_column_are_missing_values(tmp_path, reader) -> None:
    charges = [" " if i % 50 == 0 else f"{i * 1.5:.1f}" for i in range(ROWS)]
    found = run(tmp_path, table(charges=charges))
    spec = column(found, "charges").spec
    assert spec["dtype"] == "float"
    assert spec["missing_values"] == [" "]
    assert "4 missing" in column(found, "charges").why


def test_markers_like_question_marks_are_found(tmp_path, reader) -> None:
    found = run(
        tmp_path, table(age=["?" if i % 40 == 0 else str(20 + i * 7 % 53) for i in range(ROWS)])
    )
    assert column(found, "age").spec == {
        "dtype": "int", "nullable": True, "missing_values": ["?"], "min": 0,
    }  # fmt: skip


def test_thousands_separators_and_quotes(tmp_path, reader) -> None:
    frame = table(income=[f"{1000 + i * 997:,}" for i in range(ROWS)])
    found = run(tmp_path, frame)  # pandas quotes "1,997": the separator is a comma
    assert column(found, "income").spec["dtype"] == "int"
    assert found.thousands == ","


def test_a_datetime_column_orders_the_time_split(tmp_path, reader) -> None:
    days = pd.date_range("2024-01-01", periods=ROWS, freq="D").strftime("%Y-%m-%d")
    found = run(tmp_path, table(day=days))
    assert column(found, "day").spec["dtype"] == "datetime"
    assert column(found, "day").spec["role"] == "timestamp"


def test_high_cardinality_text_is_dropped_with_a_reason(tmp_path, reader) -> None:
    notes = [f"called on day {i} about offer {i % 7}" for i in range(ROWS)]
    found = run(tmp_path, table(notes=notes))
    assert column(found, "notes").spec["role"] == "drop"
    assert "free text" in column(found, "notes").why


def test_low_cardinality_text_is_a_category_spelled_as_in_the_data(tmp_path, reader) -> None:
    found = run(tmp_path, table(plan=["Basic", "Premium", "basic "][:3] * 66 + ["Gold", "Gold"]))
    assert column(found, "plan").spec["categories"] == ["Basic", "Gold", "Premium"]


def test_odd_column_names_survive(tmp_path, reader) -> None:
    found = run(
        tmp_path,
        table(
            **{
                "monthly charge": 1.0 + np.arange(ROWS),
                "emp.rate": 2.0 + np.arange(ROWS),
                "Größe": np.arange(ROWS),
            }
        ),
    )
    assert {"monthly charge", "emp.rate", "Größe"} <= {c.name for c in found.columns}


@pytest.mark.parametrize("sep", [";", "\t"])
def test_separators_are_sniffed(tmp_path, reader, sep) -> None:
    found = run(tmp_path, table(), sep=sep)
    assert found.separator == sep
    assert column(found, "amount").spec["dtype"] == "float"


def test_parquet_types_are_taken_as_declared(tmp_path, reader) -> None:
    found = run(tmp_path, table(count=np.arange(ROWS) % 9), "t.parquet")
    assert column(found, "count").spec["dtype"] == "int"
    assert column(found, "amount").spec["dtype"] == "float"


def test_constant_and_empty_columns_are_dropped(tmp_path, reader) -> None:
    found = run(tmp_path, table(same=["x"] * ROWS, nothing=[""] * ROWS, zero=[0] * ROWS))
    for name in ("same", "nothing", "zero"):
        assert column(found, name).spec["role"] == "drop", name
    assert "every value is missing" in column(found, "nothing").why


def test_a_target_with_a_missing_value_is_refused(tmp_path, reader) -> None:
    frame = table().astype({"target": object})
    frame.loc[7, "target"] = ""
    with pytest.raises(errors.PipelineError, match=r"'target' \(the target\) has 1 missing"):
        run(tmp_path, frame)


@pytest.mark.parametrize(
    ("edit", "options", "message"),
    [
        (lambda f: f.assign(target=1), {}, "one value only"),
        (lambda f: f.head(0), {}, "no rows"),
        (
            lambda f: f.assign(target=np.where(f.target == 1, "a", "b")),
            {"task": "regression"},
            "not numeric",
        ),
        (lambda f: f, {"target": "nope"}, "--target 'nope' is not a column"),
        (lambda f: f.assign(target=np.arange(len(f)) % 3), {"task": "binary"}, "not 2"),
    ],
)
def test_unusable_targets_are_refused(tmp_path, reader, edit, options, message) -> None:
    with pytest.raises(errors.PipelineError, match=message):
        run(tmp_path, edit(table()), **options)


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_a_large_file_reports_its_counting_per_column(
    tmp_path, reader, name, monkeypatch, caplog
) -> None:
    caplog.set_level("INFO")
    monkeypatch.setattr(describe, "PROGRESS_ROWS", ROWS)  # this file counts as large
    run(tmp_path, table(colour=["red", "blue"] * (ROWS // 2)), name)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("data init")]
    assert lines[0] == "data init: read 200 rows; counting the values of 3 columns"
    assert lines[1].startswith("data init: 1/3 columns counted (33%); ")
    assert lines[-1].startswith("data init: 3/3 columns counted (100%); ")


def test_a_small_file_counts_quietly(tmp_path, caplog) -> None:
    caplog.set_level("INFO")
    run(tmp_path, table())
    assert not [r for r in caplog.records if r.getMessage().startswith("data init")]
