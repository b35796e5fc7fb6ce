"""Progress of external-memory and Dask training: a line per round, and the model unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from helpers import module

round_progress = module("scaling.round_progress")


def data() -> xgb.DMatrix:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 3))
    return xgb.DMatrix(features, (features[:, 0] + rng.normal(size=200) > 0).astype(int))


def trained(callbacks: list, **options: object) -> bytes:
    config = {"objective": "binary:logistic", "max_depth": 2, "nthread": 1}
    booster = xgb.train(config, data(), num_boost_round=6, callbacks=callbacks, **options)
    return bytes(booster.save_raw("ubj"))


def test_each_round_is_reported_and_the_model_is_the_same(capfd: pytest.CaptureFixture) -> None:
    plain = trained([])
    reported = trained([round_progress.RoundProgress("train (external memory)", 6, 0.0)])
    lines = capfd.readouterr().err.splitlines()
    assert reported == plain
    assert [line.split(";")[0] for line in lines] == [
        f"train (external memory): {n}/6 rounds ({n / 6:.0%})" for n in range(1, 7)
    ]


def test_early_stopping_says_so(capfd: pytest.CaptureFixture) -> None:
    matrix = data()
    callback = round_progress.RoundProgress("train (dask)", 6, 100.0)
    trained(
        [callback, xgb.callback.EarlyStopping(rounds=1, metric_name="logloss")],
        evals=[(xgb.DMatrix(np.zeros((5, 3)), np.ones(5)), "validation")],
        verbose_eval=False,
    )
    del matrix
    lines = capfd.readouterr().err.splitlines()
    assert lines[0].startswith("train (dask): 1/6 rounds (17%)")
    assert lines[-1].endswith("; stopped early")
    assert len(lines) == 2
