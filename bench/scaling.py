"""Benchmark: the Dask engine against the local one on an enlargement of the sample.

Bakes the default project, enlarges the sample to `rows` rows (as memory_1m.py), runs
`prepare`, then measures wall time and peak resident memory of the largest single process
(the stage, or one Dask worker) for: training with the local engine in holdout mode
(cv_folds 0, the same procedure the Dask engine runs), training on a 2-worker local Dask
cluster (processes), training with the external-memory engine (XGBoost's external-memory
matrix over batches of `partition_rows` rows of the prepared Parquet), and batch scoring of
the test split locally and on Dask.

With `train.dask.external_memory: true`, the Dask engine's workers each stream their own
batches through XGBoost's external memory ("train, dask + external memory").

Usage: uv run python bench/scaling.py [rows] [partition_rows] [step ...]
(steps: train-local, train-dask, train-dask-external-memory, train-external-memory,
predict-local, predict-dask; default: all)
"""

from __future__ import annotations

import shutil
import sys

import yaml
from common import baked_project, machine, timed
from common import peak_rss_mb as measure
from memory_1m import ENLARGE

TRAINING = {
    "train-local": ("local", False),
    "train-dask": ("dask", False),
    "train-dask-external-memory": ("dask", True),
    "train-external-memory": ("external_memory", False),
}
PREDICTION = {"predict-local": "local", "predict-dask": "dask"}


def main(rows: int, partition_rows: int, steps: list[str]) -> None:
    project = baked_project()
    run = ["uv", "run", "--frozen", "python"]
    (project / "enlarge.py").write_text(ENLARGE)
    timed([*run, "enlarge.py", str(rows)], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["path"] = "data/raw/big.csv"
    params["train"]["cv_folds"] = 0
    params["train"]["dask"].update(
        {"workers": 2, "threads_per_worker": 1, "processes": True, "partition_rows": partition_rows}
    )
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    timed([*run, "-m", "term_deposit_model.stages.prepare"], project)
    print(f"# scaling on {rows:,} rows, partitions of {partition_rows:,} ({machine()})")
    figures = {}
    for step in [s for s in steps if s in TRAINING]:
        engine, external_memory = TRAINING[step]
        params["train"]["engine"] = engine
        params["train"]["dask"]["external_memory"] = external_memory
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        figures[step] = measure([*run, "-m", "term_deposit_model.stages.train"], project)
    for step in [s for s in steps if s in PREDICTION]:
        engine = PREDICTION[step]
        out = f"scores-{engine}.parquet"
        figures[step] = measure(
            [
                *run,
                "-m",
                "term_deposit_model",
                "predict",
                "--engine",
                engine,
                "--input",
                "data/prepared/test.parquet",
                "--output",
                out,
                "--chunk-rows",
                str(partition_rows),
            ],
            project,
        )
    for name, (seconds, peak) in figures.items():
        print(f"{name:<28} {seconds:8.1f} s   peak of one process {peak:8.0f} MB")
    shutil.rmtree(project.parent)


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:3]]
    chosen = sys.argv[3:] or [*TRAINING, *PREDICTION]
    unknown = set(chosen) - {*TRAINING, *PREDICTION}
    if unknown:
        known = [*TRAINING, *PREDICTION]
        raise SystemExit(f"unknown step(s) {sorted(unknown)}: choose from {known}")
    main(*(numbers + [10_000_000, 500_000][len(numbers) :]), chosen)
