"""A table nobody here wrote, all at once: `, ` separators, a row number, capitalised classes
with spaces, two-digit-year and month-name dates, an outcome time, and leaks of two kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from helpers import module

describe = module("data.describe")
init = module("data.init")
config = module("settings.params")
validation = module("data.validation")

ROWS = 600


def visits(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    day = pd.Timestamp("2011-01-01") + pd.to_timedelta(np.arange(ROWS) * 6, unit="h")
    known = day + pd.to_timedelta(rng.integers(1, 30, ROWS), unit="D")
    spend, refunds = rng.gamma(2, 30, ROWS).round(2), rng.gamma(2, 20, ROWS).round(2)
    total = spend + 2 * refunds
    grade = np.select([total < 80, total < 150], ["Class A", "class b"], "HIGH ")
    frame = pd.DataFrame(
        {
            "instant": np.arange(1, ROWS + 1),
            "visit time": day.strftime("%d/%m/%y %H:%M"),
            "graded on": known.strftime("%d %B %Y"),
            "plan": rng.choice(["Basic", "Gold"], ROWS),
            "spend": spend,
            "refunds": refunds,
            "age": rng.integers(18, 90, ROWS),
            "grade": grade,
        }
    )
    path = tmp_path / "visits.csv"
    path.write_text(frame.to_csv(index=False).replace(",", ", "))
    return path


def test_the_inferred_yaml_and_the_prepared_values_are_right(tmp_path: Path) -> None:
    path = visits(tmp_path)
    found = describe.describe(path, "grade ", outcome_time="graded on")
    text = init.render(found, "visits", "data/raw/visits.csv")
    data = config.DataConfig.model_validate(yaml.safe_load(text))
    roles = {name: column.role for name, column in data.columns.items()}
    assert list(roles) == [
        "instant", "visit time", "graded on", "plan", "spend", "refunds", "age", "grade",
    ]  # fmt: skip
    assert roles["instant"] == "id"  # a row number
    assert (roles["visit time"], data.columns["visit time"].format) == (
        "timestamp", "%d/%m/%y %H:%M",
    )  # fmt: skip
    assert (roles["graded on"], data.columns["graded on"].format) == ("outcome_time", "%d %B %Y")
    assert (roles["spend"], roles["refunds"]) == ("drop", "drop")  # the class is a band of a sum
    assert (roles["plan"], roles["age"]) == ("feature", "feature")
    assert data.task == "multiclass"
    assert data.class_labels == ("Class A", "class b", "HIGH")
    assert "leak? the class is (nearly) set by thresholds on a weighted sum" in text
    raw = module("data.raw").read_table(path, data)  # prepare's reader and validation
    prepared = validation.validate(raw, data)
    assert prepared["visit time"].iloc[-1] == pd.Timestamp("2011-05-30 18:00")
    assert prepared["visit time"].is_monotonic_increasing
    assert set(prepared["grade"].astype(str)) == {"class a", "class b", "high"}
