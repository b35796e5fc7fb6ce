"""Integration: the real DVC pipeline on a slice of the sample, in a scratch git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import fast_params
from helpers import ROOT

pytestmark = pytest.mark.integration


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"dvc {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def pipeline_repo(tmp_path_factory: pytest.TempPathFactory, sample_slice) -> Path:
    repo = tmp_path_factory.mktemp("pipeline")
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / ".dvc").mkdir()
    (repo / ".dvc" / "config").write_text(
        "[core]\n    analytics = false\n    check_update = false\n"
    )
    (repo / "params.yaml").write_text(yaml.safe_dump(fast_params(), sort_keys=False))
    (repo / "data" / "raw").mkdir(parents=True)
    sample_slice.to_csv(repo / "data" / "raw" / "sample.csv", sep=";", index=False)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=repo, check=True)
    dvc(repo, "repro")
    return repo


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
