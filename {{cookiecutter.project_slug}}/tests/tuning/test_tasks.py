"""`tune` on a multiclass and a regression table: a short study scored by the task's proper
score (cross-validated mlogloss / rmse, minimised), and a tuned experiment that composes."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import ROOT, module

study = module("tuning.study")
compose = module("settings.compose")
params_module = module("settings.params")

ROWS = 240
CLASSES = ["low", "mid", "high"]
SPACE = {
    "metric": "auto",
    "trials": 3,
    "sampler": "random",
    "seed": 3,
    "pruning": False,  # every trial completes: three scores to compare
    "space": {
        "model.max_depth": {"type": "int", "low": 1, "high": 4},
        "model.learning_rate": {"type": "float", "low": 0.05, "high": 0.5, "log": True},
    },
}


def table(task: str) -> pd.DataFrame:
    """`x` decides the target (its third: the class; or 10 + 4x + noise); `noise` is noise."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, ROWS)
    if task == "multiclass":
        target = np.array(CLASSES)[np.floor(x).astype(int)]
    else:
        target = (10 + 4 * x + rng.normal(size=ROWS)).round(4)
    return pd.DataFrame(
        {"x": x.round(4), "noise": rng.normal(size=ROWS).round(4), "target": target}
    )


def data_config(task: str) -> Callable[[dict[str, Any]], None]:
    def edit(params: dict[str, Any]) -> None:
        target: dict[str, Any] = {"dtype": "float", "role": "target"}
        extra: dict[str, Any] = {}
        if task == "multiclass":
            target = {"dtype": "category", "role": "target", "categories": CLASSES}
            extra = {"classes": CLASSES}
        params["data"] = {
            "path": "data/raw/sample.csv",
            "task": task,
            "target": "target",
            **extra,
            "min_rows": 50,
            "columns": {"x": {"dtype": "float"}, "noise": {"dtype": "float"}, "target": target},
        }
        params["evaluate"]["fairness"]["groups"] = []  # the sample's groups name its columns
        params["model"]["n_estimators"] = 20

    return edit


@pytest.mark.parametrize(
    ("task", "metric", "chance"),
    [
        ("multiclass", "mlogloss", math.log(3)),  # three equally likely classes
        ("regression", "rmse", None),
    ],
)
def test_a_short_study_per_task_minimises_the_tasks_proper_score(
    workspace: Callable[..., Path], task: str, metric: str, chance: float | None
) -> None:
    frame = table(task)
    root = workspace(frame, data_config(task))
    shutil.copytree(ROOT / "conf", root / "conf")
    (root / "conf" / "tune" / "small.yaml").write_text(yaml.safe_dump(SPACE))
    module("stages.prepare").prepare(params_module.load_params(root / "params.yaml"))

    summary = study.tune(root / "params.yaml", "small", None, None, None, fresh=True)

    assert summary["metric"] == f"cv_{metric}_mean"
    assert summary["direction"] == "minimize"
    values = [t["value"] for t in summary["trials"] if t["state"] == "complete"]
    assert len(values) == SPACE["trials"]
    assert summary["best"]["value"] == min(values)  # minimised: the lowest is the best
    if chance is None:  # RMSE, in the target's units: below predicting the mean
        chance = float(np.std(frame["target"]))
    assert 0 < summary["best"]["value"] < chance
    written = json.loads((root / "reports" / "tune" / "summary.json").read_text())
    assert (written["metric"], written["direction"]) == (summary["metric"], "minimize")

    tuned = root / "conf" / "experiment" / "tuned.yaml"
    assert tuned.read_text().startswith("# @package _global_")
    composed = root / "composed.yaml"
    compose.compose(composed, ["experiment=tuned"], config_dir=root / "conf")
    model = yaml.safe_load(composed.read_text())["model"]
    assert {f"model.{k}": model[k] for k in ("max_depth", "learning_rate")} == (
        summary["best"]["params"]
    )
