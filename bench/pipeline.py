"""Benchmark: the pipeline from a fresh bake, and a no-op re-run.

Targets (issue 2): fresh bake + setup (warm package cache) + the pipeline under 30 s on 2 cores;
a no-op `dvc exp run` / `dvc repro` under 3 s. "The pipeline" of issue 2 is prepare -> train ->
evaluate (`dvc exp run evaluate`); the drift and package stages added later are timed apart.
The baseline, run in the same script, is every stage command run directly with no DVC around
them: the ratio is DVC's cost.

Commands run with Python's default bytecode caching (`PYTHONDONTWRITEBYTECODE` unset, as on a
user's machine or a GitHub runner: the first import of a module writes its `.pyc`). The test
environment and this machine set `PYTHONDONTWRITEBYTECODE=1`, which makes every process compile
every module it imports from source (about 1.7 s of each DVC command): the no-op run is also
timed that way (with an empty `PYTHONPYCACHEPREFIX`, so no cached bytecode is read either).

Usage: uv run python bench/pipeline.py [runs]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common import baked_project, machine, median, timed

STAGES = tuple(
    yaml.safe_load(
        (Path(__file__).parents[1] / "{{cookiecutter.project_slug}}" / "dvc.yaml")
        .read_text()
        .replace("{{ cookiecutter.package_name }}", "pkg")
    )["stages"]
)


USER_ENV = {"PYTHONDONTWRITEBYTECODE": ""}  # empty = unset: Python writes its bytecode cache
# No bytecode read or written: an empty cache folder, and writing off (this machine's default).
NO_CACHE_ENV = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": tempfile.mkdtemp()}


def main(runs: int = 3) -> None:
    totals, setups, exp_runs, rest, direct = [], [], [], [], []
    noop_repro, noop_exp, noop_exp_no_cache = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        project = baked_project()
        setups.append(time.perf_counter() - start)
        exp_runs.append(
            timed(["uv", "run", "--frozen", "dvc", "exp", "run", "evaluate"], project, USER_ENV)
        )
        totals.append(time.perf_counter() - start)
        rest.append(timed(["uv", "run", "--frozen", "dvc", "exp", "run"], project, USER_ENV))
        noop_repro.append(timed(["uv", "run", "--frozen", "dvc", "repro"], project, USER_ENV))
        noop_exp.append(timed(["uv", "run", "--frozen", "dvc", "exp", "run"], project, USER_ENV))
        noop_exp_no_cache.append(
            timed(["uv", "run", "--frozen", "dvc", "exp", "run"], project, NO_CACHE_ENV)
        )
        direct.append(
            sum(
                timed(
                    ["uv", "run", "--frozen", "python", "-m", f"term_deposit_model.stages.{s}"],
                    project,
                    USER_ENV,
                )
                for s in STAGES
            )
        )
        shutil.rmtree(project.parent)
    print(f"# pipeline benchmark ({machine()}, {runs} runs, medians)")
    print(f"bake + make setup (warm cache)   {median(setups):6.1f} s")
    print(f"dvc exp run evaluate (prepare, train, evaluate) {median(exp_runs):6.1f} s")
    print(f"total from fresh bake            {median(totals):6.1f} s   target < 30 s")
    print(f"then drift + package stages      {median(rest):6.1f} s")
    print(f"all {len(STAGES)} stages run directly (baseline) {median(direct):6.1f} s")
    ratio = (median(exp_runs) + median(rest)) / median(direct)
    print(f"dvc (all stages) / direct        {ratio:6.2f} x")
    print(f"no-op dvc repro                  {median(noop_repro):6.2f} s   target < 3 s")
    print(f"no-op dvc exp run                {median(noop_exp):6.2f} s   target < 3 s")
    print(f"no-op dvc exp run, PYTHONDONTWRITEBYTECODE=1 {median(noop_exp_no_cache):6.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
