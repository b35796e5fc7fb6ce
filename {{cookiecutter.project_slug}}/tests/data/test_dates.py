"""Dates as users write them: each style found, ambiguity settled, read back by its format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import module

dates = module("data.dates")
describe = module("data.describe")
errors = module("errors")
config = module("settings.params")
validation = module("data.validation")

DAYS = pd.date_range("2011-01-01", "2012-12-31", freq="D")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("%Y-%m-%d", "ISO8601"),
        ("%Y-%m-%dT%H:%M:%S", "ISO8601"),
        ("%Y/%m/%d", "%Y/%m/%d"),
        ("%d-%m-%Y", "%d-%m-%Y"),
        ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M"),
        ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S"),
        ("%m/%d/%Y", "%m/%d/%Y"),
        ("%m-%d-%Y %H:%M", "%m-%d-%Y %H:%M"),
        ("%d/%m/%y", "%d/%m/%y"),
        ("%m.%d.%y %H:%M", "%m.%d.%y %H:%M"),
        ("%d-%b-%Y", "%d-%b-%Y"),
        ("%d-%b-%y %H:%M", "%d-%b-%y %H:%M"),
        ("%d %B %Y", "%d %B %Y"),
        ("%b %d %Y", "%b %d %Y"),
        ("%b %d, %Y %H:%M:%S", "%b %d, %Y %H:%M:%S"),
        ("%B %d, %Y", "%B %d, %Y"),
    ],
)
def test_each_style_is_found_and_reads_back_the_same_times(written: str, expected: str) -> None:
    times = DAYS + pd.Timedelta(hours=7, minutes=30)
    texts = times.strftime(written).tolist()
    found = dates.infer_format(texts)
    assert found is not None
    assert found.format == expected
    parsed = dates.parse(pd.Series(texts), found.format)
    assert parsed.notna().all()
    assert (parsed.dt.date == pd.Series(times.date)).all()


def test_ambiguous_days_are_month_first_unless_dayfirst() -> None:
    texts = ["01/02/2011", "03/04/2011", "12/11/2011"]  # every number is 12 or less
    guessed = dates.infer_format(texts)
    assert guessed.format == "%m/%d/%Y"
    assert "ambiguous" in guessed.how
    assert "--dayfirst" in guessed.how
    assert dates.infer_format(texts, dayfirst=True).format == "%d/%m/%Y"
    # one day above 12 settles it, whatever --dayfirst says
    assert dates.infer_format([*texts, "25/12/2011"], dayfirst=False).format == "%d/%m/%Y"
    assert dates.infer_format([*texts, "12/25/2011"], dayfirst=True).format == "%m/%d/%Y"


def test_two_digit_years_follow_pythons_pivot_and_say_so() -> None:
    texts = ["31/12/68", "01/01/69", "15/06/99", "29/02/00"]
    found = dates.infer_format(texts)
    assert found.format == "%d/%m/%y"
    assert "69-99 read as 1969-1999, 00-68 as 2000-2068" in found.how
    assert dates.parse(pd.Series(texts), found.format).tolist() == [
        pd.Timestamp(d) for d in ("2068-12-31", "1969-01-01", "1999-06-15", "2000-02-29")
    ]
    assert dates.infer_format(["01/02/11", "03/04/11"]).format == "%m/%d/%y"  # ambiguous
    assert dates.infer_format(["01/02/11", "03/04/11"], dayfirst=True).format == "%d/%m/%y"


def test_month_names_written_short_or_full_unpadded_or_not() -> None:
    assert dates.infer_format(["1 January 2011", "12 May 2011"]).format == "%d %B %Y"
    assert dates.infer_format(["1 Jan 2011", "12 MAY 2011"]).format == "%d %b %Y"
    assert dates.infer_format(["Jan 1 2011 7:05", "Dec 31 2012 23:59"]).format == ("%b %d %Y %H:%M")
    assert dates.infer_format(["Jan 1 2011", "June 2 2011"]) is None  # short and full mixed
    assert dates.infer_format(["Jan 1 2011", "Jan 1, 2011"]) is None  # two styles
    assert dates.infer_format(["Foo 1 2011", "Bar 2 2011"]) is None  # not months
    assert dates.infer_format(["30-Feb-2011"]) is None  # no such day


def test_text_that_is_not_one_date_style_is_not_a_date() -> None:
    assert dates.infer_format(["01/02/2011", "2011-02-03"]) is None  # two styles
    assert dates.infer_format(["13/14/2011"]) is None  # no month
    assert dates.infer_format(["555-123-4567", "555-987-6543"]) is None  # phone numbers
    assert dates.infer_format(["2011", "2012"]) is None
    assert dates.infer_format(["01/02/11", "01/02/2011"]) is None  # two year widths
    assert dates.infer_format(["1.0.3", "1.2.10"]) is None  # versions: no month 0
    assert dates.infer_format(["45/01/11"]) is None  # no day 45


def test_epoch_numbers_are_times_only_in_a_column_named_like_one() -> None:
    assert dates.epoch_format("created_at", 1.3e9, 1.4e9).format == "epoch_s"
    assert dates.epoch_format("event_timestamp", 1.3e12, 1.4e12).format == "epoch_ms"
    assert dates.epoch_format("income", 1.3e9, 1.4e9) is None
    assert dates.epoch_format("created_at", 1, 500) is None
    seconds = pd.Series([1_300_000_000, 1_300_086_400])
    assert dates.parse(seconds, "epoch_s").tolist() == [
        pd.Timestamp("2011-03-13 07:06:40"),
        pd.Timestamp("2011-03-14 07:06:40"),
    ]


def write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    return path


def bikes(rows: int = 120) -> pd.DataFrame:
    """A bike-rental-like table: a row number, a day-first date, a count target."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2011-01-01", periods=rows, freq="D")
    return pd.DataFrame(
        {
            "instant": np.arange(1, rows + 1),
            "dteday": days.strftime("%d-%m-%Y"),
            "temp": rng.uniform(0, 1, rows).round(3),
            "cnt": rng.poisson(1500, rows),
        }
    )


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_a_day_first_date_is_a_timestamp_with_its_format_and_a_row_number_an_id(
    tmp_path: Path, fast: bool
) -> None:
    found = describe.describe(write(tmp_path, bikes()), "cnt", fast=fast)
    columns = {c.name: c for c in found.columns}
    assert columns["dteday"].spec == {
        "dtype": "datetime", "role": "timestamp", "nullable": False, "format": "%d-%m-%Y",
    }  # fmt: skip
    assert "day first" in columns["dteday"].why
    assert columns["instant"].spec["role"] == "id"
    assert "consecutive" in columns["instant"].why
    assert "role" not in columns["temp"].spec  # a feature


