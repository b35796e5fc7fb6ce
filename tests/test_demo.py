"""`make demo` (scripts/demo.py): a pull request judged against main, readable at the end,
with an HTML report a browser draws offline, and a demo/ that is not rebuilt over edits.

The demo runs once (`demo_run`, shared with `pipeline_project`); the tests that edit its folder
put it back as they found it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE_ROOT, DemoRun, run
from PIL import Image
from template_tools import load_file

pytestmark = pytest.mark.e2e

demo_script = load_file(TEMPLATE_ROOT / "scripts" / "demo.py", "demo_script")
BRANCH = "faster-learning"
BLUE = (0x1F, 0x77, 0xB4)  # this PR in every chart (the baseline is grey)


def git(project: Path, *args: str) -> str:
    return run(["git", *args], project).stdout.strip()


def test_main_holds_its_run_and_the_branch_one_reviewed_change(demo_run: DemoRun) -> None:
    project = demo_run.project
    main_metrics = json.loads(git(project, "show", "main:metrics/evaluate.json"))
    assert main_metrics["metrics"]["roc_auc"]["value"] > 0.75
    assert "models/model.ubj" in git(project, "show", "main:dvc.lock")
    assert git(project, "branch", "--show-current") == BRANCH
    assert git(project, "log", "--format=%s", f"main..{BRANCH}").splitlines() == [
        "Learn faster: learning_rate 0.05 -> 0.1 (fewer boosting rounds)"
    ]
    changed = set(git(project, "diff", "--name-only", "main", BRANCH).splitlines())
    assert {"conf/model/xgboost.yaml", "params.yaml", "dvc.lock"} <= changed
    assert git(project, "status", "--porcelain") == ""


def test_the_report_is_the_pull_request_comment_paired_against_main(demo_run: DemoRun) -> None:
    report = (demo_run.project / "reports" / "pr_report.md").read_text(encoding="utf-8")
    assert "**Comparison: paired bootstrap.**" in report
    assert "The baseline has no" not in report
    assert "| `model.learning_rate` | `0.05` | `0.1` | params.yaml |" in report
    for section in ("### Quality gate", "### Data", "### Data drift", "### Fairness by group"):
        assert f"\n{section}" in report, section
    assert "### Explanations: global feature attributions" in report
    assert "- Data: no DVC remote configured" in report  # what pr.yml says without a remote


def test_the_terminal_shows_a_short_summary(demo_run: DemoRun) -> None:
    out = demo_run.stdout
    verdict = json.loads((demo_run.project / "reports" / "pr_gate.json").read_text())
    assert verdict["comparison"] == "paired"
    word = "PASS" if verdict["passed"] else "FAIL"
    assert f"quality gate: {word} (paired comparison" in out
    for name in ("roc_auc", "pr_auc", "log_loss", "brier"):
        base, now = verdict["metrics"][name]["baseline"], verdict["metrics"][name]["current"]
        d = verdict["metrics"][name]["difference"]
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        figures = f"{base['value']:.4f}   {now['value']:.4f}   {d['value']:+.4f}"
        assert re.sub(r"\s+", " ", figures) in re.sub(r"\s+", " ", line), line
        assert f"[{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]" in line
    lock = yaml.safe_load((demo_run.project / "dvc.lock").read_text())
    md5 = next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"].endswith(".ubj"))
    assert f"checks its md5 {md5}" in out
    for written in ("reports/pr_report.md", "reports/pr_report.html"):
        assert written in out
    assert len(out.splitlines()) < 40  # the old demo printed the whole report (400 lines)


def pixels_near(shot: Path, colour: tuple[int, int, int]) -> int:
    """How many pixels of the screenshot are within 24 of `colour` on each channel."""
    with Image.open(shot) as image:
        assert image.size == (1100, 9000)
        counted = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return sum(
        n for n, rgb in counted if all(abs(a - b) <= 24 for a, b in zip(rgb, colour, strict=True))
    )


def test_chromium_draws_the_html_reports_charts_offline(demo_run: DemoRun, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's `chromium` package is required (`make system-tools` installs it)"
    page = demo_run.project / "reports" / "pr_report.html"
    report = (demo_run.project / "reports" / "pr_report.md").read_text(encoding="utf-8")
    charts = report.count("```mermaid")
    assert charts >= 3
    flags = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,9000",
    ]  # fmt: skip
    dom = run([*flags, "--dump-dom", page.as_uri()], tmp_path).stdout
    assert dom.count('class="chart"') == 2 * charts  # each <figure> and its <svg>
    assert "chart-error" not in dom.split("</style>", 1)[1]
    assert dom.count('<polyline class="series"') >= 3
    assert dom.count('class="series" fill="none" stroke="#9e9e9e"') >= 2  # baseline ROC and PR
    shot = tmp_path / "page.png"
    run([*flags, f"--screenshot={shot}", page.as_uri()], tmp_path)
    # This PR's bars and curves are blue: tens of thousands of pixels when the charts are drawn,
    # none when they are not (greys also come from text, so the baseline's are checked in the DOM).
    assert pixels_near(shot, BLUE) > 5000


def rerun(demo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = TEMPLATE_ROOT / "scripts" / "demo.py"
    return run(
        ["uv", "run", "--frozen", "python", script, "--dir", demo], TEMPLATE_ROOT, env=env,
        check=False,
    )  # fmt: skip


def test_a_second_run_refuses_to_rebuild_over_an_edit(demo_run: DemoRun) -> None:
    edited = demo_run.project / "conf" / "model" / "xgboost.yaml"
    before = edited.read_bytes()
    note = demo_run.demo / "notes.txt"
    edited.write_bytes(before + b"# mine\n")
    note.write_text("mine\n", encoding="utf-8")
    try:
        result = rerun(demo_run.demo)
        assert result.returncode == 1
        assert "holds changes the demo did not make" in result.stderr
        assert "term-deposit-model: conf/model/xgboost.yaml (modified)" in result.stderr
        assert "demo/notes.txt (not written by the demo)" in result.stderr
        assert "DEMO_FORCE=1 make demo" in result.stderr
        assert edited.read_bytes() == before + b"# mine\n"  # nothing was touched
    finally:
        note.unlink(missing_ok=True)
        edited.write_bytes(before)
    assert demo_script.changes_not_made(demo_run.demo) == []  # as the demo left it: rebuilt


def test_a_commit_of_ones_own_is_a_change_too(demo_run: DemoRun) -> None:
    head = git(demo_run.project, "rev-parse", "HEAD")
    run(["git", "commit", "-q", "--allow-empty", "-m", "mine"], demo_run.project)
    try:
        found = demo_script.changes_not_made(demo_run.demo)
    finally:
        run(["git", "reset", "-q", "--hard", head], demo_run.project)
    assert found == [f"term-deposit-model: refs/heads/{BRANCH} (moved or removed)"]
    assert demo_script.changes_not_made(demo_run.demo) == []


def test_only_a_finished_demo_folder_is_judged_and_force_discards(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert demo_script.changes_not_made(demo) == []  # absent
    demo.mkdir()
    (demo / "mine.txt").write_text("mine\n", encoding="utf-8")
    assert demo_script.changes_not_made(demo) == [
        f"{demo} was not made by this demo (it has no .demo-state.json)"
    ]
    with pytest.raises(demo_script.DemoError, match="DEMO_FORCE=1 make demo"):
        demo_script.prepare_directory(demo, force=False)
    assert (demo / "mine.txt").is_file()
    (demo / ".demo-state.json").write_text('{"finished": false}', encoding="utf-8")
    assert demo_script.changes_not_made(demo) == []  # an interrupted run is rebuilt
    (demo / ".demo-state.json").unlink()
    demo_script.prepare_directory(demo, force=True)
    assert demo.is_dir()
    assert list(demo.iterdir()) == []
