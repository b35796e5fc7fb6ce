"""Benchmark of the drift check: 1M rows against a 1M-row reference, sampled vs full data.

    uv run python bench/drift_bench.py [--repeats 3] [--full-repeats 1] [--plain]

bakes the default project, runs its pipeline, and runs the measurement inside the project's
environment (`--project DIR` reuses a baked project whose pipeline has run).

Data (the sample's 19 feature columns, seeded): the reference is the training split resampled
to 1,000,000 rows; the current data is, per scenario, 1,000,000 rows resampled from
- `late batches`: the real incoming batches of 2010 (real drift),
- `same world`: the training split again (another seed: no drift expected),
- synthetic shifts of known size on the `same world` rows: `age` moved by 0.05 and by 0.3 of
  its standard deviation (the normed Wasserstein distance of a pure shift is the shift itself,
  so the first must pass the 0.1 threshold and the second must drift), and 10% of the clients
  moved to job `student` (Jensen-Shannon distance about 0.2).
Timed: `drift.run_check` with the default sample (drift.sample_rows) against the full data
(sample_rows: 0) on the same frames; verdicts (per column, dataset, prediction) compared.
The check's verdicts come from Evidently's stat tests; Evidently's report (the HTML) is built
when first asked for: building it and writing the HTML, on the sample, is a column of its own
(once per scenario).
With `--plain`, each sampled run is followed by the same check with the generated package's
speed-ups off (`SPEEDUPS=off`): its time is a column, and a different summary stops the run.
Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import glob
import importlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROWS = 1_000_000
# numpy and pandas live in the baked project's environment: imported by `main --inside` only.
np: Any = None
pd: Any = None


def package() -> str:
    return Path(sorted(glob.glob("src/*/__init__.py"))[0]).parent.name


def resample(frame: Any, rows: int, seed: int) -> Any:
    picks = np.random.default_rng(seed).integers(0, len(frame), rows)
    return frame.iloc[picks].reset_index(drop=True)


def verdicts(summary: dict) -> dict:
    return {
        "dataset": summary["dataset_drift"],
        "prediction": summary["prediction_drift"]["drifted"],
        "columns": {n: r["drifted"] for n, r in summary["per_column"].items()},
        "thin": sorted(summary["too_few_values"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-repeats", type=int, default=1)
    parser.add_argument(
        "--plain", action="store_true", help="also time the sampled check with SPEEDUPS=off"
    )
    parser.add_argument("--project", type=Path, help="a baked project whose pipeline has run")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.inside:
        outside(args)
        return
    global np, pd
    import numpy as np
    import pandas as pd

    pkg = package()
    cfg = importlib.import_module(f"{pkg}.settings.params")
    drift = importlib.import_module(f"{pkg}.drift.check")
    model_io = importlib.import_module(f"{pkg}.model.files")
    monitor = importlib.import_module(f"{pkg}.drift.monitor")
    params = cfg.load_params()
    model = model_io.load_model()
    train = pd.read_parquet("data/prepared/train.parquet")
    late = pd.concat(
        [monitor.load_batch(Path(p), params.data)[0]
         for p in sorted(glob.glob("data/incoming/2010-*.csv.gz"))],
        ignore_index=True,
    )  # fmt: skip
    reference = resample(train, ROWS, 1)
    same = resample(train, ROWS, 2)
    shifted_small = same.assign(age=same["age"] + 0.05 * train["age"].std())
    shifted_large = same.assign(age=same["age"] + 0.3 * train["age"].std())
    job = same["job"].copy()
    job[np.random.default_rng(3).random(ROWS) < 0.10] = "student"
    scenarios = {
        "late batches (real, 2010)": resample(late, ROWS, 4),
        "same world (no drift)": same,
        "age +0.05 sd (below threshold)": shifted_small,
        "age +0.3 sd (above threshold)": shifted_large,
        "10% moved to job=student": same.assign(job=job),
    }
    sampled_config = params.drift
    full_config = params.drift.model_copy(update={"sample_rows": 0})

    started = time.perf_counter()
    import evidently  # noqa: F401  (timed once: the check itself is timed without it)

    import_seconds = time.perf_counter() - started
    rows = []
    for name, current in scenarios.items():
        times = []
        plain_times = []  # the same sampled check with the speed-ups off, run alternately
        for _ in range(args.repeats):
            started = time.perf_counter()
            sampled = drift.run_check(reference, current, model, sampled_config, params.seed)
            times.append(time.perf_counter() - started)
            if not args.plain:
                continue
            os.environ["SPEEDUPS"] = "off"
            try:
                started = time.perf_counter()
                plain = drift.run_check(reference, current, model, sampled_config, params.seed)
                plain_times.append(time.perf_counter() - started)
            finally:
                del os.environ["SPEEDUPS"]
            if plain.summary != sampled.summary:
                raise SystemExit(f"{name}: the speed-ups changed the drift summary")
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            sampled.save_html(Path(scratch) / "drift.html")  # builds Evidently's report
            report_seconds = time.perf_counter() - started
        full_times = []
        for _ in range(args.full_repeats):
            started = time.perf_counter()
            full = drift.run_check(reference, current, model, full_config, params.seed)
            full_times.append(time.perf_counter() - started)
        a, b = verdicts(sampled.summary), verdicts(full.summary)
        differing = sorted(c for c in a["columns"] if a["columns"][c] != b["columns"].get(c))
        rows.append(
            {
                "name": name,
                "sampled": statistics.median(times),
                "plain": statistics.median(plain_times) if plain_times else None,
                "report": report_seconds,
                "full": statistics.median(full_times),
                "same": a == b,
                "differing": differing,
                "dataset": (a["dataset"], b["dataset"]),
                "prediction": (a["prediction"], b["prediction"]),
                "drifted": (sum(a["columns"].values()), sum(b["columns"].values())),
                "age": (
                    sampled.summary["per_column"].get("age", {}).get("score"),
                    full.summary["per_column"].get("age", {}).get("score"),
                ),
            }
        )
        print(rows[-1], file=sys.stderr, flush=True)

    cli_import = [
        float(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import time,sys; t=time.perf_counter(); "
                    f"import {pkg}.cli, {pkg}.drift.monitor; "
                    "print(time.perf_counter()-t); "
                    "sys.exit('evidently' in sys.modules)",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(3)
    ]
    cores = len(__import__("os").sched_getaffinity(0))
    print(
        f"## Drift check\n\n`bench/drift_bench.py`, {platform.processor() or platform.machine()}, "
        f"{cores} cores available, Python {platform.python_version()}; {args.repeats} runs "
        f"sampled (median), {args.full_repeats} full. 1,000,000 current rows against a "
        f"1,000,000-row reference, 19 feature columns plus the model's scores; sample "
        f"{sampled_config.sample_rows:,} rows per side, seed {params.seed}.\n"
    )
    print(
        "| current data | sampled (s) | sampled, SPEEDUPS=off (s) | report for the HTML (s) "
        "| full data (s) | speed-up | dataset drift (sampled / full) "
        "| drifted columns | prediction drift | `age` score | verdicts identical |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|---|---|---|")
    for r in rows:
        plain = "-" if r["plain"] is None else f"{r['plain']:.2f}"
        print(
            f"| {r['name']} | {r['sampled']:.2f} | {plain} | {r['report']:.2f} | {r['full']:.1f} "
            f"| {r['full'] / r['sampled']:.0f}x "
            f"| {r['dataset'][0]} / {r['dataset'][1]} | {r['drifted'][0]} / {r['drifted'][1]} "
            f"| {r['prediction'][0]} / {r['prediction'][1]} "
            f"| {r['age'][0]} / {r['age'][1]} "
            f"| {'yes' if r['same'] else 'no: ' + ', '.join(r['differing'])} |"
        )
    print(
        f"\nImport of Evidently: {import_seconds:.1f} s (once per process). "
        f"`import {pkg}.cli, {pkg}.drift.monitor`: median {statistics.median(cli_import):.2f} s, "
        "without loading Evidently (checked by the same command's exit status)."
    )


def outside(args: argparse.Namespace) -> None:
    """Bake and run the pipeline unless given a project; measure inside its environment."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import baked_project, timed

    project = args.project
    if project is None:
        project = baked_project()
        timed(["uv", "run", "--frozen", "dvc", "exp", "run"], project)
    command = [
        "uv", "run", "--frozen", "python", str(Path(__file__).resolve()), "--inside",
        "--repeats", str(args.repeats), "--full-repeats", str(args.full_repeats),
        *(["--plain"] if args.plain else []),
    ]  # fmt: skip
    subprocess.run(command, cwd=project, check=True)


if __name__ == "__main__":
    main()
