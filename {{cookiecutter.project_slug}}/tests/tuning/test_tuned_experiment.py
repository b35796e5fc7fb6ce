"""`dvc exp run -S experiment=tuned` applies the tuned experiment that `make tune` writes.

Real DVC with its Hydra composition, on a copy of the shared pipeline run (`pipeline_repo`):
conf/ is the project's own, with a `conf/local/default.yaml` holding what the shared run's
params change (the slice, fewer folds and resamples), so only `train` runs again. (The local
file composes last and would win: it leaves the tuned keys to the experiment.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from conftest import dvc
from helpers import ROOT, committed_params, module

# Few trees: a quick train.
TUNED = {"max_depth": 2, "learning_rate": 0.3, "min_child_weight": 3.0, "n_estimators": 20}


def changed_leaves(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """The keys whose values differ in `new` from `old`, nested as in `new`."""
    found: dict[str, Any] = {}
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(old.get(key), dict):
            inner = changed_leaves(value, old[key])
            if inner:
                found[key] = inner
        elif old.get(key, object()) != value:
            found[key] = value
    return found


def test_dvc_exp_run_applies_the_tuned_experiment(pipeline_repo: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(pipeline_repo, repo, symlinks=True)
    shutil.copytree(ROOT / "conf", repo / "conf")
    shared = yaml.safe_load((repo / "params.yaml").read_text())
    assert shared["model"]["max_depth"] != TUNED["max_depth"]
    overrides = changed_leaves(shared, committed_params())
    for key in TUNED:
        overrides.get("model", {}).pop(key, None)
    local = repo / "conf" / "local" / "default.yaml"
    local.parent.mkdir(exist_ok=True)
    local.write_text("# @package _global_\n" + yaml.safe_dump(overrides))
    with (repo / ".dvc" / "config").open("a") as config:
        config.write("[hydra]\n    enabled = true\n")
    tuned = repo / module("tuning.study").TUNED_EXPERIMENT
    tuned.write_text(  # as `make tune` writes it (tuning/study.py write_outputs)
        "# @package _global_\n# Written by `make tune`\n" + yaml.safe_dump({"model": TUNED})
    )

    out = dvc(repo, "exp", "run", "-S", "experiment=tuned", "train").stdout

    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert {k: params["model"][k] for k in TUNED} == TUNED
    # Everything else composes to the shared run's params: prepare is not run again.
    assert changed_leaves(params, shared) == {"model": TUNED}
    assert "Stage 'prepare' didn't change" in out
    assert "Running stage 'train'" in out
    metadata = json.loads((repo / "models" / "metadata.json").read_text())
    assert {k: metadata["params"]["model"][k] for k in TUNED} == TUNED
