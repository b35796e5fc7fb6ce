"""Multiclass prediction drift compares (and Evidently's report shows) classes as written."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers import module

drift = module("drift.check")
features = module("model.features")


def test_predicted_classes_are_spelled_as_the_data_config_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = features.FeatureSpec(
        (features.Feature("x", "numeric"),), "grade", ("class a", "class b", "high"), None,
        "multiclass", ("Class A", "class b", "HIGH"),
    )  # fmt: skip
    chances = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    monkeypatch.setattr(drift, "predictions", lambda model, frame: chances)
    found = drift.model_outputs(SimpleNamespace(spec=spec), pd.DataFrame({"x": [1, 2, 3]}))
    assert found.tolist() == ["Class A", "class b", "HIGH"]
