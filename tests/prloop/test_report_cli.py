"""The report's command line in a baked project: unit tests, lint, and a bad baseline."""

from __future__ import annotations

from pathlib import Path

import prloop_support  # noqa: F401
from conftest import DEFAULT_PACKAGE, run, uv_run
from prloop_support import checkout, pr_repository

__all__ = ["pr_repository"]

MY_FILES = [
    f"src/{DEFAULT_PACKAGE}/{name}.py"
    for name in (
        "review/baseline",
        "review/report",
        "review/sections",
        "model/comparison",
        "model/gate",
        "text/charts",
        "text/markdown",
    )
] + ["tests/review/test_report.py"]


def test_the_generated_report_tests_pass_and_are_lint_clean(default_project: Path) -> None:
    uv_run(default_project, "pytest", "-q", "-p", "no:cacheprovider", "tests/review/test_report.py")
    uv_run(default_project, "ruff", "check", *MY_FILES)
    uv_run(default_project, "ruff", "format", "--check", *MY_FILES)


def test_an_unknown_baseline_is_one_clear_error_and_writes_nothing(pr_repository: Path) -> None:
    checkout(pr_repository, "main")
    done = uv_run(
        pr_repository, "python", "-m", DEFAULT_PACKAGE, "report", "--baseline", "no-such-branch",
        check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("error in report: baseline 'no-such-branch' is neither")
    assert "Traceback" not in done.stderr
    assert not (pr_repository / "reports" / "pr_report.md").exists()
    assert not (pr_repository / "reports" / "pr_gate.json").exists()
    assert not (pr_repository / "reports" / "pr_report.html").exists()


def test_make_report_on_main_compares_main_with_itself(pr_repository: Path) -> None:
    checkout(pr_repository, "main")
    try:
        uv_run(pr_repository, "make", "report", timeout=300)
        report = (pr_repository / "reports" / "pr_report.md").read_text(encoding="utf-8")
        page = (pr_repository / "reports" / "pr_report.html").read_text(encoding="utf-8")
    finally:
        for name in ("pr_report.md", "pr_report.html", "pr_gate.json"):
            (pr_repository / "reports" / name).unlink(missing_ok=True)
    assert "<h3>Quality gate: ✅ PASS</h3>" in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == report.count(
        "```mermaid"
    )
    assert "### Quality gate: ✅ PASS" in report
    assert "**Comparison: paired bootstrap.**" in report
    row = next(line for line in report.splitlines() if line.startswith("| roc_auc |"))
    assert "+0.0000 [+0.0000, +0.0000] | no significant change" in row
    assert "No parameter changed." in report
    assert "No file differs from the baseline." in report


def test_without_the_remote_the_baseline_is_reproduced_in_a_worktree(pr_repository: Path) -> None:
    """`--remote unavailable` (a fork's run): main's model is rebuilt from its commit; the run
    cache in the shared DVC cache restores its stages instead of retraining."""
    checkout(pr_repository, "worse")
    try:
        uv_run(pr_repository, "dvc", "exp", "run", timeout=600)
        uv_run(pr_repository, "make", "report", env={"REMOTE": "unavailable"}, timeout=300)
        report = (pr_repository / "reports" / "pr_report.md").read_text(encoding="utf-8")
        worktrees = run(["git", "worktree", "list"], pr_repository).stdout.splitlines()
    finally:
        run(["git", "reset", "-q", "--hard"], pr_repository)
        for name in ("pr_report.md", "pr_report.html", "pr_gate.json"):
            (pr_repository / "reports" / name).unlink(missing_ok=True)
        checkout(pr_repository, "main")
    assert "its model was reproduced from its commit (dvc repro train)" in report
    assert "**Comparison: paired bootstrap.**" in report
    assert "### Quality gate: ❌ FAIL" in report
    assert "no DVC remote credentials in this run" in report
    assert len(worktrees) == 1, worktrees  # the temporary worktree was removed
