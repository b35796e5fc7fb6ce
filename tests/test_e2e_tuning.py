"""End to end: `tune` in a baked project writes an experiment that `dvc exp run` trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import clone_project, uv_run

pytestmark = pytest.mark.e2e

QUICK_SPACE = {
    "trials": 2,
    "sampler": "random",
    "space": {"model.max_depth": {"type": "int", "low": 2, "high": 4}},
}


def test_a_tuned_experiment_runs_through_dvc(pipeline_project: Path, tmp_path: Path) -> None:
    project = clone_project(pipeline_project, tmp_path / "copy")
    (project / "conf" / "tune" / "quick.yaml").write_text(yaml.safe_dump(QUICK_SPACE))
    quick = yaml.safe_load((project / "params.yaml").read_text())
    quick["train"]["cv_folds"] = 2
    quick["model"]["n_estimators"] = 20
    (project / "quick-params.yaml").write_text(yaml.safe_dump(quick))
    uv_run(
        project,
        "python",
        "-m",
        "term_deposit_model",
        "tune",
        "--space",
        "quick",
        "--params",
        "quick-params.yaml",
        timeout=900,
    )
    best = json.loads((project / "reports" / "tune" / "summary.json").read_text())["best"]
    uv_run(project, "dvc", "exp", "run", "-S", "experiment=tuned", timeout=900)
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["model"]["max_depth"] == best["params"]["model.max_depth"]
    metadata = json.loads((project / "models" / "metadata.json").read_text())
    assert metadata["params"]["model"]["max_depth"] == best["params"]["model.max_depth"]
