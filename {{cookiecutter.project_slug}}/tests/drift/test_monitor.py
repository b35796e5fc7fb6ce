"""New batches: the same validation as training data, with errors that name the difference."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import records
from helpers import ROOT, committed_params, module

config = module("settings.params")
errors = module("errors")
monitor = module("drift.monitor")
incorporate = module("data.incorporate")
raw_data = module("data.raw")

BATCH_ROWS = 300


def params(**data: object):
    raw = committed_params()
    raw["data"].update(data)
    return config.parse_params(raw)


def batch_frame() -> pd.DataFrame:
    """About BATCH_ROWS rows of the configured data, evenly spaced, as text."""
    table = records.data_table()
    return table.iloc[:: max(1, len(table) // BATCH_ROWS)].head(BATCH_ROWS).copy()


def write(frame: pd.DataFrame, path: Path) -> Path:
    return records.write_table(frame, path)


def test_incoming_batches_are_in_time_order(tmp_path: Path) -> None:
    for name in ("2010-09.csv.gz", "2009-06.csv", "2010-03.parquet", "README.md", "ADDED"):
        (tmp_path / name).write_text("")
    (tmp_path / "older").mkdir()
    (tmp_path / "older" / "2001-01.csv").write_text("")
    found = monitor.incoming_batches(tmp_path)
    assert [p.name for p in found] == ["2009-06.csv", "2010-03.parquet", "2010-09.csv.gz"]


@pytest.mark.sample
def test_the_bundled_batches_are_in_time_order() -> None:
    found = monitor.incoming_batches(ROOT / "data" / "incoming")
    names = [p.name for p in found]
    assert names == sorted(names)
    assert names[-1] == "2010-09.csv.gz"


def test_a_labelled_batch_is_cleaned_like_training_data(tmp_path: Path) -> None:
    batch = write(batch_frame(), tmp_path / "batch.csv")
    frame, labelled = monitor.load_batch(batch, params().data)
    assert labelled
    # data.drop_columns, ids and timestamps are left out, as in training
    assert list(frame.columns) == [*records.features(), records.target()]
    for name in records.category_features():
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name


@pytest.mark.sample
def test_a_bundled_batch_reads_999_as_missing() -> None:
    batch = ROOT / "data" / "incoming" / "2010-09.csv.gz"
    frame, _ = monitor.load_batch(batch, params().data)
    assert "duration" not in frame.columns  # data.drop_columns applies
    assert frame["pdays"].isna().mean() > 0.5  # 999 means "never contacted": missing


def test_a_batch_without_labels_is_accepted(tmp_path: Path) -> None:
    rows = batch_frame()
    unlabelled = write(rows.drop(columns=[records.target()]), tmp_path / "new.csv")
    frame, labelled = monitor.load_batch(unlabelled, params().data)
    assert not labelled
    assert records.target() not in frame.columns
    assert len(frame) == len(rows.drop(columns=[records.target()]).drop_duplicates())


def _wrong_type(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    name = records.numeric_feature()
    return frame.assign(**{name: "old"}), rf"column '{re.escape(name)}': \d+ of \d+ rows fail"


BAD_BATCHES = {
    "missing column": lambda f: (
        f.drop(columns=[name := records.features()[-1]]),
        rf"missing feature column\(s\) \['{re.escape(name)}'\]",
    ),
    "extra column": lambda f: (
        f.assign(branch="lisbon"),
        r"column\(s\) \['branch'\] that data.columns",
    ),
    "wrong type": _wrong_type,
    "zero rows": lambda f: (f.iloc[:0], r"has no rows"),
}


@pytest.mark.parametrize("case", list(BAD_BATCHES))
def test_a_bad_batch_is_refused_naming_the_difference(tmp_path, case) -> None:
    changed, expected = BAD_BATCHES[case](batch_frame())
    bad = write(changed, tmp_path / "bad.csv")
    with pytest.raises(errors.PipelineError, match=expected) as caught:
        monitor.load_batch(bad, params().data)
    assert str(caught.value).startswith(f"batch {bad}: ")


def test_monitor_cli_refuses_a_bad_batch_before_any_work(tmp_path, capsys) -> None:
    bad = write(batch_frame().drop(columns=[records.features()[0]]), tmp_path / "bad.csv")
    out = tmp_path / "monitor"
    status = monitor.main(
        [str(bad), "--output-dir", str(out), "--params", str(ROOT / "params.yaml")]
    )
    assert status == 1
    assert not out.exists()
    assert "error in monitor" in capsys.readouterr().err


def raw_copy(tmp_path: Path) -> Path:
    """A copy of the configured data file (CSV only: only CSV training files grow)."""
    source = records.data_path()
    if not source.name.lower().endswith((".csv", ".csv.gz")):
        pytest.skip(f"{records.described()} is not CSV: only CSV training files grow")
    raw = tmp_path / ("raw.csv.gz" if source.name.lower().endswith(".gz") else "raw.csv")
    shutil.copy(source, raw)
    return raw


def lines_of(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return handle.readlines()


def test_incorporate_appends_a_batch_once(tmp_path: Path) -> None:
    raw = raw_copy(tmp_path)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    # A batch in the raw file's own format: its header and some of its lines.
    header, *body = lines_of(raw)
    settings = params(path=str(raw))
    rows = settings.data.min_rows + 20  # a batch is checked like training data
    batch = incoming / "2030-01.csv"
    batch.write_text(header + "".join(body[:rows]), encoding="utf-8", newline="")
    before = len(raw_data.read_table(raw, settings.data))
    assert incorporate.incorporate(settings, batch) == rows
    grown = raw_data.read_table(raw, settings.data)
    assert len(grown) == before + rows
    pd.testing.assert_frame_equal(  # types are inferred per file: 5191 in one, 5191.0 in both
        grown.tail(rows).reset_index(drop=True),
        raw_data.read_table(batch, settings.data),
        check_dtype=False,
    )
    assert (incoming / "ADDED").read_text() == f"{batch.name}\n"
    size = raw.stat().st_size
    with pytest.raises(errors.PipelineError, match="already added"):
        incorporate.incorporate(settings, batch)
    assert raw.stat().st_size == size


def test_incorporate_refuses_a_different_format(tmp_path: Path) -> None:
    raw = raw_copy(tmp_path)
    original = raw.read_bytes()
    batch = tmp_path / "2031-01.csv.gz"
    frame = batch_frame()
    reordered = frame[list(reversed(frame.columns))]
    text = reordered.to_csv(sep=records.data_config().separator, index=False)
    batch.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(errors.PipelineError, match="header"):
        incorporate.incorporate(params(path=str(raw)), batch)
    assert raw.read_bytes() == original
    assert not (tmp_path / "ADDED").exists()
