"""End to end on data that is not the sample: scikit-learn's breast-cancer table (569 rows).

A clone of the pipeline project (its `main` holds the bank sample's results) is switched to the
table with `make data`, then runs the pipeline, the gate, the report against `main`, the
monitor, and the project's own `make lint` and fast lane `make test` (its tests build their
records from the configured data): what a new user does first. Multiclass and regression tables
go through the same steps in test_e2e_tasks.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEFAULT_PACKAGE, clone_project, run, uv_run

pytestmark = pytest.mark.e2e

WRITE_TABLE = """
from sklearn.datasets import load_breast_cancer
table = load_breast_cancer(as_frame=True).frame
table["target"] = table["target"].map({{0: "malignant", 1: "benign"}})
table.rename(columns={{"target": "diagnosis"}}).to_csv("{path}", index=False)
"""
WRITE_BATCH = """
import pandas as pd
table = pd.read_csv("data/raw/breast_cancer.csv")
table.sample(150, random_state=0).to_csv("{path}", index=False)
"""


@pytest.fixture(scope="module")
def breast_cancer_project(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone switched to the breast-cancer table (text labels) and run once."""
    project = clone_project(pipeline_project, tmp_path_factory.mktemp("own-data") / "project")
    source = project.parent / "breast_cancer.csv"
    uv_run(project, "python", "-c", WRITE_TABLE.format(path=source))  # the project has sklearn
    run(["make", "data", f"DATA={source}", "TARGET=diagnosis"], project)
    run(["git", "checkout", "-q", "-b", "own-data"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "Use the breast-cancer table"], project)
    run(["make", "run"], project, timeout=900)
    return project


def read_json(project: Path, path: str) -> dict:
    return json.loads((project / path).read_text())


def test_the_pipeline_runs_and_the_gate_passes(breast_cancer_project: Path) -> None:
    gate = run(["make", "gate"], breast_cancer_project).stdout
    assert "quality gate: PASSED" in gate
    evaluation = read_json(breast_cancer_project, "metrics/evaluate.json")
    assert evaluation["test_rows"] == 114  # 20% of 569
    assert evaluation["metrics"]["roc_auc"]["value"] > 0.95  # a well-separated table
    # well separated, yet no feature determines the diagnosis: no leak suspect, no warning
    assert "leak_suspects" not in read_json(breast_cancer_project, "reports/data.json")
    assert "warnings" not in read_json(breast_cancer_project, "reports/gate.json")


def test_the_projects_own_lint_and_tests_pass_on_the_new_data(breast_cancer_project: Path) -> None:
    run(["make", "lint"], breast_cancer_project)
    # The fast lane: the complete generated suite runs once, on the sample (test_e2e_pipeline).
    tested = run(["make", "test"], breast_cancer_project, timeout=900).stdout
    summary = [line for line in tested.splitlines() if line.startswith("=") and " passed" in line]
    assert summary, tested[-3000:]
    assert " failed" not in summary[-1], summary[-1]
    assert " error" not in summary[-1], summary[-1]
    # The bundled sample's own tests are skipped, saying why; nothing else assumes the sample.
    assert "the configured data (data/raw/breast_cancer.csv) is another data set" in tested
    assert "has no category feature column" in tested  # an all-numeric table: those cases skip


def test_a_random_split_of_a_small_table_is_not_drift(breast_cancer_project: Path) -> None:
    drift = read_json(breast_cancer_project, "reports/drift.json")
    assert drift["columns"] == 30
    assert drift["too_few_values"] == {}  # drift.min_values fits a 114-row test split
    assert drift["dataset_drift"] is False, drift["per_column"]
    assert drift["prediction_drift"]["drifted"] is False


def test_the_report_does_not_compare_with_the_bank_baseline(breast_cancer_project: Path) -> None:
    uv_run(breast_cancer_project, "python", "-m", DEFAULT_PACKAGE, "report", "--baseline", "main")
    report = (breast_cancer_project / "reports" / "pr_report.md").read_text()
    assert "**No comparison with the baseline.**" in report
    assert "`data.target` `y` → `diagnosis`" in report
    assert "unpaired" not in report
    verdict = read_json(breast_cancer_project, "reports/pr_gate.json")
    assert verdict["comparison"] == "not comparable"
    assert verdict["passed"]
    assert not [r for r in verdict["rules"] if r["kind"] == "vs_baseline"]


def test_the_monitor_checks_a_batch_of_the_new_data(
    breast_cancer_project: Path, tmp_path: Path
) -> None:
    batch = breast_cancer_project / "data" / "incoming" / "2030-01.csv"
    uv_run(breast_cancer_project, "python", "-c", WRITE_BATCH.format(path=batch))
    out = tmp_path / "monitor"
    uv_run(
        breast_cancer_project, "python", "-m", DEFAULT_PACKAGE, "monitor", str(batch),
        "--output-dir", str(out),
    )  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    (checked,) = summary["batches"]
    assert checked["labelled"]
    assert checked["drift"]["dataset_drift"] is False  # rows of the same table
    assert checked["performance"]["below_floor"] is False
