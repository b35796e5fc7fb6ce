"""`monitor.yml` run with act on the host: one issue created then updated, nothing without drift,
the retraining pull request through `cml pr create`; plus the static checks act cannot make.

GitHub is a strict `gh` stand-in (`stand_ins/gh`) keeping labels and issues in a JSON file that
persists across runs. The project is a clone of `pipeline_project` with a local DVC remote, so
the workflow restores the model of `main` with `dvc repro --pull` instead of retraining.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import bake, clone_project, run, uv_run
from workflows.harness import missing_stand_ins, run_workflow

STAND_INS = Path(__file__).resolve().parent / "stand_ins"
REPOSITORY = "example-owner/term-deposit-model"
WORKFLOW = "monitor.yml"


@pytest.fixture(scope="module")
def project(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("monitor-workflow")
    clone = clone_project(pipeline_project, root / "project")
    uv_run(clone, "dvc", "remote", "add", "-d", "storage", str(root / "remote"))
    uv_run(clone, "dvc", "push", "--quiet")
    run(["git", "commit", "-qam", "Use a local DVC remote"], clone)
    return clone


class GitHub:
    """The gh stand-in's state and call log, shared by consecutive runs."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.state, self.log = folder / "gh-state.json", folder / "gh-calls.jsonl"

    def env(self) -> dict[str, str]:
        tools = [str(Path(shutil.which(t) or "/usr/bin/" + t).parent) for t in ("git", "make")]
        path = [str(STAND_INS), *tools, "/usr/local/bin", "/usr/bin", "/bin"]
        # This machine reaches the package index through a proxy with its own CA: keep it.
        passed = {k: os.environ[k] for k in ("SSL_CERT_FILE", "SSL_CERT_DIR") if k in os.environ}
        return {
            **passed,
            "PATH": os.pathsep.join(dict.fromkeys(path)),
            "STANDIN_GH_STATE": str(self.state),
            "STANDIN_GH_LOG": str(self.log),
        }

    def issues(self) -> list[dict]:
        if not self.state.is_file():
            return []
        return json.loads(self.state.read_text())["repositories"][REPOSITORY]["issues"]

    def calls(self) -> list[list[str]]:
        if not self.log.is_file():
            return []
        return [json.loads(line)["argv"] for line in self.log.read_text().splitlines()]


def ran(result) -> dict[str, str]:
    """The jobs that ran and their results (act does not report a job skipped by its `if:`)."""
    return {job: outcome for job, outcome in result.jobs.items() if outcome != "skipped"}


def monitor_run(project: Path, work: Path, github: GitHub, **kwargs):
    result = run_workflow(
        project, WORKFLOW, "schedule", {"schedule": "17 6 * * 1"},
        work_dir=work, env=github.env(), repository=REPOSITORY, **kwargs,
    )  # fmt: skip
    return result


def retrain_switch(project: Path, on: bool) -> None:
    """Commit drift.retrain_pr: true (conf/ and params.yaml), or drop that commit again."""
    if not on:
        run(["git", "reset", "-q", "--hard", "HEAD~1"], project)
        return
    for path in (project / "conf" / "drift" / "default.yaml", project / "params.yaml"):
        text = path.read_text()
        assert "retrain_pr: false" in text
        path.write_text(text.replace("retrain_pr: false", "retrain_pr: true"))
    run(["git", "commit", "-qam", "Open retraining pull requests"], project)


