"""Fixtures: a small workspace (a slice of the bundled sample and fast params) to run stages in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from helpers import ROOT, committed_params

SAMPLE = ROOT / "data" / "raw" / "bank-additional-full.csv.gz"
SLICE_ROWS = 4000


@pytest.fixture(scope="session")
def sample_slice() -> pd.DataFrame:
    """Every 10th row of the bundled sample (keeps both classes and the time spread), as text."""
    frame = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False)
    return frame.iloc[::10].head(SLICE_ROWS).drop_duplicates().reset_index(drop=True)


def fast_params() -> dict[str, Any]:
    """The committed params, made quick: small data, few trees, 2 folds, 200 resamples."""
    params = committed_params()
    params["data"]["path"] = "data/raw/sample.csv"
    params["model"]["n_estimators"] = 60
    params["train"]["cv_folds"] = 2
    params["train"]["early_stopping_rounds"] = 10
    params["evaluate"]["bootstrap_resamples"] = 200
    return params


@pytest.fixture
def workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_slice: pd.DataFrame
) -> Callable[..., Path]:
    """A directory with `data/raw/sample.csv` and a `params.yaml`; the test runs inside it.

    Call it with a frame to write instead of the slice, and/or a function editing the params.
    """
    monkeypatch.chdir(tmp_path)

    def make(
        frame: pd.DataFrame | None = None,
        edit: Callable[[dict[str, Any]], None] | None = None,
    ) -> Path:
        params = fast_params()
        if edit:
            edit(params)
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        raw = tmp_path / "data" / "raw" / "sample.csv"
        raw.parent.mkdir(parents=True, exist_ok=True)
        (sample_slice if frame is None else frame).to_csv(raw, sep=";", index=False)
        return tmp_path

    return make
