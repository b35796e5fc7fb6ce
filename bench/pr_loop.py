"""Benchmark: the pull request's experiment job (pr.yml) under act, step by step.

A default bake whose `main` ran the pipeline and pushed its results and run cache to a local
DVC remote; a PR branch changing parameters (`model.max_depth: 4`, `train.cv_folds: 0`). The job
runs with a warm package cache (uv's host cache), in two situations, each `--runs` times:

- new experiment: the remote holds main's run cache only (restored before each run) and no
  record says this tree's checks passed, so `make lint` and `make test-all` run, `prepare` is
  restored, `train` and `evaluate` run, the report restores the baseline's model;
- re-run: the remote also holds this experiment (pushed by the previous run) and the Actions
  cache (the harness's stand-in, shared by the two runs as by two runs of one pull request)
  holds the record of its passed checks, so the lint and tests are skipped and every stage is
  restored from the run cache.

The job's environment is what a runner has: bytecode is written (not PYTHONDONTWRITEBYTECODE)
into a fresh `.venv` each run, as on a fresh runner.

Prints a Markdown section for docs/benchmarks.md (medians of each step in both situations,
and the re-run's ratio to the new experiment, measured in the same script) and, with
--example, copies one report into docs/examples/pr_report.md (the docs show a real report).

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
    "Say whether the template": "make template-check (warning only)",
    "Key of this tree's checks": "checks key (tree, Python)",
    "Did the lint and tests pass": "look up the checks record",
    "Lint and test": "make lint, make test-all",
    "Record that the lint": "save the checks record",
    "Decide whether": "remote check",
    "Pull data": "dvc pull --run-cache",
    "Run the experiment": "dvc exp run",
    "Build the report": "report (baseline evaluation included)",
    "Upload the report": "upload artifact",
    "Push the run cache": "dvc push --run-cache",
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
    # As a generated remote is (the project's test_data_check reads it): objects pulled are hashed.
    uv_run(project, "dvc", "remote", "modify", "storage", "verify", "true")
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


def one_run(project: Path, work: Path, cache: Path) -> dict[str, float]:
    result = run_workflow(
        project,
        "pr.yml",
        "pull_request",
        pull_request_event(1, "tune"),
        work_dir=work,
        cache=cache,
        timeout=1800,
    )
    if result.jobs != {"experiment": "success"}:
        raise SystemExit(result.summary())
    times = {short(s.name): s.seconds for s in result.steps if s.result != "skipped"}
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
            cache = root / f"actions-cache-{i}"  # empty: no record of this tree's checks
            results["new experiment"].append(one_run(project, work, cache))
            if i == 0 and args.example:
                args.example.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(work / "artifacts" / "pr-report" / "pr_report.md", args.example)
            results["re-run"].append(one_run(project, root / f"again-{i}", cache))
            print(f"run {i + 1}/{args.runs} done", file=sys.stderr, flush=True)
    print(render(results, args.runs))


def render(results: dict[str, list[dict[str, float]]], runs: int) -> str:
    """One table: each step's median in both situations; ratio = re-run / new experiment."""
    new, again = results["new experiment"], results["re-run"]
    steps = list(dict.fromkeys(k for r in new + again for k in r))
    whole = "whole job (act, wall)"
    steps = [s for s in steps if s != whole] + [whole]
    lines = [
        "## Pull-request loop (pr.yml under act)",
        "",
        f"`bench/pr_loop.py --runs {runs}`: medians of {runs} runs, seconds, on "
        f"{os.cpu_count()} cores ({platform.machine()}); a step left out of a run shows `-`. "
        "Ratio = re-run / new experiment, measured in the same script. Warm uv cache; the DVC "
        "remote is a local folder.",
        "",
        "| step | new experiment (s) | re-run (s) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for step in steps:
        cells = []
        for rows in (new, again):
            values = [r[step] for r in rows if step in r]
            cells.append(statistics.median(values) if values else None)
        shown = [f"{c:.1f}" if c is not None else "-" for c in cells]
        ratio = f"{cells[1] / cells[0]:.2f}" if None not in cells and cells[0] else "-"
        lines.append(f"| {step} | {shown[0]} | {shown[1]} | {ratio} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
