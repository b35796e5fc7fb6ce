"""The pull-request loop, run for real with act: pr.yml on PR branches, pr-comment.yml after it.

One project (a clone of the pipeline project with a local DVC remote holding main's results and
run cache) and four pull requests: a parameter change, a clearly worse model, a fork's
docs-only change without access to the remote, and a change that breaks a generated test.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
from pathlib import Path

import prloop_support  # noqa: F401  (first: puts tests/workflows on sys.path)
import pytest
from harness import (
    WorkflowRun,
    github_api_env,
    pull,
    pull_request_event,
    run_workflow,
    workflow_run_event,
)
from markdown_it import MarkdownIt
from prloop_support import (
    QUICK_TESTS,
    checkout,
    move_away,
    pr_repository,
    remote_dir,
    tune_run,
)

__all__ = ["pr_repository"]  # the fixture, used by name

pytestmark = pytest.mark.e2e
REPORT = "pr-report/pr_report.md"
DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "pr_report.md"


def pr_run(
    project: Path,
    work: Path,
    branch: str,
    number: int,
    fork: bool = False,
    env=QUICK_TESTS,
    cache: Path | None = None,
) -> WorkflowRun:
    checkout(project, branch)
    event = pull_request_event(number, branch, fork=fork)
    return run_workflow(
        project, "pr.yml", "pull_request", event, work_dir=work, env=env, cache=cache
    )


HEAD = "ab" * 20  # the pull request run's head commit, as the workflow_run event says


def comment_run(
    project: Path, work: Path, artifacts: Path, numbers: list[int], pulls: list[dict], fork=False
) -> WorkflowRun:
    """pr-comment.yml after a run of HEAD; GitHub's API lists `pulls` as open."""
    head_repository = "contributor/term-deposit-model" if fork else None
    event = workflow_run_event(
        4242, numbers, workflow="pull request", head_sha=HEAD, head_repository=head_repository
    )
    return run_workflow(
        project, "pr-comment.yml", "workflow_run", event, work_dir=work, artifacts=artifacts,
        env=github_api_env(work / "gh", pulls),
    )  # fmt: skip


def table_row(report: str, first_cell: str) -> list[str]:
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row starting with {first_cell!r} in the report")


INTERVAL = r"\d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\]"


