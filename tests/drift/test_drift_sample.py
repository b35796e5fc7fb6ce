"""Drift on the real bundled sample: the stage, the monitor, and the honest performance drop.

Uses the shared `pipeline_project` (read-only: the monitor writes to a temporary folder) and one
clone that trains the `time_split` experiment (trained on the past only, so every incoming batch
is unseen).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import DEFAULT_PACKAGE, clone_project, uv_run

MACRO = ("emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed")
LATE_2010 = ("2010-06.csv.gz", "2010-09.csv.gz")


def monitor(project: Path, out: Path, *batches: str, check: bool = True):
    args = [f"data/incoming/{b}" for b in batches] or ["--all"]
    return uv_run(
        project, "python", "-m", DEFAULT_PACKAGE, "monitor", *args, "--output-dir", str(out),
        check=check,
    )  # fmt: skip


def test_drift_stage_outputs_on_the_default_split(pipeline_project: Path) -> None:
    summary = json.loads((pipeline_project / "reports" / "drift.json").read_text())
    headline = json.loads((pipeline_project / "metrics" / "drift.json").read_text())
    # `dvc metrics` compares flat figures only; the per-column detail is a plain output.
    assert headline == {
        "dataset_drift": summary["dataset_drift"],
        "drifted_share": summary["drifted_share"],
        "drifted_columns": summary["drifted_columns"],
        "columns": summary["columns"],
        "prediction_drift": summary["prediction_drift"]["drifted"],
        "prediction_drift_score": summary["prediction_drift"]["score"],
        "target_drift": summary["target_drift"]["drifted"],
        "target_drift_score": summary["target_drift"]["score"],
    }
    assert list(summary) == [
        "task", "reference", "current", "dataset_drift", "drifted_columns", "columns",
        "drifted_share", "drift_share_threshold", "prediction_drift", "target_drift",
        "per_column", "too_few_values",
    ]  # fmt: skip
    # A stratified random split: the test split is the same world as the training split.
    assert summary["dataset_drift"] is False
    assert summary["drifted_columns"] == 0
    assert summary["prediction_drift"]["drifted"] is False
    assert summary["target_drift"]["drifted"] is False
    assert summary["columns"] == 19  # the features: 20 inputs less `duration`
    markdown = (pipeline_project / "reports" / "drift.md").read_text()
    assert markdown.startswith("**Verdict: no dataset drift**")
    assert "<details><summary>Columns without drift (19)</summary>" in markdown
    assert (pipeline_project / "reports" / "drift.html").stat().st_size > 100_000
    lock = yaml.safe_load((pipeline_project / "dvc.lock").read_text())
    outs = {o["path"] for o in lock["stages"]["drift"]["outs"]}
    assert outs == {
        "reports/drift.html", "reports/drift.md", "reports/drift.json", "metrics/drift.json"
    }  # fmt: skip
    assert "drift" in lock["stages"]["drift"]["params"]["params.yaml"]


@pytest.fixture(scope="module")
def late_monitor(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The monitor's outputs for the two late-2010 batches, with the default model."""
    out = tmp_path_factory.mktemp("late-monitor")
    monitor(pipeline_project, out, *LATE_2010)
    return out


def test_late_2010_batches_are_flagged(late_monitor: Path) -> None:
    summary = json.loads((late_monitor / "summary.json").read_text())
    assert summary["alarm"] is True
    assert [b["batch"] for b in summary["batches"]] == list(LATE_2010)
    for batch in summary["batches"]:
        drift = batch["drift"]
        assert drift["dataset_drift"], batch["batch"]
        assert all(drift["per_column"][c]["drifted"] for c in MACRO), drift["per_column"]
        assert batch["labelled"]
        assert batch["performance"]["metric"] == "roc_auc"
        assert (late_monitor / batch["batch"].replace(".csv.gz", ".html")).is_file()
    body = (late_monitor / "summary.md").read_text()
    assert body.startswith("## Drift monitor: **alarm**")
    assert "| `2010-09.csv.gz` | 635 |" in body


