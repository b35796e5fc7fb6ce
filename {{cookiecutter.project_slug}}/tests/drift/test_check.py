"""Drift summary, Markdown, parsing of Evidently results, and start-up without Evidently.

A real Evidently run is part of the shared pipeline run (`pipeline_repo` in conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import PACKAGE, ROOT, committed_params, module

config = module("settings.params")
drift = module("drift.check")
drift_summary = module("drift.summary")
errors = module("errors")


def result(kind: str, score: float, drifted: bool, method: str = "wasserstein") -> dict:
    return drift_summary.column_result(kind, method, score, 0.1, drifted)


def fixed_summary(target: dict | None = None, task: str = "binary") -> dict:
    per_column = {
        "age": result("numeric", 0.02, False),
        "euribor3m": result("numeric", 1.49, True),
        "month": result("category", 0.53, True, "jensenshannon"),
        "job": result("category", 0.07, False, "jensenshannon"),
    }
    return drift_summary.summarise(
        per_column,
        task=task,
        drift_share=0.5,
        prediction=result("prediction", 0.0312345678, False),
        target=target,
        reference={"name": "training split", "rows": 32941, "rows_checked": 32941},
        current={"name": "batch 2010-09.csv.gz", "rows": 100000, "rows_checked": 50000},
    )


def test_summary_keys_are_stable() -> None:
    summary = fixed_summary()
    assert tuple(summary) == drift_summary.SUMMARY_KEYS
    assert all(tuple(r) == drift_summary.RESULT_KEYS for r in summary["per_column"].values())
    assert tuple(summary["prediction_drift"]) == drift_summary.RESULT_KEYS
    # The JSON the stage writes is exactly this, so `dvc metrics diff` compares stable keys.
    assert json.loads(json.dumps(summary)) == summary
    assert summary["too_few_values"] == {}


def test_dataset_verdict_uses_the_share_of_drifted_columns() -> None:
    summary = fixed_summary()
    assert (summary["drifted_columns"], summary["columns"], summary["drifted_share"]) == (2, 4, 0.5)
    assert summary["dataset_drift"] is True  # 2/4 reaches the 0.5 threshold
    below = drift_summary.summarise(
        {**summary["per_column"], "job": result("category", 0.07, False)}
        | {"extra": result("numeric", 0.0, False)},
        task="binary",
        drift_share=0.5,
        prediction=summary["prediction_drift"],
        target=None,
        reference=summary["reference"],
        current=summary["current"],
    )
    assert below["drifted_columns"] == 2
    assert below["drifted_share"] == 0.4
    assert below["dataset_drift"] is False
    assert summary["prediction_drift"]["score"] == 0.031235  # rounded to 6 places


def test_summary_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no column results"):
        drift_summary.summarise(
            {}, task="binary", drift_share=0.5, prediction={}, target=None, reference={}, current={}
        )


def test_summary_of_an_unknown_task_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        fixed_summary(task="ranking")


@pytest.mark.parametrize(
    ("task", "wording"),
    [
        ("binary", "scores of the positive class"),
        ("multiclass", "predicted class"),
        ("regression", "predicted values"),
    ],
)
def test_markdown_names_what_the_prediction_drift_compared_per_task(
    task: str, wording: str
) -> None:
    summary = fixed_summary(task=task)
    assert summary["task"] == task  # reports/drift.json says which outputs were compared
    lines = drift_summary.markdown(summary, "Data drift").splitlines()
    prediction_lines = [line for line in lines if line.startswith("- Prediction drift")]
    assert prediction_lines == [
        f"- Prediction drift ({wording}): no drift (wasserstein 0.03123 < 0.1)"
    ]


def test_markdown_lists_drifted_columns_first_and_folds_the_rest() -> None:
    text = drift_summary.markdown(fixed_summary(), "Data drift")
    lines = text.splitlines()
    assert lines[0] == "### Data drift: **drift detected**"
    assert (
        "batch 2010-09.csv.gz (100,000 rows, a seeded sample of 50,000) against training split "
        "(32,941 rows). 2 of 4 feature columns drifted (50%; the data set drifts from 50%)."
    ) in lines
    assert (
        "- Prediction drift (scores of the positive class): no drift (wasserstein 0.03123 < 0.1)"
        in lines
    )
    assert "- Target drift: not checked (no labels)" in lines
    drifted_rows = [line for line in lines if line.endswith("| yes |")]
    assert drifted_rows == [
        "| `euribor3m` | numeric | wasserstein | 1.49 | 0.1 | yes |",
        "| `month` | category | jensenshannon | 0.53 | 0.1 | yes |",
    ]
    folded = text.split("<details><summary>Columns without drift (2)</summary>")[1]
    assert folded.index("`job`") < folded.index("`age`")  # highest score first
    assert "euribor3m" not in folded
    assert text.rstrip().endswith("</details>")


def test_markdown_without_drift_and_with_target() -> None:
    per_column = {"age": result("numeric", 0.02, False)}
    summary = drift_summary.summarise(
        per_column,
        task="regression",
        drift_share=0.25,
        prediction=result("prediction", 0.5, True),
        target=result("target", 0.2, True, "jensenshannon"),
        reference={"name": "training split", "rows": 10, "rows_checked": 10},
        current={"name": "test split", "rows": 5, "rows_checked": 5},
        too_few_values={"pdays": [1200, 41]},
    )
    assert summary["columns"] == 1  # a column without enough values is not counted
    assert summary["too_few_values"] == {"pdays": [1200, 41]}
    text = drift_summary.markdown(summary, "Data drift")
    assert text.startswith("### Data drift: no dataset drift\n")
    assert "No column drifted." in text
    assert "- Prediction drift (predicted values): **drifted** (wasserstein 0.5 >= 0.1)" in text
    assert "- Target drift: **drifted** (jensenshannon 0.2 >= 0.1)" in text
    assert (
        "Not checked, too few non-missing values (reference / current): `pdays` (1,200 / 41)."
        in text
    )
    # Without a heading, for a report that gives the section its own (the PR report does).
    assert drift_summary.markdown(summary, "Verdict", level=0).startswith(
        "**Verdict: no dataset drift**\n\n"
    )


def evidently_like(column: str, value: float, status: str, metric_id: str) -> tuple[dict, dict]:
    metric = {
        "id": metric_id,
        "config": {
            "type": "evidently:metric_v2:ValueDrift",
            "column": column,
            "method": "wasserstein",
            "threshold": 0.1,
        },
        "value": value,
    }
    test = {
        "status": status,
        "metric_config": {
            "metric_id": metric_id,
            "params": {"type": "evidently:metric_v2:ValueDrift"},
        },
    }
    return metric, test


def test_verdicts_come_from_evidently_tests() -> None:
    drifted_metric, drifted_test = evidently_like("age", 0.3, "FAIL", "a")
    quiet_metric, quiet_test = evidently_like("campaign", 0.01, "SUCCESS", "b")
    count = {"id": "c", "config": {"type": "evidently:metric_v2:DriftedColumnsCount"}, "value": {}}
    snapshot = {
        "metrics": [count, drifted_metric, quiet_metric],
        "tests": [drifted_test, quiet_test],
    }
    results = drift._column_results(snapshot, {"age": "numeric", "campaign": "numeric"})
    assert results == {
        "age": drift_summary.column_result("numeric", "wasserstein", 0.3, 0.1, True),
        "campaign": drift_summary.column_result("numeric", "wasserstein", 0.01, 0.1, False),
    }
    with pytest.raises(errors.PipelineError, match="no test verdict for 'campaign'"):
        drift._column_results({"metrics": [quiet_metric], "tests": []}, {})


def test_sampling_is_seeded_and_keeps_order() -> None:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"x": range(10_000)})
    first = drift.sample_rows(frame, 1000, np.random.default_rng(7))
    again = drift.sample_rows(frame, 1000, np.random.default_rng(7))
    assert len(first) == 1000
    assert first["x"].is_monotonic_increasing
    assert first["x"].tolist() == again["x"].tolist()
    assert len(drift.sample_rows(frame, 0, np.random.default_rng(7))) == 10_000


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("sample_rows", 500, "drift.sample_rows"),
        ("num_method", "magic", "drift.num_method"),
        ("drift_share", 0, "drift.drift_share"),
        ("retrain_pr", "perhaps", "drift.retrain_pr"),
    ],
)
def test_invalid_drift_settings_are_named(key: str, value: object, expected: str) -> None:
    raw = committed_params()
    raw["drift"][key] = value
    with pytest.raises(errors.PipelineError, match=expected.replace(".", r"\.")):
        config.parse_params(raw)


@pytest.mark.integration  # starts a fresh interpreter
def test_cli_and_drift_modules_start_without_evidently() -> None:
    code = (
        "import sys\n"
        f"import {PACKAGE}.cli, {PACKAGE}.stages.drift, {PACKAGE}.drift.check\n"
        f"import {PACKAGE}.drift.monitor, {PACKAGE}.data.incorporate\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'evidently')\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"evidently loaded at start-up: {done.stdout}{done.stderr}"
