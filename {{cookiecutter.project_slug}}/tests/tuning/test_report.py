"""The tuning report: the PR comment's section, and the charts' data."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import module

report = module("tuning.report")

SUMMARY = {
    "study": "default",
    "sampler": "tpe",
    "seed": 3,
    "metric": "cv_logloss_mean",
    "direction": "minimize",
    "cv_folds": 2,
    "counts": {"complete": 3, "pruned": 1, "fail": 0},
    "best": {"number": 2, "value": 0.25, "params": {"model.max_depth": 4}, "rounds": 30},
    "space": {"model.max_depth": {"type": "int", "low": 2, "high": 8}},
    "importances": {},
}
TRIALS = [
    {"number": 0, "state": "complete", "value": 0.3, "params": {"model.max_depth": 2}, "rounds": 9},
    {
        "number": 1,
        "state": "pruned",
        "value": None,
        "params": {"model.max_depth": 8},
        "rounds": None,
    },
    {
        "number": 2,
        "state": "complete",
        "value": 0.25,
        "params": {"model.max_depth": 4},
        "rounds": 30,
    },
    {
        "number": 3,
        "state": "complete",
        "value": 0.28,
        "params": {"model.max_depth": 5},
        "rounds": 20,
    },
]


def test_the_history_chart_shows_each_completed_trial_and_the_best_so_far() -> None:
    chart = report.history_chart(SUMMARY, TRIALS)
    assert 'x-axis "trial" [0, 2, 3]' in chart
    assert "line [0.3, 0.25, 0.28]" in chart
    assert "line [0.3, 0.25, 0.25]" in chart


def test_the_trials_table_lists_the_best_first() -> None:
    rows = report.trials_table(SUMMARY, TRIALS)
    body = [row for row in rows if row.startswith("| ") and row[2].isdigit()]
    assert [row.split("|")[1].strip() for row in body] == ["2", "3", "0"]


def test_the_pr_section_summarises_the_study(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(SUMMARY))
    (tmp_path / "summary.md").write_text("THE STUDY REPORT")
    section = report.pr_section(summary)
    assert "3 trials completed and 1 pruned" in section
    assert "cv_logloss_mean = 0.25 (trial 2)" in section
    assert "THE STUDY REPORT" in section
    missing = report.pr_section(tmp_path / "absent.json")
    assert "reports/tune/summary.json` is missing" in missing
