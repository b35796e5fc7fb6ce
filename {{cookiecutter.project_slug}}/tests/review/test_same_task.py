"""The PR report when this run and the baseline solve the same non-binary task.

Regression against regression and multiclass against multiclass: the comparison table holds the
task's metrics (not binary's), the differences current - baseline, and the regression rules'
verdict. Cheap: both sides' metrics files are written by the test (no pipeline runs), the
baseline's committed in a scratch git repository as `main`'s would be.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from helpers import committed_params, module

config = module("settings.params")
paths = module("artifacts.paths")
report = module("review.report")
comparison = module("model.comparison")
gate = module("model.gate")
sections = module("review.sections")
task_values = module("model.metrics").task_values

CLASSES = ["low", "mid", "high"]
Z = 1.959964  # the normal quantile of a 95% interval


def task_params(task: str) -> dict[str, Any]:
    """The committed params with a small table of `task` as the data (x, colour -> target)."""
    raw = committed_params()
    columns: dict[str, Any] = {
        "x": {"dtype": "float"},
        "colour": {"dtype": "category", "categories": ["red", "blue"]},
    }
    if task == "multiclass":
        columns["kind"] = {"dtype": "category", "role": "target", "categories": CLASSES}
        data = {"target": "kind", "classes": CLASSES}
    else:
        columns["size"] = {"dtype": "float", "role": "target"}
        data = {"target": "size"}
    raw["data"] = {"path": "data/raw/table.csv", "task": task, **data, "columns": columns}
    raw["evaluate"]["fairness"]["groups"] = []  # the sample's groups name its columns
    raw["evaluate"]["confidence_level"] = 0.95
    return raw


def interval(value: float, half_width: float = 0.1) -> dict[str, float]:
    return {"value": value, "ci_low": value - half_width, "ci_high": value + half_width}


# Each task's recorded test metrics on both sides: one metric clearly worse in this PR, one
# better, the rest unchanged (every task metric is recorded, as evaluate writes them).
SIDES = {
    "regression": (
        {"rmse": 5.0, "mae": 4.0, "r2": 0.5, "mape": 0.2},  # baseline (main)
        {"rmse": 6.0, "mae": 4.0, "r2": 0.8, "mape": 0.2},  # this PR
    ),
    "multiclass": (
        {"accuracy": 0.8, "f1_macro": 0.7, "f1_weighted": 0.8, "log_loss": 0.5, "roc_auc_ovr": 0.9},
        {"accuracy": 0.8, "f1_macro": 0.9, "f1_weighted": 0.8, "log_loss": 0.7, "roc_auc_ovr": 0.9},
    ),
}
# The metrics the report compares by default per task, in order; the worse and better one.
EXPECTED = {
    "regression": (["rmse", "mae", "r2"], "rmse", "r2"),
    "multiclass": (["log_loss", "f1_macro", "accuracy", "roc_auc_ovr"], "log_loss", "f1_macro"),
}


def metrics_file(task: str, values: dict[str, float]) -> dict[str, Any]:
    """What evaluate writes to metrics/evaluate.json (the parts the comparison reads)."""
    return {"task": task, "metrics": {m: interval(v) for m, v in values.items()}}


def baseline_repo(root: Path, raw_params: dict[str, Any], metrics: dict[str, Any]) -> str:
    """A git repository at `root` whose commit holds the baseline's params and metrics."""
    (root / paths.EVALUATE_METRICS).parent.mkdir(parents=True, exist_ok=True)
    (root / paths.EVALUATE_METRICS).write_text(json.dumps(metrics))
    (root / "params.yaml").write_text(yaml.safe_dump(raw_params, sort_keys=False))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "main"], cwd=root, check=True)
    return module("review.baseline").resolve_ref("main")


def inputs_for(commit: str, current: dict[str, Any], split: str) -> Any:
    """The report's inputs: the baseline's metrics read from git, the test split's hashes."""
    return report.ReportInputs(
        commit=commit,
        current={"metrics": current, "gate": {"rules": []}, "data": {}},
        params_diff={},
        metrics_diff={},
        base_metrics=module("review.baseline").show_json(commit, paths.EVALUATE_METRICS),
        base_lock=None,
        current_lock=None,
        base_hashes={paths.TEST_DATA.as_posix(): "aaaa"},
        current_hashes={paths.TEST_DATA.as_posix(): split},
    )


