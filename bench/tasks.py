"""Benchmark: from `make data` to a packaged model, per task, on scikit-learn's small tables.

Per task, a fresh default bake (its environment synced, not timed) gets a table written to CSV:
breast cancer (binary, 569 rows x 30 features), wine (multiclass, 178 x 13, 3 classes),
diabetes (regression, 442 x 10). Timed: `data init` (what `make data` runs) and `dvc exp run`
(prepare, train with 5-fold CV and early stopping, evaluate with 1,000 bootstrap resamples,
drift, package), each in a fresh process. The baseline in the same script is the binary table:
multiclass and regression are reported as ratios to it.

Usage: uv run python bench/tasks.py [runs]
"""

from __future__ import annotations

import sys

from common import baked_project, machine, median, timed

PACKAGE = "term_deposit_model"
TABLES = {
    "binary": (
        "breast_cancer",
        "diagnosis",
        "from sklearn.datasets import load_breast_cancer\n"
        "t = load_breast_cancer(as_frame=True).frame\n"
        "t['target'] = t['target'].map({0: 'malignant', 1: 'benign'})\n"
        "t.rename(columns={'target': 'diagnosis'}).to_csv('{path}', index=False)\n",
    ),
    "multiclass": (
        "wine",
        "cultivar",
        "from sklearn.datasets import load_wine\n"
        "t = load_wine(as_frame=True).frame\n"
        "t.rename(columns={'target': 'cultivar'}).to_csv('{path}', index=False)\n",
    ),
    "regression": (
        "diabetes",
        "progression",
        "from sklearn.datasets import load_diabetes\n"
        "t = load_diabetes(as_frame=True, scaled=False).frame\n"
        "t.rename(columns={'target': 'progression'}).to_csv('{path}', index=False)\n",
    ),
}


def one_run(task: str) -> tuple[float, float]:
    """(data init seconds, dvc exp run seconds) on a fresh bake."""
    name, target, write = TABLES[task]
    project = baked_project()
    path = project / "data" / "raw" / f"{name}.csv"
    timed(["uv", "run", "--frozen", "python", "-c", write.replace("{path}", str(path))], project)
    init = timed(
        ["uv", "run", "--frozen", "python", "-m", PACKAGE, "data", "init", str(path),
         "--target", target, "--task", task],
        project,
    )  # fmt: skip
    pipeline = timed(["uv", "run", "--frozen", "dvc", "exp", "run"], project)
    if not (project / "models" / "service.bentomodel").is_file():
        raise SystemExit(f"{task}: no packaged model")
    return init, pipeline


def main(runs: int = 3) -> None:
    found: dict[str, list[tuple[float, float]]] = {task: [] for task in TABLES}
    for _ in range(runs):
        for task in TABLES:  # interleaved: the machine's load falls on every task alike
            found[task].append(one_run(task))
    base = median([a + b for a, b in found["binary"]])
    print(f"machine: {machine()}; {runs} runs per task")
    print("| task | table | data init | dvc exp run | total (median) | vs binary | runs (total) |")
    print("|---|---|---:|---:|---:|---:|---|")
    for task, values in found.items():
        totals = [a + b for a, b in values]
        print(
            f"| {task} | {TABLES[task][0]} | {median([a for a, _ in values]):.1f} s | "
            f"{median([b for _, b in values]):.1f} s | {median(totals):.1f} s | "
            f"{median(totals) / base:.2f}x | {', '.join(f'{t:.1f}' for t in totals)} |"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
