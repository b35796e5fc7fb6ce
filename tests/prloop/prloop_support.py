"""Shared by the pull-request loop's tests: a project with a DVC remote and PR branches.

Imported by the test modules (not a conftest: several folders without __init__.py would
clash on the module name), it also puts tests/workflows on sys.path for `harness`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))

from conftest import clone_project, run, uv_run
from harness import WorkflowRun, pull_request_event, run_workflow

# Each PR branch: (files to edit: {path: (old text, new text)}, commit message). A branch that
# changes conf/ also commits what its author's `make params` and `dvc repro train` wrote
# (params.yaml, dvc.lock), as the pull-request loop asks: `make lint` checks params.yaml, and the
# committed dvc.lock records the md5 of the model the review sees.
BRANCHES = {
    "tune": (
        {
            "conf/model/xgboost.yaml": ("max_depth: 5", "max_depth: 4"),
            "conf/train/default.yaml": ("cv_folds: 5", "cv_folds: 0"),
        },
        "Shallower trees; no cross-validation",
    ),
    "worse": (
        {
            "conf/model/xgboost.yaml": ("n_estimators: 400", "n_estimators: 2"),
            "conf/model/xgboost.yaml#2": ("max_depth: 5", "max_depth: 1"),
        },
        "Two stumps",
    ),
    "docs": ({"README.md": ("\n", "\n\nA line from a contributor.\n")}, "Docs only"),
}
# The generated project's own tests run in pr.yml (`make test`, 2 minutes on 2 cores); under
# act a quick module stands for the suite, except in the broken-test run, which runs it all.
QUICK_TESTS = {"PYTEST_ADDOPTS": "-q -x -k compose"}


def break_a_generated_test(project: Path) -> str:
    """Add a failing test to the first generated test file (lint-clean); return its path."""
    first = sorted((project / "tests").rglob("test_*.py"))[0]
    with first.open("a", encoding="utf-8") as file:
        file.write("\n\ndef test_broken_on_purpose() -> None:\n    assert sum([1, 1]) == 3\n")
    return str(first.relative_to(project))


def edit(project: Path, path: str, old: str, new: str) -> None:
    file = project / path.split("#")[0]
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


# Built once per session. A session fixture imported into several test modules (as this one
# is: it cannot live in a second conftest) is a fixture of each module, and pytest would build
# it once per module: the repository's two training runs and pushes twice.
_BUILT: dict[str, Path] = {}
_RUNS: dict[str, WorkflowRun] = {}


@pytest.fixture(scope="session")
def pr_repository(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the pipeline project whose `main` pushed its results and run cache to a local
    DVC remote, with one branch per scenario in BRANCHES (checked out by the tests)."""
    if "pr_repository" not in _BUILT:
        _BUILT["pr_repository"] = build_pr_repository(pipeline_project, tmp_path_factory)
    return _BUILT["pr_repository"]


def build_pr_repository(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("prloop")
    project = clone_project(pipeline_project, root / "project")
    remote = root / "dvc-remote"
    uv_run(project, "dvc", "remote", "add", "-d", "storage", str(remote))
    uv_run(project, "dvc", "push", "--run-cache", "--quiet")
    run(["git", "commit", "-qam", "Store data, models and the run cache in a DVC remote"], project)
    for branch, (edits, message) in BRANCHES.items():
        run(["git", "checkout", "-q", "-b", branch, "main"], project)
        for path, (old, new) in edits.items():
            edit(project, path, old, new)
        if any(path.startswith("conf/") for path in edits):
            run(["make", "params"], project)
            uv_run(project, "dvc", "repro", "train", timeout=900)
        run(["git", "commit", "-qam", message], project)
    run(["git", "checkout", "-q", "-b", "broken-test", "main"], project)
    break_a_generated_test(project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "A change that breaks a test"], project)
    checkout(project, "main")
    return project


def tune_run(project: Path, tmp_path_factory: pytest.TempPathFactory) -> WorkflowRun:
    """pr.yml on the `tune` branch as pull request 7, run once per session: the loop's report
    tests read it, and the promotion tests merge that branch and compare main's model with it."""
    if "tune" not in _RUNS:
        checkout(project, "tune")
        event = pull_request_event(7, "tune")
        work = tmp_path_factory.mktemp("tune")
        _RUNS["tune"] = run_workflow(
            project, "pr.yml", "pull_request", event, work_dir=work, env=QUICK_TESTS
        )
    return _RUNS["tune"]


def checkout(project: Path, branch: str) -> None:
    """Check out `branch` and its DVC outputs (a branch that re-ran `train` left its model)."""
    run(["git", "checkout", "-q", branch], project)
    uv_run(project, "dvc", "checkout", "--quiet")
    assert not run(["git", "status", "--porcelain"], project).stdout.strip()


def remote_dir(project: Path) -> Path:
    return project.parent / "dvc-remote"


def move_away(path: Path) -> Path:
    hidden = path.with_name(path.name + ".unreachable")
    shutil.move(path, hidden)
    return hidden