def row(text: str, metric: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {metric}"))


def table_metrics(text: str) -> list[str]:
    """The metric column of the comparison table, in order (↓ marks dropped)."""
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]  # not the header
    return [line.split("|")[1].strip().removesuffix(" ↓") for line in rows]


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_a_same_task_baseline_is_compared_on_the_task_metrics(
    task: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    raw = task_params(task)
    before, after = SIDES[task]
    commit = baseline_repo(tmp_path, raw, metrics_file(task, before))
    params = config.parse_params(raw)
    # Another test split than the baseline's (the data changed): the unpaired comparison.
    found = report.compare_with_baseline(
        params, inputs_for(commit, metrics_file(task, after), "bbbb"), "local"
    )
    names, worse, better = EXPECTED[task]
    assert found.mode == comparison.UNPAIRED
    assert found.why == "The test split differs from the baseline's (data or split changed)."
    assert list(found.metrics) == names
    # Both sides' intervals have half-width 0.1: the difference's is 0.1 * sqrt(2) wide.
    spread = math.hypot(0.2 / (2 * Z), 0.2 / (2 * Z)) * Z
    for name in names:
        c = found.metrics[name]
        assert (c.baseline.value, c.current.value) == (before[name], after[name])
        delta = after[name] - before[name]
        assert c.difference.value == pytest.approx(delta)
        assert c.difference.ci_low == pytest.approx(delta - spread, abs=1e-5)
        assert c.difference.ci_high == pytest.approx(delta + spread, abs=1e-5)

    verdict = gate.pr_verdict(
        {"rules": []},
        found.metrics,
        params.evaluate.comparison.tolerance,
        comparison=found.mode,
        baseline={"ref": "main", "commit": commit},
    )
    assert [r["metric"] for r in verdict["rules"]] == names
    assert [r["metric"] for r in verdict["rules"] if not r["passed"]] == [worse]
    assert verdict["passed"] is False

    text = sections.metrics_section(found.metrics, found.mode, 0.95, "main", found.why)
    assert "**Comparison: unpaired.**" in text
    assert row(text, worse).rstrip(" |").endswith("**worse**")
    assert row(text, worse).startswith(f"| {worse} ↓ |")  # both worse ones: lower is better
    assert row(text, better).rstrip(" |").endswith("| better")
    unchanged = [n for n in names if n not in (worse, better)]
    assert all(row(text, n).rstrip(" |").endswith("no significant change") for n in unchanged)
    assert f"| {worse} ↓ | {before[worse]:.4f} [" in text
    assert table_metrics(text) == names  # the task's, none of binary's


def test_a_baseline_of_another_task_is_not_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before, _ = SIDES["multiclass"]
    commit = baseline_repo(tmp_path, task_params("multiclass"), metrics_file("multiclass", before))
    params = config.parse_params(task_params("regression"))
    current = metrics_file("regression", SIDES["regression"][1])
    found = report.compare_with_baseline(params, inputs_for(commit, current, "aaaa"), "local")
    assert found.mode == comparison.NOT_COMPARABLE
    assert "`data.task` `multiclass` → `regression`" in found.why
    assert all(c.baseline is None for c in found.metrics.values())
    assert gate.regression_rules(found.metrics, 0.0) == []


def regression_outputs(n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets, a good model's predictions (small errors) and a worse one's (errors x 3)."""
    rng = np.random.default_rng(0)
    y = rng.normal(50, 10, n)
    error = rng.normal(0, 2, n)
    return y, y + error, y + 3 * error


def multiclass_outputs(n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class indices, a confident right model's probabilities and a hedging one's."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, n)
    good = np.full((n, 3), 0.1)
    good[np.arange(n), labels] = 0.8
    hedging = np.full((n, 3), 0.3)
    hedging[np.arange(n), labels] = 0.4
    return labels, good, hedging


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_paired_same_task_comparison_flags_a_worse_model(task: str) -> None:
    params = config.parse_params(task_params(task))
    names = report.comparison_metrics(params)
    labels, good, bad = (regression_outputs if task == "regression" else multiclass_outputs)()

    def paired(current: np.ndarray, baseline: np.ndarray) -> dict:
        return comparison.paired_of(
            task_values(task, labels, current, classes=CLASSES),
            task_values(task, labels, baseline, classes=CLASSES),
            len(labels),
            names,
            resamples=200,
            confidence_level=0.95,
            seed=1,
        )

    same = paired(good, good.copy())
    assert all(c.difference.value == 0.0 for c in same.values())
    assert all(r["passed"] for r in gate.regression_rules(same, 0.01))

    worse = paired(bad, good)
    # The proper score, computed here from its definition: the PR's model is worse by this.
    if task == "regression":
        proper = "rmse"
        delta = np.sqrt(np.mean((bad - labels) ** 2)) - np.sqrt(np.mean((good - labels) ** 2))
    else:
        proper = "log_loss"
        delta = math.log(0.8) - math.log(0.4)  # -log(p of the true class), every row alike
    assert worse[proper].difference.value == pytest.approx(delta, abs=1e-5)
    assert worse[proper].difference.ci_low > 0.01  # lower is better: worse is positive
    failed = [r["metric"] for r in gate.regression_rules(worse, 0.01) if not r["passed"]]
    assert proper in failed
    text = sections.metrics_section(worse, comparison.PAIRED, 0.95, "main", "")
    assert "paired bootstrap" in text
    assert row(text, proper).rstrip(" |").endswith("**worse**")
    assert table_metrics(text) == names


@pytest.mark.parametrize(
    ("task", "listed", "compared"),
    [
        # The generated default (binary's list) in a project of another task: its defaults.
        ("multiclass", ["roc_auc", "pr_auc", "log_loss", "brier", "f1"],
         ["log_loss", "f1_macro", "accuracy", "roc_auc_ovr"]),
        ("regression", ["roc_auc", "pr_auc", "log_loss", "brier", "f1"], ["rmse", "mae", "r2"]),
        # A mixed list: the task's defaults, then the listed ones the task has.
        ("multiclass", ["f1_weighted", "roc_auc"],
         ["log_loss", "f1_macro", "accuracy", "roc_auc_ovr", "f1_weighted"]),
        # A list of the task's own metrics is taken as written.
        ("multiclass", ["accuracy", "log_loss"], ["accuracy", "log_loss"]),
        ("regression", ["mape", "rmse"], ["mape", "rmse"]),
    ],
)  # fmt: skip
def test_the_compared_metrics_are_the_tasks(task: str, listed: list, compared: list) -> None:
    raw = task_params(task)
    raw["evaluate"]["comparison"]["metrics"] = listed
    assert report.comparison_metrics(config.parse_params(raw)) == compared


def test_the_report_spells_classes_as_the_data_config_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Per-class metric keys stay compared (`recall_class a`); the report shows `Class A`."""
    raw = task_params("multiclass")
    written = ["Class A", "class b", " HIGH "]
    raw["data"]["classes"] = written
    raw["data"]["columns"]["kind"]["categories"] = written
    params = config.parse_params(raw)
    assert params.data.classes == ("class a", "class b", "high")  # the keys' spelling
    change = {"old": 0.5, "new": 0.6, "diff": 0.1}
    metrics_diff = {"metrics/other.json": {f"recall_{c}": change for c in params.data.classes}}
    groups = {
        "confidence_level": 0.95,
        "min_group_size": 10,
        "columns": {
            "colour": {
                "measures": {
                    "demographic_parity": {
                        "metric": "selection_rate_class a",
                        "difference": interval(0.1),
                        "ratio": interval(0.8),
                        "higher": "red",
                        "higher_value": 0.5,
                        "lower": "blue",
                        "lower_value": 0.4,
                    }
                },
                "groups": [],
            }
        },
    }
    monkeypatch.setattr(report, "_plots", lambda *_: ([], "", {}))
    monkeypatch.setattr(report, "_read_text", lambda _: None)
    monkeypatch.setattr(report.base, "show_json", lambda *_: None)
    monkeypatch.setattr(report, "_code_changes", lambda _: [])
    monkeypatch.setattr(report, "_tuning_section", lambda _: [])
    monkeypatch.setattr(report, "_provenance_section", lambda *_: "")
    fairness = str(paths.FAIRNESS_REPORT)
    monkeypatch.setattr(
        report, "_this_and_baseline", lambda _, p: (groups if str(p) == fairness else None, None)
    )
    inputs = report.ReportInputs(
        commit="0" * 40, current={"data": {}}, params_diff={}, metrics_diff=metrics_diff,
        base_metrics=None, base_lock=None, current_lock=None, base_hashes={}, current_hashes={},
    )  # fmt: skip
    found = report.BaselineComparison(comparison.UNPAIRED, "", "", {})
    verdict = {"passed": True, "rules": []}
    text, _ = report.render_report(params, inputs, found, verdict, "main", "local")
    assert "| metrics/other.json | recall_Class A | 0.5000 |" in text
    assert "| metrics/other.json | recall_class b | 0.5000 |" in text
    assert "| metrics/other.json | recall_HIGH | 0.5000 |" in text
    assert "demographic_parity (selection_rate_Class A)" in text
    assert "recall_class a" not in text
    assert "selection_rate_class a" not in text
