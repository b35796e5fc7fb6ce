"""`tune`: a short study on the slice is reproducible, prunes, resumes only with the same
settings, and writes an experiment that composes into valid params."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import records
from helpers import ROOT, module

study = module("tuning.study")
space = module("tuning.space")
compose = module("settings.compose")
params_module = module("settings.params")
errors = module("errors")

SPACE = {
    "metric": "auto",
    "trials": 6,
    "sampler": "random",
    "seed": 7,
    "startup_trials": 2,
    "space": {
        "model.max_depth": {"type": "int", "low": 1, "high": 6},
        "model.learning_rate": {"type": "float", "low": 0.005, "high": 0.5, "log": True},
        "model.min_child_weight": {"type": "categorical", "choices": [0.5, 5.0]},
    },
}


def tuning_workspace(workspace: Callable[..., Path], settings: dict[str, Any]) -> Path:
    """The slice prepared (2 folds, 20 trees), conf/ copied, a search space `small`."""

    def edit(params: dict[str, Any]) -> None:
        params["model"]["n_estimators"] = 20

    root = workspace(edit=edit)
    shutil.copytree(ROOT / "conf", root / "conf")
    (root / "conf" / "tune" / "small.yaml").write_text(yaml.safe_dump(settings))
    module("stages.prepare").prepare(params_module.load_params(root / "params.yaml"))
    return root


def run_fresh(root: Path) -> dict[str, Any]:
    summary = study.tune(root / "params.yaml", "small", None, None, None, fresh=True)
    return {
        "best": summary["best"],
        "values": [(t["number"], t["state"], t["value"]) for t in summary["trials"]],
        "counts": summary["counts"],
    }


def test_a_study_is_reproducible_prunes_and_writes_a_composable_experiment(
    workspace: Callable[..., Path],
) -> None:
    root = tuning_workspace(workspace, SPACE)
    first = run_fresh(root)
    second = run_fresh(root)
    assert first == second  # same seed: the same trials, scores and best parameters
    assert first["counts"]["pruned"] >= 1
    assert first["counts"]["complete"] + first["counts"]["pruned"] == SPACE["trials"]

    tuned = root / "conf" / "experiment" / "tuned.yaml"
    assert tuned.read_text().startswith("# @package _global_")
    composed = root / "composed.yaml"
    compose.compose(composed, ["experiment=tuned"], config_dir=root / "conf")
    model = yaml.safe_load(composed.read_text())["model"]
    assert {f"model.{k}": model[k] for k in ("max_depth", "learning_rate", "min_child_weight")} == (
        first["best"]["params"]
    )

    report = root / "reports" / "tune"
    summary = json.loads((report / "summary.json").read_text())
    assert summary["best"]["value"] == first["best"]["value"]
    assert summary["metric"] == f"cv_{records.proper_score()}_mean"
    trials = json.loads((report / "trials.json").read_text())
    assert len(trials) == SPACE["trials"]
    markdown = (report / "summary.md").read_text()
    assert "```mermaid" in markdown
    assert "Optimisation history" in markdown


def test_resuming_needs_the_same_settings_and_runs_only_the_missing_trials(
    workspace: Callable[..., Path],
) -> None:
    settings = {**SPACE, "trials": 2, "pruning": False}
    root = tuning_workspace(workspace, settings)
    study.tune(root / "params.yaml", "small", 1, None, None, fresh=True)
    resumed = study.tune(root / "params.yaml", "small", 2, None, None, fresh=False)
    assert [t["number"] for t in resumed["trials"]] == [0, 1]

    changed = {**settings, "space": {"model.max_depth": {"type": "int", "low": 2, "high": 3}}}
    (root / "conf" / "tune" / "small.yaml").write_text(yaml.safe_dump(changed))
    with pytest.raises(errors.PipelineError, match="--fresh"):
        study.tune(root / "params.yaml", "small", 4, None, None, fresh=False)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"model.depth": {"type": "int", "low": 1, "high": 3}}, "no key 'model.depth'"),
        ({"model.max_depth": {"type": "int", "low": 3, "high": 1}}, "'low' < 'high'"),
        ({"seed": {"type": "int", "low": 1, "high": 3}}, "dotted params keys"),
        ({"model.subsample": {"type": "categorical"}}, "'choices'"),
    ],
)
def test_a_bad_search_space_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: dict[str, Any], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "tune").mkdir(parents=True)
    (tmp_path / "conf" / "tune" / "bad.yaml").write_text(yaml.safe_dump({"space": entry}))
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())

    def load_and_apply() -> None:
        config = space.load_tune_config("bad")
        space.apply_values(raw, {key: 1 for key in config.space})

    with pytest.raises(errors.PipelineError, match=message):
        load_and_apply()


def test_the_grid_sampler_needs_a_step_for_floats() -> None:
    parameter = space.Parameter(type="float", low=0.1, high=0.3)
    with pytest.raises(errors.PipelineError, match="'step'"):
        parameter.grid("model.subsample")
    assert space.Parameter(type="float", low=0.1, high=0.3, step=0.1).grid("x") == [0.1, 0.2, 0.3]
    assert space.Parameter(type="int", low=2, high=6, step=2).grid("x") == [2, 4, 6]


def test_parallel_trials_divide_the_cores() -> None:
    assert study.threads_per_trial(1, cores=8) == (1, 8)
    assert study.threads_per_trial(3, cores=8) == (3, 2)
    assert study.threads_per_trial(16, cores=4) == (4, 1)


def test_the_default_objective_is_the_tasks_proper_score() -> None:
    params = params_module.parse_params(yaml.safe_load((ROOT / "params.yaml").read_text()))
    config = space.load_tune_config(ROOT / "conf" / "tune" / "default.yaml")
    task = str(getattr(params.data, "task", "binary"))
    expected = {"binary": "logloss", "multiclass": "mlogloss", "regression": "rmse"}[task]
    assert study.objective_of(config, params) == (expected, "minimize")
    assert study.objective_of(config.model_copy(update={"metric": "auc"}), params) == (
        "auc",
        "maximize",
    )