def test_many_distinct_dates_are_read_through_the_fast_path(tmp_path: Path) -> None:
    frame = bikes(700)
    hours = pd.date_range("2011-01-01", periods=700, freq="h")
    frame["dteday"] = hours.strftime("%d/%m/%Y %H:%M")  # 700 distinct values: Arrow's path
    found = describe.describe(write(tmp_path, frame), "cnt", fast=True)
    (date,) = [c for c in found.columns if c.name == "dteday"]
    assert date.spec["format"] == "%d/%m/%Y %H:%M"


@pytest.mark.parametrize("written", ["%d/%m/%y", "%d-%b-%Y %H:%M", "%B %d, %Y"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_each_new_style_is_a_timestamp_in_the_yaml_on_both_paths(
    tmp_path: Path, written: str, fast: bool
) -> None:
    frame = bikes(700)  # 700 distinct values: Arrow's path when fast
    frame["dteday"] = pd.date_range("2011-01-01", periods=700, freq="D").strftime(written)
    found = describe.describe(write(tmp_path, frame), "cnt", fast=fast)
    (day,) = [c for c in found.columns if c.name == "dteday"]
    assert (day.spec["dtype"], day.spec["role"], day.spec["format"]) == (
        "datetime", "timestamp", written,
    )  # fmt: skip
    assert day.spec.get("pii") is None


def test_time_is_honoured_or_refused_with_how_to_declare_it(tmp_path: Path) -> None:
    frame = bikes()
    frame["other_day"] = frame["dteday"]
    path = write(tmp_path, frame)
    found = describe.describe(path, "cnt", time="other_day")
    roles = {c.name: c.spec.get("role") for c in found.columns}
    assert (roles["other_day"], roles["dteday"]) == ("timestamp", "drop")
    with pytest.raises(errors.PipelineError, match=r"--time 'temp': its values are not dates"):
        describe.describe(path, "cnt", time="temp")


def test_a_date_is_never_personal_data(tmp_path: Path) -> None:
    frame = bikes()
    frame["birth_date"] = frame["dteday"]
    found = describe.describe(write(tmp_path, frame), "cnt")
    (born,) = [c for c in found.columns if c.name == "birth_date"]
    assert born.spec["dtype"] == "datetime"
    assert born.spec.get("pii") is None


def data_config(**column: object) -> object:
    return config.DataConfig.model_validate(
        {
            "path": "t.csv",
            "task": "regression",
            "target": "cnt",
            "columns": {"day": column, "x": {"dtype": "float"}, "cnt": {"dtype": "int"}},
        }
    )


def test_a_timestamp_declared_as_text_is_refused_saying_how_to_declare_it() -> None:
    with pytest.raises(ValueError, match="declare it `dtype: datetime` with the `format`"):
        data_config(dtype="string", role="timestamp")


def test_prepare_names_the_column_row_value_and_format_that_fail() -> None:
    data = data_config(dtype="datetime", role="timestamp", format="%d-%m-%Y")
    raw = pd.DataFrame(
        {"day": ["31-01-2011", "01-02-2011", "2011-02-02"], "x": [1.0, 2.0, 3.0], "cnt": [1, 2, 3]}
    )
    with pytest.raises(errors.PipelineError) as failed:
        validation.validate(raw, data)
    message = str(failed.value)
    assert "column 'day'" in message
    assert "'2011-02-02' (row 3" in message
    assert "'%d-%m-%Y'" in message
    raw.loc[2, "day"] = "02-02-2011"
    times = validation.validate(raw, data)["day"]
    assert times.tolist() == list(pd.to_datetime(["2011-01-31", "2011-02-01", "2011-02-02"]))


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [("%d/%m/%y", "31/01/11", "31/01/2011"), ("%d-%b-%Y", "31-Jan-2011", "31-Janv-2011")],
)
def test_prepare_names_row_value_and_format_for_the_new_styles(
    fmt: str, good: str, bad: str
) -> None:
    data = data_config(dtype="datetime", role="timestamp", format=fmt)
    raw = pd.DataFrame({"day": [good, bad], "x": [1.0, 2.0], "cnt": [1, 2]})
    with pytest.raises(errors.PipelineError) as failed:
        validation.validate(raw, data)
    message = str(failed.value)
    assert f"column 'day': 1 of 2 values are not dates or times in the format {fmt!r}" in message
    assert f"{bad!r} (row 2" in message


def test_the_written_yaml_declares_the_format(tmp_path: Path) -> None:
    init = module("data.init")
    found = describe.describe(write(tmp_path, bikes()), "cnt")
    text = init.render(found, "bikes", "data/raw/t.csv")
    assert yaml.safe_load(text)["columns"]["dteday"]["format"] == "%d-%m-%Y"
