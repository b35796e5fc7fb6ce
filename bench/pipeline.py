"""Benchmark: a fresh bake to every stage done, DVC's cost around the stages, the no-op run.

    uv run python bench/pipeline.py [runs] [--baseline REF]

Each run bakes the default project into a new folder (git repository, `uv sync` from a warm
package cache) and times:
- bake + setup, then `dvc exp run` (what `make run` runs: Hydra composes `conf/`, every stage
  runs): together, "fresh bake to every stage done";
- the no-op: `dvc repro`, then `dvc version` and `dvc exp run` alternating (nothing changed);
- the baseline: a second fresh bake whose stages run directly (`python -m <package>.stages.<s>`
  in dvc.yaml's order, no DVC). Both bakes start with no bytecode cached (a new `.venv`), so
  the ratio `dvc exp run` / direct is DVC's own cost: its start-up, Hydra, the experiment's
  stash and commit, and per stage the status check, hashing, caching, the lock and run cache.
With `--baseline REF` the same is done, in the same runs, for a bake of the template at git ref
`REF` (an older commit): old and new side by side, ratios printed.

Commands run with Python's default bytecode caching (`PYTHONDONTWRITEBYTECODE` unset, as on a
user's machine or a GitHub runner: the first import of a module writes its `.pyc`). The machine
may be shared: read the ratios; the seconds move with the load.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import yaml
from common import ROOT, ensure_git_repository, machine, median, package_of, timed
from cookiecutter.main import cookiecutter

USER_ENV = {"PYTHONDONTWRITEBYTECODE": ""}  # empty = unset: Python writes its bytecode cache
DVC = ["uv", "run", "--frozen", "dvc"]


def template_at(ref: str) -> Path:
    """The template's files at git ref `ref`, exported into a new temporary folder."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="bench-template-"))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def fresh_project(template: Path) -> tuple[Path, float]:
    """A default bake of `template` as a git repository with .venv synced; its wall seconds."""
    start = time.perf_counter()
    project = Path(
        cookiecutter(
            str(template), no_input=True, output_dir=tempfile.mkdtemp(prefix="bench-pipeline-")
        )
    )
    ensure_git_repository(project)
    timed(["uv", "sync", "--frozen", "--extra", "cpu", "--quiet"], project)
    return project, time.perf_counter() - start


def stages_of(project: Path) -> list[str]:
    return list(yaml.safe_load((project / "dvc.yaml").read_text())["stages"])


def measure(template: Path) -> dict[str, float]:
    """One run's figures for bakes of `template` (see the module docstring)."""
    project, setup = fresh_project(template)
    figures = {"setup": setup, "exp run": timed([*DVC, "exp", "run"], project, USER_ENV)}
    figures["fresh to every stage"] = setup + figures["exp run"]
    figures["no-op repro"] = timed([*DVC, "repro"], project, USER_ENV)
    versions, noops = [], []
    for _ in range(3):
        versions.append(timed([*DVC, "version"], project, USER_ENV))
        noops.append(timed([*DVC, "exp", "run"], project, USER_ENV))
    figures["dvc version"] = statistics.median(versions)
    figures["no-op exp run"] = statistics.median(noops)
    shutil.rmtree(project.parent)

    direct, _ = fresh_project(template)
    package = package_of(direct)
    python = ["uv", "run", "--frozen", "python", "-m"]
    figures["direct"] = sum(
        timed([*python, f"{package}.stages.{stage}"], direct, USER_ENV)
        for stage in stages_of(direct)
    )
    shutil.rmtree(direct.parent)
    return figures


ROWS = (
    ("setup", "bake + setup (warm package cache)", "s"),
    ("exp run", "`dvc exp run`, every stage, cold bytecode", "s"),
    ("fresh to every stage", "**fresh bake to every stage done**", "s"),
    ("direct", "the stages run directly, cold bytecode", "s"),
    ("dvc / direct", "DVC around the stages / direct", "x"),
    ("no-op repro", "no-op `dvc repro`", "s"),
    ("dvc version", "`dvc version`", "s"),
    ("no-op exp run", "**no-op `dvc exp run`**", "s"),
    ("no-op / version", "no-op `dvc exp run` / `dvc version`", "x"),
)


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    figures = {key: median([run[key] for run in runs]) for key in runs[0]}
    figures["dvc / direct"] = median([run["exp run"] / run["direct"] for run in runs])
    figures["no-op / version"] = median([run["no-op exp run"] / run["dvc version"] for run in runs])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="?", type=int, default=3)
    parser.add_argument("--baseline", help="a git ref of the template to compare with")
    args = parser.parse_args()
    variants = {"now": ROOT}
    if args.baseline:
        variants[args.baseline] = template_at(args.baseline)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for run in range(args.runs):
        order = list(variants) if run % 2 == 0 else list(reversed(variants))
        for name in order:
            results[name].append(measure(variants[name]))
    figures = {name: summary(runs) for name, runs in results.items()}
    names = list(variants)
    print(f"`bench/pipeline.py`, {machine()}, median of {args.runs} runs, variants alternating.\n")
    header = " | ".join(f"{name}" for name in names)
    ratio = f" | {names[0]} / {names[1]}" if len(names) > 1 else ""
    print(f"| measure | {header}{ratio} |")
    print("|---|" + "---:|" * (len(names) + (len(names) > 1)))
    for key, label, unit in ROWS:
        suffix = "x" if unit == "x" else " s"
        cells = " | ".join(f"{figures[name][key]:.2f}{suffix}" for name in names)
        compared = f" | {figures[names[0]][key] / figures[names[1]][key]:.2f}x" if ratio else ""
        print(f"| {label} | {cells}{compared} |")


if __name__ == "__main__":
    main()