def test_alarm_opens_one_issue_then_updates_it_and_opens_a_retraining_pr(
    project: Path, tmp_path: Path
) -> None:
    github = GitHub(tmp_path / "github")
    first = monitor_run(project, tmp_path / "run1", github)
    assert ran(first) == {"check": "success", "alarm": "success"}, first.summary()
    summary = (first.artifacts / "monitor-reports" / "summary.md").read_text()
    assert summary.startswith("## Drift monitor: **alarm**")
    assert "| `2010-09.csv.gz` | 635 |" in summary  # the newest batch only
    assert "2010-06.csv.gz" not in summary
    assert (first.artifacts / "monitor-reports" / "2010-09.html").stat().st_size > 100_000
    assert "/example-owner/term-deposit-model/actions/runs/" in summary  # link to the reports
    issues = github.issues()
    assert len(issues) == 1
    assert issues[0]["labels"] == ["drift"]
    assert issues[0]["body"] == summary
    assert issues[0]["edits"] == 0
    assert first.cml_calls == []

    # Second run, with the retraining switch on (drift.retrain_pr: true).
    retrain_switch(project, on=True)
    try:
        second = monitor_run(project, tmp_path / "run2", github, secrets={"REPO_TOKEN": "pat"})
    finally:
        retrain_switch(project, on=False)
    assert ran(second) == {"check": "success", "alarm": "success", "retrain": "success"}, (
        second.summary()
    )
    issues = github.issues()
    assert len(issues) == 1, "a second alarm must update the open issue, not open another"
    assert issues[0]["edits"] == 1
    assert len(issues[0]["comments"]) == 1
    assert "`2010-09.csv.gz`" in issues[0]["comments"][0]
    commands = [call[:2] for call in github.calls()]
    assert commands == [
        ["label", "create"], ["issue", "list"], ["issue", "create"],
        ["label", "create"], ["issue", "list"], ["issue", "edit"], ["issue", "comment"],
    ]  # fmt: skip

    assert len(second.cml_calls) == 1
    call = second.cml_calls[0]
    assert call["command"] == "pr create"
    branch = call["options"]["branch"]
    assert re.fullmatch(r"retrain/2010-09-run\d+-\d+", branch), branch  # unique to the run
    pushed = run(["git", "ls-remote", "origin", f"refs/heads/{branch}"], project).stdout
    assert pushed.strip(), f"{branch} was not pushed by the workflow before the PR"
    assert call["options"] == {
        "branch": branch,
        "target-branch": "main",
        "title": "Retrain with the new batch 2010-09.csv.gz",
        "body": (
            "The drift monitor raised the alarm on `2010-09.csv.gz`. This pull request adds the "
            "batch to the training data; the pull-request workflow evaluates the retrained "
            "model against main."
        ),
        "message": "Add batch 2010-09.csv.gz to the training data",
        "user-name": "drift-monitor[bot]",
        "user-email": "drift-monitor@users.noreply.github.com",
        "publish": False,
        "globs": call["options"]["globs"],
    }
    # Exactly the two files `incorporate` changes, nothing else of the workspace.
    assert sorted(call["options"]["globs"]) == [
        "data/incoming/ADDED",
        "data/raw/bank-additional-full.csv.gz",
    ]
    assert call["token_source"] == "REPO_TOKEN"
    assert call["ITERATIVE_DO_NOT_TRACK"] == "1"
    # act removes the job's workspace after the run; what `incorporate` writes into those two
    # files is checked by the generated project's tests (tests/test_monitor.py).
    assert "added 635 rows of 2010-09.csv.gz" in second.log("retrain")


def test_no_drift_opens_nothing(project: Path, tmp_path: Path) -> None:
    """A newest batch drawn at random from the whole sample: the training split's world."""
    raw = project / "data" / "raw" / "bank-additional-full.csv.gz"
    text = gzip.decompress(raw.read_bytes()).decode()
    header, *rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    chosen = random.Random(3).sample(rows, 3000)
    batch = project / "data" / "incoming" / "2099-01.csv"
    with batch.open("w", newline="") as handle:
        csv.writer(handle, delimiter=";", quoting=csv.QUOTE_NONNUMERIC).writerows([header, *chosen])
    try:
        github = GitHub(tmp_path / "github")
        result = monitor_run(project, tmp_path / "run", github)
    finally:
        batch.unlink()
    assert ran(result) == {"check": "success"}, result.summary()
    summary = json.loads((result.artifacts / "monitor-reports" / "summary.json").read_text())
    assert summary["newest_batch"] == "2099-01.csv"
    assert summary["alarm"] is False
    assert github.calls() == []
    assert github.issues() == []


