"""End to end: a baked project runs its real pipeline, passes its own checks, reproduces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import bake, ensure_git_repository, run, uv_run, uv_sync

pytestmark = pytest.mark.e2e


def read_json(project: Path, path: str) -> dict:
    return json.loads((project / path).read_text())


def test_gate_passes_and_metrics_are_sane(pipeline_project: Path) -> None:
    gate = read_json(pipeline_project, "reports/gate.json")
    assert gate["passed"], gate
    evaluation = read_json(pipeline_project, "metrics/evaluate.json")
    roc = evaluation["metrics"]["roc_auc"]
    # The data set's documented figure for a random split is about 0.80.
    assert 0.75 < roc["value"] < 0.9
    assert roc["ci_low"] < roc["value"] < roc["ci_high"]
    assert roc["ci_high"] - roc["ci_low"] < 0.06
    assert 0.09 < evaluation["positive_share"] < 0.14
    data = read_json(pipeline_project, "reports/data.json")
    assert (data["rows_in"], data["duplicates_dropped"]) == (41188, 12)
    train = read_json(pipeline_project, "metrics/train.json")
    assert abs(train["cv_auc_mean"] - roc["value"]) < 0.05


def test_dvc_shows_metrics_and_renders_plots(pipeline_project: Path, tmp_path: Path) -> None:
    shown = uv_run(pipeline_project, "dvc", "metrics", "show", "--md").stdout
    assert "metrics.roc_auc.value" in shown
    out = tmp_path / "plots"
    uv_run(pipeline_project, "dvc", "plots", "show", "--out", str(out))
    html = (out / "index.html").read_text()
    for title in ("ROC curve", "Precision-recall curve", "Confusion matrix", "Feature importance"):
        assert title in html


def test_nothing_reruns_when_nothing_changed(pipeline_project: Path) -> None:
    assert "up to date" in uv_run(pipeline_project, "dvc", "status").stdout
    assert "Running stage" not in uv_run(pipeline_project, "dvc", "repro").stdout


def test_generated_project_passes_its_own_lint_and_tests(pipeline_project: Path) -> None:
    """What the generated CI runs: `make lint`, then every test (`make test-all`). The template's
    only complete run of the generated suite; other bakes run its fast lane (`make test`)."""
    run(["make", "lint"], pipeline_project)
    quiet = {"PYTEST_ADDOPTS": "-q -p no:cacheprovider"}
    result = run(["make", "test-all"], pipeline_project, env=quiet, timeout=1200)
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout
    assert "deselected" not in result.stdout


def test_the_fast_lane_leaves_out_pipeline_runs_dvc_and_servers(pipeline_project: Path) -> None:
    """`make test` deselects the integration tests: those using the pipeline run, DVC, servers
    or a fresh interpreter (collection only: the tests themselves ran in `make test-all`)."""
    listed = run(["make", "test"], pipeline_project, env={"PYTEST_ADDOPTS": "-q --co"}).stdout
    collected = {line.split("::")[0] for line in listed.splitlines() if "::" in line}
    assert "deselected" in listed
    assert "tests/stages/test_train.py" in collected  # in-process unit tests stay
    for integration in ("tests/test_pipeline.py", "tests/serving/test_drain.py"):
        assert integration not in collected, integration
    help_text = run(["make", "help"], pipeline_project).stdout
    assert "setup" in help_text
    assert "gate" in help_text


def test_two_fresh_bakes_train_byte_identical_models(
    pipeline_project: Path, tmp_path: Path
) -> None:
    """Prepare and train only: the later stages read the model and are seeded (the generated
    suite checks their determinism on the slice); a second full run would add about 40 s."""
    again = bake(tmp_path)
    ensure_git_repository(again)
    uv_sync(again)
    uv_run(again, "dvc", "repro", "train", timeout=900)
    model = "models/model.ubj"
    assert (again / model).read_bytes() == (pipeline_project / model).read_bytes()
    assert read_json(again, "metrics/train.json") == read_json(
        pipeline_project, "metrics/train.json"
    )


def test_bad_override_names_the_key(pipeline_project: Path, tmp_path: Path) -> None:
    project = tmp_path / "copy"
    shutil.copytree(
        pipeline_project, project, symlinks=True, ignore=shutil.ignore_patterns(".venv")
    )
    uv_sync(project)
    result = uv_run(project, "dvc", "exp", "run", "-S", "model.max_dpeth=3", check=False)
    assert result.returncode != 0
    assert "max_dpeth" in result.stdout + result.stderr
    lock_before = (pipeline_project / "dvc.lock").read_text()
    assert (project / "dvc.lock").read_text() == lock_before
