"""Benchmark: the Dask engine against the local one on an enlargement of the sample.

Bakes the default project, enlarges the sample to `rows` rows (as memory_1m.py), runs
`prepare`, then measures wall time and peak resident memory of the largest single process
(the stage, or one Dask worker) for: training with the local engine in holdout mode
(cv_folds 0, the same procedure the Dask engine runs), training on a 2-worker local Dask
cluster (processes), training with the external-memory engine (XGBoost's external-memory
matrix over batches of `partition_rows` rows of the prepared Parquet), and batch scoring of
the test split locally and on Dask.

Usage: uv run python bench/scaling.py [rows] [partition_rows]
"""

from __future__ import annotations

import shutil
import sys

import yaml
from common import baked_project, machine, timed
from common import peak_rss_mb as measure
from memory_1m import ENLARGE


def main(rows: int = 10_000_000, partition_rows: int = 500_000) -> None:
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
    for engine in ("local", "dask", "external_memory"):
        params["train"]["engine"] = engine
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        figures[f"train, {engine}"] = measure(
            [*run, "-m", "term_deposit_model.stages.train"], project
        )
    for engine in ("local", "dask"):
        out = f"scores-{engine}.parquet"
        figures[f"predict, {engine}"] = measure(
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
        print(f"{name:<24} {seconds:8.1f} s   peak of one process {peak:8.0f} MB")
    shutil.rmtree(project.parent)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
