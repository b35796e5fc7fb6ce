"""New batches: the same validation as training data, with errors that name the difference."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, committed_params, module

config = module("settings.params")
errors = module("errors")
monitor = module("drift.monitor")
incorporate = module("data.incorporate")
raw_data = module("data.raw")

BATCH = ROOT / "data" / "incoming" / "2010-09.csv.gz"


def params(**data: object):
    raw = committed_params()
    raw["data"].update(data)
    return config.parse_params(raw)


def batch_frame() -> pd.DataFrame:
    return pd.read_csv(BATCH, sep=";", dtype=str)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, sep=";", index=False)
    return path


def test_incoming_batches_are_in_time_order() -> None:
    found = monitor.incoming_batches(ROOT / "data" / "incoming")
    names = [p.name for p in found]
    assert names == sorted(names)
    assert names[-1] == "2010-09.csv.gz"


def test_a_labelled_batch_is_cleaned_like_training_data() -> None:
    frame, labelled = monitor.load_batch(BATCH, params().data)
    assert labelled
    assert "duration" not in frame.columns  # data.drop_columns applies
    assert isinstance(frame["job"].dtype, pd.CategoricalDtype)
    assert frame["pdays"].isna().mean() > 0.5  # 999 means "never contacted": missing


def test_a_batch_without_labels_is_accepted(tmp_path: Path) -> None:
    unlabelled = write(batch_frame().drop(columns=["y"]), tmp_path / "new.csv")
    frame, labelled = monitor.load_batch(unlabelled, params().data)
    assert not labelled
    assert "y" not in frame.columns
    assert len(frame) > 600


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.drop(columns=["euribor3m"]), r"missing feature column\(s\) \['euribor3m'\]"),
        (lambda f: f.assign(branch="lisbon"), r"column\(s\) \['branch'\] that data.columns"),
        (lambda f: f.assign(age="old"), r"column 'age': \d+ of \d+ rows fail the type check"),
        (lambda f: f.iloc[:0], r"has no rows"),
    ],
    ids=["missing column", "extra column", "wrong type", "zero rows"],
)
def test_a_bad_batch_is_refused_naming_the_difference(tmp_path, change, expected) -> None:
    bad = write(change(batch_frame()), tmp_path / "bad.csv")
    with pytest.raises(errors.PipelineError, match=expected) as caught:
        monitor.load_batch(bad, params().data)
    assert str(caught.value).startswith(f"batch {bad}: ")


def test_monitor_cli_refuses_a_bad_batch_before_any_work(tmp_path, capsys) -> None:
    bad = write(batch_frame().drop(columns=["age"]), tmp_path / "bad.csv")
    out = tmp_path / "monitor"
    status = monitor.main(
        [str(bad), "--output-dir", str(out), "--params", str(ROOT / "params.yaml")]
    )
    assert status == 1
    assert not out.exists()
    assert "error in monitor" in capsys.readouterr().err


def test_incorporate_appends_a_batch_once(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv.gz"
    shutil.copy(ROOT / "data" / "raw" / "bank-additional-full.csv.gz", raw)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    batch = incoming / BATCH.name
    shutil.copy(BATCH, batch)
    settings = params(path=str(raw))
    before = len(raw_data.read_table(raw, settings.data))
    assert incorporate.incorporate(settings, batch) == 635
    grown = raw_data.read_table(raw, settings.data)
    assert len(grown) == before + 635
    assert grown.tail(635).reset_index(drop=True).equals(raw_data.read_table(batch, settings.data))
    assert (incoming / "ADDED").read_text() == f"{BATCH.name}\n"
    size = raw.stat().st_size
    with pytest.raises(errors.PipelineError, match="already added"):
        incorporate.incorporate(settings, batch)
    assert raw.stat().st_size == size


def test_incorporate_refuses_a_different_format(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv.gz"
    shutil.copy(ROOT / "data" / "raw" / "bank-additional-full.csv.gz", raw)
    original = raw.read_bytes()
    batch = tmp_path / "2011-01.csv.gz"
    frame = batch_frame()
    batch.write_bytes(
        gzip.compress(frame[list(reversed(frame.columns))].to_csv(sep=";", index=False).encode())
    )
    with pytest.raises(errors.PipelineError, match="header"):
        incorporate.incorporate(params(path=str(raw)), batch)
    assert raw.read_bytes() == original
    assert not (tmp_path / "ADDED").exists()
