"""The act harness itself, on a tiny repository: stand-ins, artifacts, the strict cml, results."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from harness import (
    PINS,
    PINS_FILE,
    STAND_INS,
    MissingStandIn,
    missing_stand_ins,
    pull_request_event,
    run_workflow,
    stand_in_inputs,
    workflow_run_event,
)

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
SETUP_UV = "astral-sh/setup-uv@e92bafb6253dcd438e0484186d7669ea7a8ca1cc # v6.4.3"
UPLOAD = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2"
DOWNLOAD = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0"
SETUP_CML = "iterative/setup-cml@f12ea7685438c1fc438d50f77519b3860cf5fa98 # v2.0.1"

PRODUCER = f"""\
name: producer
on: pull_request
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      answer: ${{{{ steps.compute.outputs.answer }}}}
    steps:
      - uses: {CHECKOUT}
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: {SETUP_UV}
        with:
          enable-cache: true
      - id: compute
        env:
          NUMBER: ${{{{ github.event.pull_request.number }}}}
        run: |
          uv --version
          git log --oneline | wc -l > commits.txt
          mkdir -p out/sub && echo "report for $NUMBER" > out/report.md && echo x > out/sub/x.txt
          test ! -e ignored.txt
          echo "answer=42" >> "$GITHUB_OUTPUT"
      - uses: {UPLOAD}
        with:
          name: bundle
          path: |
            out/
            commits.txt
      - name: fail at the end
        run: exit 3
"""

CONSUMER = f"""\
name: consumer
on:
  workflow_run:
    workflows: [producer]
    types: [completed]
permissions: {{}}
jobs:
  post:
    runs-on: ubuntu-latest
    steps:
      - uses: {DOWNLOAD}
        with:
          name: bundle
          path: got
          run-id: ${{{{ github.event.workflow_run.id }}}}
          github-token: ${{{{ github.token }}}}
      - uses: {SETUP_CML}
        with:
          version: v0.20.6
          vega: false
      - name: post
        env:
          FLAG: ${{{{ vars.CML_FLAG }}}}
          REPO_TOKEN: ${{{{ github.token }}}}
        run: cml comment update --watermark-title="Title" --target=pr/7 $FLAG got/out/report.md
