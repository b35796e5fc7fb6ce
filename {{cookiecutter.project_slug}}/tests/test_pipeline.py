"""Integration: the real DVC pipeline on a slice of the data, in a scratch git repository
(`pipeline_repo`, shared with the serving tests: see conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import dvc

pytestmark = pytest.mark.integration


def test_pipeline_produces_every_declared_output(pipeline_repo: Path) -> None:
    lock = yaml.safe_load((pipeline_repo / "dvc.lock").read_text())
    declared = yaml.safe_load((pipeline_repo / "dvc.yaml").read_text())["stages"]
    assert set(lock["stages"]) == set(declared)
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            assert (pipeline_repo / out["path"]).exists(), out["path"]
    gate = json.loads((pipeline_repo / "reports" / "gate.json").read_text())
    assert {"passed", "rules"} <= set(gate)


def test_metrics_are_visible_to_dvc(pipeline_repo: Path) -> None:
    shown = json.loads(dvc(pipeline_repo, "metrics", "show", "--json").stdout)
    workspace = shown[""]["data"]  # "" is the workspace
    roc = workspace["metrics/evaluate.json"]["data"]["metrics"]["roc_auc"]
    assert 0.5 < roc["value"] <= 1
    assert "cv_auc_mean" in workspace["metrics/train.json"]["data"]


def test_nothing_reruns_when_nothing_changed(pipeline_repo: Path) -> None:
    assert "up to date" in dvc(pipeline_repo, "status").stdout
    rerun = dvc(pipeline_repo, "repro").stdout
    assert "Running stage" not in rerun


def test_changing_a_model_param_reruns_the_stages_after_prepare(pipeline_repo: Path) -> None:
    """`train` re-runs, and DVC then holds every stage that reads the model as stale (checked
    with `dvc status` rather than re-running them all). The committed params and model come
    back afterwards from the run cache: the run is shared."""
    params_file = pipeline_repo / "params.yaml"
    committed = params_file.read_text()
    params = yaml.safe_load(committed)
    params["model"]["max_depth"] = params["model"]["max_depth"] + 1
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        out = dvc(pipeline_repo, "repro", "train").stdout
        stale = set(json.loads(dvc(pipeline_repo, "status", "--json").stdout))
    finally:
        params_file.write_text(committed)
        restored = dvc(pipeline_repo, "repro", "train").stdout
    assert "Running stage 'train'" in out
    assert "Running stage 'prepare'" not in out
    # prediction drift, the model card and the packaged model depend on the model too
    assert stale == {"evaluate", "drift", "card", "package"}
    assert "Running stage 'train'" not in restored
    assert "up to date" in dvc(pipeline_repo, "status").stdout
