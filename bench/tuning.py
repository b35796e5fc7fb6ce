"""Benchmark: tuning throughput with and without pruning, and TPE against random search.

Bakes the default project, runs `prepare` on the bundled sample (or, with `rows`, on a seeded
random slice of it of that many rows: a budget that fits a session on 2 cores, stated with the
figures), then `tune` studies of N trials (default 50) with the default search space: TPE with
pruning, TPE without pruning, random with pruning (same seed, same budget of trials). Reports
trials per minute and the best cross-validated log loss of each; `repeats` runs each with
seeds 0..repeats-1 (medians), the three kinds in turn for each seed, after one untimed study
that warms Python's bytecode cache.

Usage: uv run python bench/tuning.py [trials] [repeats] [rows]
"""

from __future__ import annotations

import json
import shutil
import sys

import yaml
from common import baked_project, machine, median, timed

RUNS = {
    "tpe, pruning": {"sampler": "tpe", "pruning": True},
    "tpe, no pruning": {"sampler": "tpe", "pruning": False},
    "random, pruning": {"sampler": "random", "pruning": True},
}

# Runs inside the baked project's environment (the template's own has no pandas).
SLICE = """
import sys
import pandas as pd
frame = pd.read_csv("data/raw/bank-additional-full.csv.gz", sep=";")
frame.sample(n=int(sys.argv[1]), random_state=0).to_csv("data/raw/slice.csv", sep=";", index=False)
"""


def main(trials: int = 50, repeats: int = 1, rows: int = 0) -> None:
    project = baked_project()
    run = ["uv", "run", "--frozen"]
    if rows:
        (project / "slice.py").write_text(SLICE)
        timed([*run, "python", "slice.py", str(rows)], project)
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["data"]["path"] = "data/raw/slice.csv"
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        timed([*run, "python", "-m", "term_deposit_model.stages.prepare"], project)
    else:
        timed([*run, "dvc", "repro", "prepare"], project)
    base = yaml.safe_load((project / "conf/tune/default.yaml").read_text())
    # One untimed study first: the first run in a fresh project writes Python's bytecode
    # cache of Optuna & co. (seconds), which would be charged to whichever study ran first.
    (project / "conf/tune/bench.yaml").write_text(yaml.safe_dump({**base, "trials": 2}))
    tune = [*run, "python", "-m", "term_deposit_model", "tune", "--space", "bench", "--fresh"]
    timed(tune, project)
    data = f"a {rows:,}-row slice of the sample" if rows else "the sample"
    print(f"# tuning, {trials} trials, {repeats} seed(s), {data} ({machine()})")
    results: dict[str, dict[str, list[float]]] = {}
    for seed in range(repeats):  # seed by seed, so that a slow minute hits every kind alike
        for name, change in RUNS.items():
            space = {**base, **change, "seed": seed, "trials": trials}
            (project / "conf/tune/bench.yaml").write_text(yaml.safe_dump(space))
            seconds = timed(tune, project)
            summary = json.loads((project / "reports/tune/summary.json").read_text())
            found = results.setdefault(name, {"per_minute": [], "best": [], "pruned": []})
            found["per_minute"].append(trials / seconds * 60)
            found["best"].append(summary["best"]["value"])
            found["pruned"].append(summary["counts"]["pruned"])
            print(name, seed, f"{seconds:.0f} s", summary["best"]["value"], file=sys.stderr)
    reference = median(results["tpe, no pruning"]["per_minute"])
    for name, found in results.items():
        per_minute = median(found["per_minute"])
        print(
            f"{name:<16} {per_minute:6.2f} trials/min ({per_minute / reference:4.2f}x)  "
            f"best cv log loss {median(found['best']):.5f}  pruned {median(found['pruned']):.0f}"
        )
    shutil.rmtree(project.parent)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