@pytest.fixture(scope="module")
def tune(pr_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> WorkflowRun:
    return tune_run(pr_repository, tmp_path_factory)


def test_a_parameter_change_gets_a_report_comparing_both_sides(tune: WorkflowRun) -> None:
    assert tune.jobs == {"experiment": "success"}, tune.summary()
    report = (tune.artifacts / REPORT).read_text(encoding="utf-8")
    assert table_row(report, "`model.max_depth`")[1:3] == ["`5`", "`4`"]
    assert table_row(report, "`train.cv_folds`")[1:3] == ["`5`", "`0`"]
    assert "**Comparison: paired bootstrap.**" in report
    for metric in ("roc_auc", "pr_auc", "log_loss ↓"):
        row = table_row(report, metric)
        assert re.fullmatch(INTERVAL, row[1]), row  # baseline
        assert re.fullmatch(INTERVAL, row[2]), row  # this PR
        assert re.fullmatch(r"[+-]\d\.\d{4} \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\]", row[3]), row
    assert "pulled from the DVC remote" in report
    assert "restored from the DVC cache / remote" in report
    assert (tune.artifacts / "pr-report" / "pr_number").read_text() == "7\n"
    # The project's lint and tests ran first; the committed dvc.lock records the trained model.
    assert tune.step("experiment", "checks").result == "success"
    assert tune.outputs["experiment"]["cache-hit"] == "false"  # no record of this tree yet
    assert "Cache saved with key: pr-checks-" in tune.log("experiment")
    assert "model-check: models/model.ubj md5" in tune.log("experiment")
    assert tune.step("experiment", "Enforce the quality gate").result == "success"
    assert any("Push the run cache" in s.name and s.result == "success" for s in tune.steps)


def test_the_report_is_valid_markdown_under_the_comment_limit(tune: WorkflowRun) -> None:
    report = (tune.artifacts / REPORT).read_text(encoding="utf-8")
    assert len(report) <= 65_536
    tokens = MarkdownIt("commonmark").enable("table").parse(report)
    assert sum(t.type == "table_open" for t in tokens) >= 4
    fences = [t for t in tokens if t.type == "fence"]
    assert [t.info for t in fences] == ["mermaid"] * 4  # 3 plots, the attributions
    assert all("xychart-beta" in t.content for t in fences)


def headings(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


def test_the_docs_example_is_a_report_of_this_shape(tune: WorkflowRun) -> None:
    """docs/examples/pr_report.md is generated (PRLOOP_WRITE_DOCS=1 rewrites it from this run)."""
    report = (tune.artifacts / REPORT).read_text(encoding="utf-8")
    if os.environ.get("PRLOOP_WRITE_DOCS") == "1":
        DOCS_EXAMPLE.parent.mkdir(parents=True, exist_ok=True)
        DOCS_EXAMPLE.write_text(report, encoding="utf-8")
    example = DOCS_EXAMPLE.read_text(encoding="utf-8")
    assert headings(example) == headings(report), "stale docs example: PRLOOP_WRITE_DOCS=1"
    assert table_row(example, "`model.max_depth`")[1:3] == ["`5`", "`4`"]


def test_the_comment_workflow_posts_that_report_with_cml(
    tune: WorkflowRun, pr_repository: Path, tmp_path: Path
) -> None:
    posted = comment_run(pr_repository, tmp_path, tune.artifacts, [7], [pull(7, HEAD)])
    assert posted.jobs == {"comment": "success"}, posted.summary()
    (call,) = posted.cml_calls  # no comment of the workflow's yet: CML creates one
    *flags, report = call["argv"]
    assert flags == ["comment", "create", "--target=pr/7", "--no-publish"]
    assert call["uploads"] == []
    assert report.endswith("/report-comment.md")
    header, body = call["body"].split("\n\n", 1)
    assert header.startswith("<!-- model-report: owned by the pull request comment workflow -->")
    assert "generated by this pull request's code" in header
    assert "which succeeded." in header
    script = runpy.run_path(str(pr_repository / "scripts" / "report_comment.py"))
    report_text = (tune.artifacts / REPORT).read_text(encoding="utf-8")
    assert body.rstrip("\n") == script["clean"](report_text).rstrip("\n")  # the whole report
    assert "## " in body
    assert "|---" in body
    assert call["ITERATIVE_DO_NOT_TRACK"] == "1"
    assert call["token_source"] == "REPO_TOKEN"


def test_a_re_run_skips_the_checks_that_passed(
    tune: WorkflowRun, pr_repository: Path, tmp_path: Path
) -> None:
    """The same pull request's tree again (a re-run): the record that its lint and tests passed
    skips them, and `prepare`, whose inputs did not change, is not run again. (`train` and the
    later stages still run again here: the run cache does not restore `train` in this harness,
    cause not yet found, and stages with `cache: false` outputs cannot be restored since
    `dvc push --run-cache` pushes cached outputs' objects only; see docs/pr-loop.md.)"""
    again = pr_run(pr_repository, tmp_path, "tune", 7, cache=tune.artifacts.parent / "cache")
    assert again.jobs == {"experiment": "success"}, again.summary()
    assert again.outputs["experiment"]["cache-hit"] == "true"
    assert not any(s.step_id == "checks" and s.result == "success" for s in again.steps)
    log = again.log("experiment")
    assert "Cache saved" not in log
    assert "Stage 'prepare' didn't change, skipping" in log, log[-3000:]
    assert "Running stage 'prepare'" not in log, log[-3000:]
    report = (again.artifacts / REPORT).read_text(encoding="utf-8")
    assert table_row(report, "`model.max_depth`")[1:3] == ["`5`", "`4`"]


def test_a_clearly_worse_model_fails_the_gate_after_uploading_the_report(
    pr_repository: Path, tmp_path: Path
) -> None:
    worse = pr_run(pr_repository, tmp_path, "worse", 8)
    assert worse.jobs == {"experiment": "failure"}, worse.summary()
    assert worse.step("experiment", "report").result == "success"
    assert worse.step("experiment", "Enforce the quality gate").result == "failure"
    report = (worse.artifacts / REPORT).read_text(encoding="utf-8")
    assert "### Quality gate: ❌ FAIL" in report
    failing = next(line for line in report.splitlines() if line.startswith("Failing:"))
    assert "`roc_auc: no regression vs baseline" in failing
    assert table_row(report, "roc_auc")[4] == "**worse**"


def test_a_fork_pull_request_without_the_remote_still_gets_a_report(
    pr_repository: Path, tmp_path: Path
) -> None:
    hidden = move_away(remote_dir(pr_repository))  # no credentials: nothing reachable
    try:
        fork = pr_run(pr_repository, tmp_path / "run", "docs", 9, fork=True)
    finally:
        shutil.move(hidden, remote_dir(pr_repository))
    assert fork.jobs == {"experiment": "success"}, fork.summary()
    assert fork.outputs["experiment"]["status"] == "unavailable"
    ran = {s.name for s in fork.steps}
    assert not any(name.startswith(("Pull data", "Push the run cache")) for name in ran)
    report = (fork.artifacts / REPORT).read_text(encoding="utf-8")
    assert "no DVC remote credentials in this run" in report
    # Training had the same inputs as main's: the deterministic pipeline made main's model.
    assert "this tree's (its `train` stage had the same inputs in dvc.lock)" in report
    assert table_row(report, "roc_auc")[3] == "+0.0000 [+0.0000, +0.0000]"
    assert "No parameter changed." in report
    assert table_row(report, "`README.md`")[1] == "modified"
    # GitHub lists no pull request in a fork's workflow_run event: the API finds it by head.
    fork_pull = pull(9, HEAD, "contributor/term-deposit-model")
    posted = comment_run(pr_repository, tmp_path / "comment", fork.artifacts, [], [fork_pull], True)
    assert posted.jobs == {"comment": "success"}, posted.summary()
    assert posted.cml_calls[0]["options"]["target"] == "pr/9"


def test_a_broken_generated_test_fails_the_job_before_the_experiment(
    pr_repository: Path, tmp_path: Path
) -> None:
    """Issue 10: pr.yml runs the project's own `make lint` and `make test` (the whole suite,
    stopping at the first failure) before the expensive experiment."""
    broken = pr_run(pr_repository, tmp_path, "broken-test", 10, env={"PYTEST_ADDOPTS": "-x"})
    assert broken.jobs == {"experiment": "failure"}, broken.summary()
    assert broken.step("experiment", "checks").result == "failure"
    assert "test_broken_on_purpose" in broken.log("experiment")
    ran = {s.step_id for s in broken.steps if s.result == "success"}
    assert not ran & {"experiment", "report"}, ran
    assert not (broken.artifacts / "pr-report").exists()
    assert not any((tmp_path / "cache").iterdir())  # no record: a re-run tests again
