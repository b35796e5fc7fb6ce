"""End to end on a multiclass and a regression table: scikit-learn's wine and diabetes sets.

A clone of the pipeline project (its `main` holds the bank sample's binary results) is switched
to each table with `make data` (the task inferred from the target), then runs the pipeline, the
gate, the report against `main`, the monitor on a batch of the table, batch scoring, and
`make serve` with one request: each answers in the task's shape.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import DEFAULT_PACKAGE, SKIP_TEARDOWN, clone_project, run, uv_run

sys.path.insert(0, str(Path(__file__).resolve().parent / "serving"))
from serving_support import free_port, running, service_env

pytestmark = pytest.mark.e2e

TABLES = {
    "multiclass": (
        "wine",
        "cultivar",
        """
from sklearn.datasets import load_wine
table = load_wine(as_frame=True).frame
table["target"] = table["target"].map({{0: "barolo", 1: "grignolino", 2: "barbera"}})
table.rename(columns={{"target": "cultivar"}}).to_csv("{path}", index=False)
""",
    ),
    "regression": (
        "diabetes",
        "progression",
        """
from sklearn.datasets import load_diabetes
table = load_diabetes(as_frame=True, scaled=False).frame
table.rename(columns={{"target": "progression"}}).to_csv("{path}", index=False)
""",
    ),
}
WRITE_BATCH = """
import pandas as pd
table = pd.read_csv("{source}")
table.sample({rows}, random_state=0).to_csv("{path}", index=False)
"""
# Two rows of the test split, as the records of one request (model features only).
TEST_RECORDS = """
import json
import pandas as pd
names = [f["name"] for f in json.load(open("models/metadata.json"))["feature_spec"]["features"]]
test = pd.read_parquet("data/prepared/test.parquet")
print(test[names].head(2).to_json(orient="records"))
"""


def ask_service(project: Path, log: Path) -> dict:
    """`make serve` (as a user starts it), one request, /metadata and the OpenAPI schema."""
    records = json.loads(uv_run(project, "python", "-c", TEST_RECORDS + SKIP_TEARDOWN).stdout)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = ["make", "serve", f"PORT={port}"]
    with running(command, project, service_env(project), f"{base}/readyz", log):
        body = json.dumps({"records": records}).encode()
        request = urllib.request.Request(
            f"{base}/predict", body, {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, json.load(response)
        with urllib.request.urlopen(f"{base}/metadata", timeout=30) as response:
            metadata = json.load(response)
        with urllib.request.urlopen(f"{base}/docs.json", timeout=30) as response:
            openapi = json.load(response)
    return {"status": status, "answer": answer, "metadata": metadata, "openapi": openapi}


@pytest.fixture(scope="module", params=sorted(TABLES))
def task_project(
    request: pytest.FixtureRequest, pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """A clone switched to the task's table (task inferred by `make data`) and run once."""
    task = request.param
    name, target, write = TABLES[task]
    project = clone_project(pipeline_project, tmp_path_factory.mktemp(task) / "project")
    source = project.parent / f"{name}.csv"
    uv_run(project, "python", "-c", write.format(path=source))  # the project has sklearn
    run(["make", "data", f"DATA={source}", f"TARGET={target}"], project)
    run(["git", "checkout", "-q", "-b", task], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", f"Use the {name} table"], project)
    run(["make", "run"], project, timeout=900)
    return task, project


def read_json(project: Path, path: str) -> dict:
    return json.loads((project / path).read_text())


def test_the_task_is_inferred_and_the_gate_beats_the_trivial_model(
    task_project: tuple[str, Path],
) -> None:
    task, project = task_project
    assert "quality gate: PASSED" in run(["make", "gate"], project).stdout
    metadata = read_json(project, "models/metadata.json")
    assert metadata["feature_spec"]["task"] == task
    evaluation = read_json(project, "metrics/evaluate.json")
    gate = read_json(project, "reports/gate.json")
    if task == "multiclass":
        assert metadata["feature_spec"]["classes"] == ["barbera", "barolo", "grignolino"]
        assert evaluation["test_rows"] == 36  # 20% of 178
        assert evaluation["metrics"]["accuracy"]["value"] > 0.85
        assert {"f1_macro", "f1_weighted", "log_loss", "roc_auc_ovr", "recall_barolo"} <= set(
            evaluation["metrics"]
        )
        assert [r["metric"] for r in gate["rules"]] == ["log_loss", "f1_macro"]
        confusion = read_json(project, "plots/confusion.json")
        assert len(confusion) == 36
        assert {r["actual"] for r in confusion} == {"barbera", "barolo", "grignolino"}
    else:
        assert metadata["feature_spec"]["classes"] == []
        assert evaluation["test_rows"] == 88  # 20% of 442
        assert {"rmse", "mae", "r2", "mape"} == set(evaluation["metrics"])
        assert evaluation["metrics"]["r2"]["value"] > 0.2
        assert [r["metric"] for r in gate["rules"]] == ["rmse"]
        assert len(read_json(project, "plots/predicted_actual.json")) == 88
    assert "leak_suspects" not in read_json(project, "reports/data.json")  # no false alarm
    drift = read_json(project, "reports/drift.json")
    assert drift["dataset_drift"] is False, drift["per_column"]
    assert drift["task"] == task
    compared = {"multiclass": "predicted class", "regression": "predicted values"}[task]
    assert f"- Prediction drift ({compared}):" in (project / "reports/drift.md").read_text()


def test_the_report_does_not_compare_with_the_binary_baseline(
    task_project: tuple[str, Path],
) -> None:
    task, project = task_project
    uv_run(project, "python", "-m", DEFAULT_PACKAGE, "report", "--baseline", "main")
    report = (project / "reports" / "pr_report.md").read_text()
    assert f"`data.task` `binary` → `{task}`" in report
    # This PR's metrics are the task's defaults (the generated comparison list is binary's).
    shown = {
        "multiclass": ["log_loss ↓", "f1_macro", "accuracy", "roc_auc_ovr"],
        "regression": ["rmse ↓", "mae ↓", "r2"],
    }[task]
    assert all(f"| {metric} | — |" in report for metric in shown), report
    verdict = read_json(project, "reports/pr_gate.json")
    assert verdict["comparison"] == "not comparable"
    assert verdict["passed"]


def test_the_monitor_checks_a_labelled_batch_with_the_task_metric(
    task_project: tuple[str, Path], tmp_path: Path
) -> None:
    task, project = task_project
    name = TABLES[task][0]
    batch = project / "data" / "incoming" / "2030-01.csv"
    source = project / "data" / "raw" / f"{name}.csv"
    uv_run(project, "python", "-c", WRITE_BATCH.format(source=source, rows=120, path=batch))
    out = tmp_path / "monitor"
    uv_run(
        project, "python", "-m", DEFAULT_PACKAGE, "monitor", str(batch), "--output-dir", str(out)
    )
    (checked,) = json.loads((out / "summary.json").read_text())["batches"]
    assert checked["labelled"]
    performance = checked["performance"]
    # the default floor (roc_auc) is binary's: the task's proper score against the trivial model
    assert performance["metric"] == ("log_loss" if task == "multiclass" else "rmse")
    assert performance["value"] < performance["floor"]
    assert performance["below_floor"] is False


def test_batch_scoring_and_the_service_answer_in_the_task_shape(
    task_project: tuple[str, Path], tmp_path: Path
) -> None:
    task, project = task_project
    name = TABLES[task][0]
    output = tmp_path / "scores.parquet"
    source = project / "data" / "raw" / f"{name}.csv"
    uv_run(project, "python", "-m", DEFAULT_PACKAGE, "predict", "--input", str(source),
           "--output", str(output))  # fmt: skip
    show = f"import json, pandas; print(json.dumps(list(pandas.read_parquet('{output}'))))"
    columns = json.loads(uv_run(project, "python", "-c", show + SKIP_TEARDOWN).stdout)
    asked = ask_service(project, tmp_path / "service.log")
    assert asked["status"] == 200
    assert asked["metadata"]["task"] == task
    schemas = asked["openapi"]["components"]["schemas"]
    answer = asked["answer"]
    if task == "multiclass":
        classes = ["barbera", "barolo", "grignolino"]
        assert columns == ["label", *(f"probability_{c}" for c in classes)]
        assert [set(a) for a in answer] == [{"label", "probabilities"}] * 2
        for one in answer:
            assert sorted(one["probabilities"]) == classes
            assert one["label"] == max(one["probabilities"], key=one["probabilities"].get)
        assert asked["metadata"]["classes"] == classes
        assert "Prediction" in schemas
    else:
        assert columns == ["prediction"]
        assert [set(a) for a in answer] == [{"prediction"}] * 2
        assert all(isinstance(a["prediction"], float) for a in answer)
        assert asked["metadata"]["classes"] == []
        assert asked["metadata"]["threshold"] is None
        assert set(schemas["Regression"]["properties"]) == {"prediction"}


# Regression's fast lane runs in test_e2e_variants.py (its table is a regression one); binary's
# in test_e2e_own_data.py: here only the multiclass clone's, on the run it already has.
@pytest.mark.parametrize("task_project", ["multiclass"], indirect=True)
def test_the_projects_own_lint_and_fast_lane_pass_on_a_multiclass_table(
    task_project: tuple[str, Path],
) -> None:
    task, project = task_project
    assert task == "multiclass"
    run(["make", "lint"], project)
    tested = run(["make", "test"], project, timeout=900).stdout
    summary = [line for line in tested.splitlines() if line.startswith("=") and " passed" in line]
    assert summary, tested[-3000:]
    assert " failed" not in summary[-1], summary[-1]
    assert " error" not in summary[-1], summary[-1]
    assert "the configured data (data/raw/wine.csv) is another data set" in tested
