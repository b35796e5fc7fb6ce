"""Benchmark: the pull request's experiment job (pr.yml) under act, step by step.

A default bake whose `main` ran the pipeline and pushed its results and run cache to a local
DVC remote; a PR branch changing parameters (`model.max_depth: 4`, `train.cv_folds: 0`). The job
runs with a warm package cache (uv's host cache), in two situations, each `--runs` times:

- new experiment: the remote holds main's run cache only (restored before each run), so
  `prepare` is restored, `train` and `evaluate` run, the report restores the baseline's model;
- re-run: the remote also holds this experiment (pushed by a previous run), so every stage is
  restored from the run cache (what the merge to main relies on).

Prints a Markdown section for docs/benchmarks.md (medians, and ratios against the new
experiment's `dvc exp run` step measured in the same script) and, with --example, copies one
report into docs/examples/pr_report.md (the docs show a real, generated report).

    uv run python bench/pr_loop.py --runs 3 --example docs/examples/pr_report.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT / "tests"),
    str(ROOT / "tests" / "workflows"),
    str(ROOT / "tests" / "prloop"),
]

from conftest import bake, ensure_git_repository, run, uv_run, uv_sync  # noqa: E402
from harness import pull_request_event, run_workflow  # noqa: E402
from prloop_support import BRANCHES, edit  # noqa: E402

SHORT = {
    "Check out": "checkout (act copies the tree)",
    "Set up uv": "set up uv",
    "Install the locked environment": "make setup (uv sync, warm cache)",
    "Decide whether": "remote check",
    "Pull data": "dvc pull --run-cache",
    "Run the experiment": "dvc exp run",
    "Build the report": "report (baseline evaluation included)",
    "Upload the report": "upload artifact",
    "Push the run cache": "dvc push --run-cache",
    "Lint and test": "make lint, make test",
    "Check that the committed dvc.lock": "scripts/model_check.py",
    "Enforce the quality gate": "quality gate",
}


def short(name: str) -> str:
    return next((v for k, v in SHORT.items() if name.startswith(k)), name)


def prepare_project(root: Path) -> tuple[Path, Path]:
    project = bake(root / "bake")
    ensure_git_repository(project)
    uv_sync(project)
    uv_run(project, "dvc", "exp", "run", timeout=1800)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "Run the pipeline"], project)
    remote = root / "remote"
    uv_run(project, "dvc", "remote", "add", "-d", "storage", str(remote))
    uv_run(project, "dvc", "push", "--run-cache", "--quiet")
    run(["git", "commit", "-qam", "DVC remote"], project)
    edits, message = BRANCHES["tune"]
    run(["git", "checkout", "-qb", "tune"], project)
    for path, (old, new) in edits.items():
        edit(project, path, old, new)
    run(["make", "params"], project)  # the author composes params.yaml and commits dvc.lock
    uv_run(project, "dvc", "repro", "train", timeout=1800)
    run(["git", "commit", "-qam", message], project)
    return project, remote


def one_run(project: Path, work: Path) -> dict[str, float]:
    result = run_workflow(
        project, "pr.yml", "pull_request", pull_request_event(1, "tune"), work_dir=work
    )
    if result.jobs != {"experiment": "success"}:
        raise SystemExit(result.summary())
    times = {short(s.name): s.seconds for s in result.steps}
    times["whole job (act, wall)"] = result.seconds
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--example", type=Path, help="write one generated report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-prloop-") as scratch:
        root = Path(scratch)
        project, remote = prepare_project(root)
        pristine = root / "remote-main-only"
        shutil.copytree(remote, pristine)
        results: dict[str, list[dict[str, float]]] = {"new experiment": [], "re-run": []}
        for i in range(args.runs):
            shutil.rmtree(remote)
            shutil.copytree(pristine, remote)
            work = root / f"new-{i}"
            results["new experiment"].append(one_run(project, work))
            if i == 0 and args.example:
                args.example.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(work / "artifacts" / "pr-report" / "pr_report.md", args.example)
            results["re-run"].append(one_run(project, root / f"again-{i}"))
    print(render(results, args.runs))


def render(results: dict[str, list[dict[str, float]]], runs: int) -> str:
    reference = statistics.median(r["dvc exp run"] for r in results["new experiment"])
    lines = [
        "## Pull-request loop (pr.yml under act)",
        "",
        f"`bench/pr_loop.py --runs {runs}`: medians of {runs} runs, seconds, on "
        f"{os.cpu_count()} cores ({platform.python_version()}, {platform.machine()}); "
        "ratio = step / the new experiment's `dvc exp run` step, measured in the same script. "
        "Warm uv cache; the DVC remote is a local folder.",
        "",
    ]
    for situation, rows in results.items():
        steps = list(dict.fromkeys(k for r in rows for k in r))
        lines += [f"### {situation}", "", "| step | median (s) | ratio |", "|---|---:|---:|"]
        for step in steps:
            value = statistics.median(r.get(step, 0.0) for r in rows)
            lines.append(f"| {step} | {value:.1f} | {value / reference:.2f} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
