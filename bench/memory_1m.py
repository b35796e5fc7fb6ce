"""Benchmark: peak memory of each stage on a 1M-row synthetic enlargement of the sample.

The enlargement resamples the sample's rows with replacement (seeded) and jitters the numeric
columns slightly so that rows are not exact duplicates (prepare would drop those). Target
(issue 2): under 3 GB. Each stage is its own process; the peak of each is reported.

Usage: uv run python bench/memory_1m.py [rows]
"""

from __future__ import annotations

import shutil
import sys

from common import baked_project, machine, timed
from common import peak_rss_mb as measure

# Runs inside the baked project's environment (the template's own has no pandas).
ENLARGE = """
import sys
import numpy as np
import pandas as pd
rows = int(sys.argv[1])
frame = pd.read_csv("data/raw/bank-additional-full.csv.gz", sep=";")
rng = np.random.default_rng(0)
big = frame.iloc[rng.integers(0, len(frame), rows)].reset_index(drop=True)
big["age"] = np.clip(big["age"] + rng.integers(-2, 3, rows), 17, 98)
big["euribor3m"] = (big["euribor3m"] + rng.normal(0, 0.001, rows)).clip(0).round(5)
big["cons.conf.idx"] = (big["cons.conf.idx"] + rng.normal(0, 0.01, rows)).round(3)
big.to_csv("data/raw/big.csv", sep=";", index=False)
"""


def main(rows: int = 1_000_000) -> None:
    project = baked_project()
    (project / "enlarge.py").write_text(ENLARGE)
    timed(["uv", "run", "--frozen", "python", "enlarge.py", str(rows)], project)
    params = (project / "params.yaml").read_text()
    (project / "params.yaml").write_text(
        params.replace("path: data/raw/bank-additional-full.csv.gz", "path: data/raw/big.csv")
    )
    print(f"# memory on {rows:,} rows ({machine()})")
    for stage in ("prepare", "train", "evaluate"):
        seconds, peak = measure(
            ["uv", "run", "--frozen", "python", "-m", f"term_deposit_model.stages.{stage}"], project
        )
        print(f"{stage:<9} {seconds:7.1f} s   peak {peak:7.0f} MB")
    shutil.rmtree(project.parent)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