"""


def make_repository(root: Path, workflows: dict[str, str]) -> Path:
    repo = root / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    for name, text in workflows.items():
        (repo / ".github" / "workflows" / name).write_text(text, encoding="utf-8")
    (repo / ".gitignore").write_text("ignored.txt\n", encoding="utf-8")
    (repo / "ignored.txt").write_text("not copied\n", encoding="utf-8")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-qm", "one"],
        ["checkout", "-qb", "pr"],
    ):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=repo, check=True
        )
    return repo


@pytest.fixture(scope="module")
def producer_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("harness")
    repo = make_repository(root, {"producer.yml": PRODUCER, "consumer.yml": CONSUMER})
    run = run_workflow(
        repo, "producer.yml", "pull_request", pull_request_event(7, "pr"), work_dir=root / "act"
    )
    return repo, root, run


def test_a_run_reports_jobs_steps_outputs_logs_and_artifacts(producer_run) -> None:
    _, _, run = producer_run
    assert run.jobs == {"build": "failure"}, run.summary()
    assert run.returncode != 0
    assert run.step("build", "compute").result == "success"
    assert run.step("build", "fail at the end").result == "failure"
    assert run.outputs["build"]["answer"] == "42"
    assert "uv " in run.log("build")
    bundle = run.artifacts / "bundle"
    # upload-artifact v4 roots the artifact at the paths' least common ancestor.
    assert (bundle / "out" / "report.md").read_text() == "report for 7\n"
    assert (bundle / "out" / "sub" / "x.txt").is_file()
    assert int((bundle / "commits.txt").read_text()) == 1


def test_a_follow_up_run_downloads_the_artifact_and_records_cml(
    producer_run, tmp_path: Path
) -> None:
    repo, _, first = producer_run
    run = run_workflow(
        repo, "consumer.yml", "workflow_run", workflow_run_event(99, [7], workflow="producer"),
        work_dir=tmp_path, artifacts=first.artifacts, variables={"CML_FLAG": "--no-publish"},
    )  # fmt: skip
    assert run.jobs == {"post": "success"}, run.summary()
    (call,) = run.cml_calls
    assert call["argv"] == [
        "comment", "update", "--watermark-title=Title", "--target=pr/7", "--no-publish",
        "got/out/report.md",
    ]  # fmt: skip
    assert call["options"] == {"watermark-title": "Title", "target": "pr/7", "publish": False}
    assert call["body"] == "report for 7\n"


@pytest.mark.parametrize(
    "flag", ["--dry-run", "--publish=maybe", "-v", "--watermark-title"], ids=lambda f: f.strip("-")
)
def test_the_cml_stand_in_rejects_what_cml_rejects(producer_run, tmp_path: Path, flag: str) -> None:
    repo, _, first = producer_run
    run = run_workflow(
        repo, "consumer.yml", "workflow_run", workflow_run_event(99, [7], workflow="producer"),
        work_dir=tmp_path, artifacts=first.artifacts, variables={"CML_FLAG": flag},
    )  # fmt: skip
    assert run.jobs == {"post": "failure"}
    assert run.cml_calls == []


def test_the_cml_stand_in_needs_a_token_and_a_known_command(tmp_path: Path) -> None:
    cml = STAND_INS / "iterative" / "setup-cml" / "cml.py"
    report = tmp_path / "r.md"
    report.write_text("x", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "STANDIN_CML_LOG": str(tmp_path / "log")}
    no_token = subprocess.run(
        ["python3", cml, "comment", "create", report], env=env, capture_output=True, text=True
    )
    assert no_token.returncode == 1
    assert "REPO_TOKEN" in no_token.stderr
    env["GITHUB_TOKEN"] = "t"
    for argv in (
        ["send-comment", report],
        ["comment", "delete", report],
        ["comment", "create", tmp_path / "nope.md"],
    ):
        assert subprocess.run(["python3", cml, *argv], env=env, capture_output=True).returncode == 1
    assert not (tmp_path / "log").exists()
    ok = subprocess.run(["python3", cml, "comment", "create", report], env=env, capture_output=True)
    assert ok.returncode == 0
    assert (tmp_path / "log").read_text().count("\n") == 1


def test_an_action_without_a_stand_in_is_refused(tmp_path: Path) -> None:
    text = PRODUCER.replace(SETUP_UV, "someone/unknown-action@" + "a" * 40)
    repo = make_repository(tmp_path, {"producer.yml": text})
    assert missing_stand_ins([repo / ".github/workflows/producer.yml"]) == {
        "producer.yml": {"someone/unknown-action@" + "a" * 40}
    }
    with pytest.raises(MissingStandIn, match="someone/unknown-action"):
        run_workflow(
            repo,
            "producer.yml",
            "pull_request",
            pull_request_event(1, "pr"),
            work_dir=tmp_path / "a",
        )


def test_every_stand_in_is_a_composite_action() -> None:
    import yaml

    actions = sorted(STAND_INS.glob("**/action.yml"))  # sub-actions (actions/cache/save) too
    assert len(actions) >= 5
    for action in actions:
        assert yaml.safe_load(action.read_text())["runs"]["using"] == "composite", action


@pytest.mark.parametrize(
    "uses",
    [
        # setup-cml's old pin: a real commit of the repository, but no release contains it.
        "iterative/setup-cml@96c86babf161d39dc4c7e8db109516936a325591",
        "iterative/setup-cml@v2",  # a movable reference, even of a known action
        "actions/checkout@" + "b" * 40,  # an unknown commit of a known action
    ],
)
def test_a_pin_not_in_the_table_is_refused(tmp_path: Path, uses: str) -> None:
    text = CONSUMER.replace(SETUP_CML.split(" #")[0], uses)
    repo = make_repository(tmp_path, {"consumer.yml": text})
    assert missing_stand_ins([repo / ".github/workflows/consumer.yml"]) == {"consumer.yml": {uses}}
    with pytest.raises(MissingStandIn, match=PINS_FILE.name):
        run_workflow(
            repo, "consumer.yml", "workflow_run", workflow_run_event(1, [7]),
            work_dir=tmp_path / "a",
        )  # fmt: skip


def test_the_pin_table_is_complete_and_each_stand_in_declares_its_release_inputs() -> None:
    for key, row in PINS.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", key), key
        assert re.fullmatch(r"v\d+\.\d+\.\d+", row["release"]), row
        assert row["evidence"].strip(), row
        assert stand_in_inputs(row["action"]) == set(row["inputs"]), row["action"]
        for sub, inputs in row.get("subactions", {}).items():
            assert stand_in_inputs(f"{row['action']}/{sub}") == set(inputs), (row["action"], sub)
    assert len({row["action"] for row in PINS.values()}) == len(PINS), "one pin per action"
    stand_ins = {str(p.parent.relative_to(STAND_INS)) for p in STAND_INS.glob("*/*/action.yml")}
    assert stand_ins == {row["action"] for row in PINS.values()}


def test_the_docs_table_is_the_pin_table() -> None:
    docs = (PINS_FILE.parents[2] / "docs" / "action-pins.md").read_text(encoding="utf-8")
    rows = {
        tuple(cell.strip(" `") for cell in line.strip("|").split("|")[:3])
        for line in docs.splitlines()
        if line.startswith("| `")
    }
    assert rows == {(r["action"], r["commit"], r["release"]) for r in PINS.values()}


def test_the_setup_cml_stand_in_models_cml_0_20_6_only(producer_run, tmp_path: Path) -> None:
    _, _, first = producer_run
    text = CONSUMER.replace("version: v0.20.6", "version: latest")
    other = make_repository(tmp_path, {"consumer.yml": text})
    run = run_workflow(
        other, "consumer.yml", "workflow_run", workflow_run_event(99, [7], workflow="producer"),
        work_dir=tmp_path / "act", artifacts=first.artifacts,
    )  # fmt: skip
    assert run.jobs == {"post": "failure"}, run.summary()
    assert "models CML 0.20.6 only" in run.log("post")
    assert run.cml_calls == []


def test_the_cml_stand_in_counts_its_watermark_in_githubs_limit(tmp_path: Path) -> None:
    cml = STAND_INS / "iterative" / "setup-cml" / "cml.py"
    env = {"PATH": "/usr/bin:/bin", "STANDIN_CML_LOG": str(tmp_path / "log"), "GITHUB_TOKEN": "t"}
    report = tmp_path / "r.md"
    report.write_text("x" * (65_536 - 50), encoding="utf-8")
    args = ["python3", cml, "comment", "update", "--watermark-title=Model report", report]
    too_long = subprocess.run(args, env=env, capture_output=True, text=True)
    assert too_long.returncode == 1
    assert "body is too long" in too_long.stderr
    report.write_text("x" * (65_536 - 106), encoding="utf-8")
    assert subprocess.run(args, env=env, capture_output=True).returncode == 0


def test_the_generated_report_cap_leaves_room_for_cmls_watermark() -> None:
    """review/sections.py MAX_CHARS (the report's cap) plus CML's watermark (106 characters with
    this title: the test above) fits GitHub's limit of 65,536."""
    sections = next(PINS_FILE.parents[2].glob("*/src/*/review/sections.py"))
    for node in ast.parse(sections.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "MAX_CHARS":
            max_chars = eval(compile(ast.Expression(node.value), "MAX_CHARS", "eval"), {})
            break
    else:
        raise AssertionError(f"no MAX_CHARS in {sections}")
    assert 60_000 < max_chars <= 65_536 - 106


LATE_OUTPUT = """\
name: late
on: push
permissions: {}
jobs:
  fail:
    runs-on: ubuntu-latest
    steps:
      - id: refuse
        run: |
          (sleep 0.1; echo "::error::the last word of a failing step") &
          exit 1
"""


def test_a_failing_steps_last_output_is_not_lost(tmp_path: Path) -> None:
    """Output still on its way when a step fails reaches the log (act drops it by itself: it
    closes the step's terminal as soon as the shell exits non-zero)."""
    repo = make_repository(tmp_path, {"late.yml": LATE_OUTPUT})
    run = run_workflow(repo, "late.yml", "push", {}, work_dir=tmp_path / "act")
    assert run.step("fail", "refuse").result == "failure", run.summary()
    assert "the last word of a failing step" in run.log("fail")


def cache_action(step: str, workspace: Path, store: Path, **inputs: str) -> tuple[int, dict, str]:
    """One call of the actions/cache stand-in's restore or save: (exit code, outputs, stdout)."""
    outputs = workspace / "github-output"
    outputs.write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(outputs),
        "STANDIN_CACHE": str(store),
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    }
    script = STAND_INS / "actions" / "cache" / "cache.py"
    done = subprocess.run(
        [sys.executable, str(script), step], env=env, capture_output=True, text=True, check=False
    )
    pairs = [line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines()]
    return done.returncode, dict(pairs), done.stdout + done.stderr


def test_the_cache_stand_in_keeps_github_s_rules(tmp_path: Path) -> None:
    """Exact key = hit; restore-keys = newest prefix match, not a hit; lookup-only restores
    nothing; a saved entry is immutable; saving nothing fails."""
    workspace, store = tmp_path / "ws", tmp_path / "store"
    workspace.mkdir()
    store.mkdir()
    code, out, _ = cache_action("restore", workspace, store, key="k-1", path="record")
    assert (code, out["cache-hit"]) == (0, "false")
    code, _, said = cache_action("save", workspace, store, key="k-1", path="record")
    assert code != 0
    assert "Path Validation Error" in said
    (workspace / "record").write_text("first", encoding="utf-8")
    assert cache_action("save", workspace, store, key="k-1", path="record")[0] == 0
    (workspace / "record").write_text("second", encoding="utf-8")
    code, _, said = cache_action("save", workspace, store, key="k-1", path="record")
    assert code == 0
    assert "Unable to reserve cache with key k-1" in said
    (workspace / "record").unlink()
    _, out, _ = cache_action(
        "restore", workspace, store, key="k-1", path="record", lookup_only="true"
    )
    assert out["cache-hit"] == "true"
    assert not (workspace / "record").exists()
    _, out, _ = cache_action("restore", workspace, store, key="k-1", path="record")
    assert out["cache-hit"] == "true"
    assert (workspace / "record").read_text(encoding="utf-8") == "first"
    _, out, _ = cache_action(
        "restore", workspace, store, key="k-2", path="record", restore_keys="k-"
    )
    assert (out["cache-hit"], out["cache-matched-key"]) == ("false", "k-1")