def test_one_period_against_itself_is_not_flagged(pipeline_project: Path) -> None:
    """May 2009 (5,794 rows, one period) split at random in halves: no false alarm."""
    script = f"""
import json, numpy as np, pandas as pd
from {DEFAULT_PACKAGE}.settings.params import load_params
from {DEFAULT_PACKAGE}.drift.check import run_check
from {DEFAULT_PACKAGE}.model.files import load_model
from {DEFAULT_PACKAGE}.data.raw import read_table
from {DEFAULT_PACKAGE}.data.validation import clean
params = load_params()
raw = read_table(params.data.path, params.data)
period = raw.iloc[30430:36224]
assert set(period["month"]) == {{"may"}}, set(period["month"])
frame, _ = clean(period, params.data)
halves = np.random.default_rng(1).permutation(len(frame)) < len(frame) // 2
check = run_check(frame[halves], frame[~halves], load_model(), params.drift, params.seed)
print(json.dumps(check.summary))
"""
    done = uv_run(pipeline_project, "python", "-c", script)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    # `pdays` is missing for ~98% of that month's clients: a few dozen values a side, enough
    # to check (drift.min_values), and its threshold is raised to what chance gives at that size.
    assert summary["too_few_values"] == {}
    assert summary["columns"] == 19
    assert summary["per_column"]["pdays"]["threshold"] > 0.1
    assert summary["dataset_drift"] is False
    assert summary["drifted_columns"] == 0, summary["per_column"]
    assert summary["prediction_drift"]["drifted"] is False


def test_a_bad_batch_fails_and_overwrites_nothing(
    pipeline_project: Path, late_monitor: Path, tmp_path: Path
) -> None:
    out = shutil.copytree(late_monitor, tmp_path / "monitor")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # A batch without the column `nr.employed`: otherwise the raw format of the sample.
    source = pipeline_project / "data" / "incoming" / "2010-09.csv.gz"
    rows = list(
        csv.reader(io.StringIO(gzip.decompress(source.read_bytes()).decode()), delimiter=";")
    )
    drop = rows[0].index("nr.employed")
    bad = tmp_path / "2011-01.csv"
    with bad.open("w", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([r[:drop] + r[drop + 1 :] for r in rows])
    done = uv_run(
        pipeline_project, "python", "-m", DEFAULT_PACKAGE, "monitor", str(bad),
        "--output-dir", str(out), check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "missing feature column(s) ['nr.employed']" in done.stderr
    assert "Traceback" not in done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.fixture(scope="module")
def time_split_project(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = clone_project(pipeline_project, tmp_path_factory.mktemp("drift") / "time-split")
    # Cross-validation off (it only reports): the same time-ordered model, in a third of the time.
    uv_run(
        project, "dvc", "exp", "run", "-S", "experiment=time_split", "-S", "train.cv_folds=0",
        timeout=900,
    )  # fmt: skip
    return project


def test_performance_drop_on_unseen_late_batches(
    time_split_project: Path, pipeline_project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "time-split"
    monitor(time_split_project, out, "2009-09.csv.gz", *LATE_2010)
    summary = json.loads((out / "summary.json").read_text())
    test_metrics = json.loads((time_split_project / "metrics" / "evaluate.json").read_text())
    test_auc = test_metrics["metrics"]["roc_auc"]["value"]
    default_auc = json.loads((pipeline_project / "metrics" / "evaluate.json").read_text())[
        "metrics"]["roc_auc"]["value"]  # fmt: skip
    batches = {b["batch"]: b for b in summary["batches"]}
    assert len(batches) == 3
    for name, batch in batches.items():
        perf = batch["performance"]
        assert perf["test_value"] == test_auc
        assert perf["change"] == pytest.approx(perf["value"] - test_auc, abs=1e-6)
        assert perf["ci_low"] <= perf["value"] <= perf["ci_high"]
        # Trained on the past only: every late batch scores far below the random-split figure
        # and below the floor, and the alarm names it.
        assert perf["value"] < default_auc - 0.08, (name, perf, default_auc)
        assert perf["below_floor"], (name, perf)
        assert any(
            r.startswith("roc_auc ") and "below the floor 0.7" in r for r in batch["reasons"]
        )
    body = (out / "summary.md").read_text()
    assert "vs test (**below floor**)" in body
