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
    params = yaml.safe_load((pipeline_repo / "params.yaml").read_text())
    params["model"]["max_depth"] = 3
    (pipeline_repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = dvc(pipeline_repo, "repro").stdout
    assert "Running stage 'train'" in out
    assert "Running stage 'evaluate'" in out
    assert "Running stage 'drift'" in out  # prediction drift depends on the model
    assert "Running stage 'prepare'" not in out