def test_static_checks(project: Path) -> None:
    workflow = project / ".github" / "workflows" / WORKFLOW
    assert missing_stand_ins([workflow]) == {}
    document = yaml.safe_load(workflow.read_text())
    triggers = document[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert document["permissions"] == {}
    jobs = document["jobs"]
    assert jobs["check"]["permissions"] == {"contents": "read"}
    assert jobs["alarm"]["permissions"] == {"issues": "write"}
    assert jobs["retrain"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert jobs["retrain"]["environment"] == "retrain"
    for job in jobs.values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"] == {"persist-credentials": False}, step
    assert jobs["check"]["environment"] == "dvc-remote"
    assert not any("uses" in s and "checkout" in s["uses"] for s in jobs["alarm"]["steps"])
    text = workflow.read_text()
    assert "${{ github.event" not in text
    for step in (s for job in jobs.values() for s in job["steps"] if "run" in s):
        assert "${{" not in step["run"], step["run"]
    zizmor = subprocess.run(
        ["zizmor", "--offline", "--no-progress", str(workflow)], capture_output=True, text=True
    )
    assert zizmor.returncode == 0, zizmor.stdout + zizmor.stderr
    schema = subprocess.run(
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert schema.returncode == 0, schema.stdout + schema.stderr


@pytest.fixture(scope="module")
def rendered_workflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated monitor.yml (rendered: its PII key secret carries the package's name)."""
    project = bake(tmp_path_factory.mktemp("monitor-bake"), create_git_repository="no")
    return project / ".github" / "workflows" / WORKFLOW


def run_block(workflow: Path, job: str, name_start: str) -> str:
    steps = yaml.safe_load(workflow.read_text())["jobs"][job]["steps"]
    (step,) = [s for s in steps if s.get("name", "").startswith(name_start)]
    return step["run"]


@pytest.mark.parametrize("length", [1_000, 65_536, 200_000])
def test_the_issue_body_is_capped_at_githubs_limit(
    rendered_workflow: Path, tmp_path: Path, length: int
) -> None:
    """The alarm job's own script: a summary of any length gives a body GitHub accepts."""
    (tmp_path / "monitor-reports").mkdir()
    summary = ("| `batch` | 635 | drifted |\n" * (length // 26 + 1))[:length]
    (tmp_path / "monitor-reports" / "summary.md").write_text(summary, encoding="utf-8")
    script = run_block(rendered_workflow, "alarm", "Cap the issue body")
    subprocess.run(["bash", "-c", script], cwd=tmp_path, check=True)
    body = (tmp_path / "issue-body.md").read_text(encoding="utf-8")
    assert len(body) <= 65_536
    if length <= 65_536:
        assert body == summary
    else:
        assert body.endswith("monitor-reports` artifact._\n")
        assert summary.startswith(body.split("\n\n_Cut here")[0])


def test_the_retraining_pr_takes_any_file_name(rendered_workflow: Path, tmp_path: Path) -> None:
    """The retrain job's file list is NUL-separated: quoted, spaced or newline names survive
    (`git status --porcelain | cut` quoted them and split on newlines)."""
    script = run_block(rendered_workflow, "retrain", "Open the retraining pull request")
    (line,) = [s for s in script.splitlines() if "mapfile" in s]
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    names = ['a "quoted".csv', "with space.csv", "new\nline.csv", "plain.csv"]
    for name in names:
        (repo / name).write_text("x\n", encoding="utf-8")
    listed = subprocess.run(
        ["bash", "-c", line + '\nprintf "%s\\0" "${changed[@]}"'],
        cwd=repo, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert sorted(listed.stdout.rstrip("\0").split("\0")) == sorted(names)


# --- the retraining branch cannot be squatted (issue 22) ---

CML_RECORDER = """#!/bin/sh
printf '%s\\n' "$*" >> "$CML_LOG"
"""


def retrain_step(rendered_workflow: Path, tmp_path: Path, squat: bool) -> dict:
    """The retrain job's last step in a real clone (the batch added, on `main`) whose origin is a
    bare repository; with `squat`, an insider pushed the branch the run will use beforehand."""
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], tmp_path)
    run(["git", "clone", "-q", str(origin), str(clone)], tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    (clone / "train.csv").write_text("a\n1\n", encoding="utf-8")
    run(["git", "add", "train.csv"], clone)
    run([*git, "commit", "-qm", "data"], clone)
    run(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], clone)
    branch = "retrain/2010-09-run77-1"
    if squat:
        run(["git", "switch", "-qc", "squat"], clone)
        (clone / "train.csv").write_text("a\n666\n", encoding="utf-8")
        run([*git, "commit", "-qam", "the insider's data"], clone)
        run(["git", "push", "-q", "origin", f"HEAD:refs/heads/{branch}"], clone)
        run(["git", "switch", "-q", "main"], clone)
    squatted = run(["git", "ls-remote", str(origin)], tmp_path).stdout
    (clone / "train.csv").write_text("a\n1\n2\n", encoding="utf-8")  # make incorporate
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cml").write_text(CML_RECORDER, encoding="utf-8")
    (bin_dir / "cml").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "CML_LOG": str(tmp_path / "cml.log"), "REPO_TOKEN": "pat", "BATCH": "2010-09.csv.gz",
           "TARGET": "main", "GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "1"}  # fmt: skip
    script = run_block(rendered_workflow, "retrain", "Open the retraining pull request")
    done = subprocess.run(["bash", "-e", "-c", script], cwd=clone, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    cml = tmp_path / "cml.log"
    return {
        "done": done, "branch": branch, "origin": origin, "before": squatted,
        "cml": cml.read_text().splitlines() if cml.exists() else [],
    }  # fmt: skip


def test_a_pre_pushed_retraining_branch_is_refused(rendered_workflow: Path, tmp_path: Path) -> None:
    step = retrain_step(rendered_workflow, tmp_path, squat=True)
    assert step["done"].returncode != 0
    assert f"could not create {step['branch']} on the remote" in step["done"].stdout
    assert step["cml"] == []  # no pull request opened from the insider's branch
    after = run(["git", "ls-remote", str(step["origin"])], tmp_path).stdout
    assert after == step["before"]  # the insider's branch untouched, nothing else pushed


def test_the_retraining_branch_is_pushed_by_the_run_then_the_pr_opened(
    rendered_workflow: Path, tmp_path: Path
) -> None:
    step = retrain_step(rendered_workflow, tmp_path, squat=False)
    assert step["done"].returncode == 0, step["done"].stdout + step["done"].stderr
    origin, branch = step["origin"], step["branch"]
    shown = run(["git", "show", f"{branch}:train.csv"], origin).stdout
    assert shown == "a\n1\n2\n"
    author = run(["git", "log", "-1", "--format=%an", branch], origin).stdout.strip()
    assert author == "drift-monitor[bot]"
    (call,) = step["cml"]
    assert call.startswith(f"pr create --branch {branch} --target-branch main --title ")
