"""A column that fairness groups by but the model must not use reaches evaluation only."""

from __future__ import annotations

import pandas as pd

from helpers import module

config = module("settings.params")
features = module("model.features")
paths = module("artifacts.paths")
prepare = module("stages.prepare")


def test_a_non_feature_group_column_is_kept_in_the_test_split_only(workspace) -> None:
    chosen: dict[str, str] = {}

    def edit(params: dict) -> None:
        data = params["data"]
        name = next(
            n for n, c in data["columns"].items()
            if c.get("role", "feature") == "feature" and n != data["target"]
        )  # fmt: skip
        data["columns"][name]["role"] = "drop"
        params["evaluate"]["fairness"] = {"groups": [{"column": name}]}
        chosen["name"] = name

    workspace(edit=edit)
    params = config.load_params()
    prepare.prepare(params)
    name = chosen["name"]
    train, test = pd.read_parquet(paths.TRAIN_DATA), pd.read_parquet(paths.TEST_DATA)
    assert name in test.columns
    assert name not in train.columns
    assert name not in features.FeatureSpec.from_data_config(params.data).names
