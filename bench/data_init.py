"""Benchmark: `data init` on a 1,000,000-row, 30-column CSV (target: at most 10 s on 2 cores).

The table is synthetic and seeded: 14 float columns (one with blank strings, one with `?`
markers), 8 integer columns, 5 category columns (3 to 40 levels), an identifier, a date and a
yes/no target. Each run is `python -m <package> data init big.csv --target y --force` in a
fresh process (wall time and peak memory); the median of the runs is reported, for the fast
reader (PyArrow, the default) and `--plain-reader` (pandas).

Usage: uv run python bench/data_init.py [rows] [runs]
"""

from __future__ import annotations

import sys

from common import baked_project, machine, median, package_of, timed
from common import peak_rss_mb as measure

# Runs inside the baked project's environment (the template's own has no pandas).
MAKE_TABLE = """
import sys
import numpy as np
import pandas as pd
rows = int(sys.argv[1])
rng = np.random.default_rng(0)
columns = {"customer_id": [f"C{i:08d}" for i in range(rows)]}
for i in range(14):
    values = rng.normal(100 * (i + 1), 10, rows).round(3).astype(str)
    if i == 0:
        values[rng.random(rows) < 0.01] = ""
    if i == 1:
        values[rng.random(rows) < 0.01] = "?"
    columns[f"num_{i}"] = values
for i in range(8):
    columns[f"count_{i}"] = rng.integers(0, 50 * (i + 1), rows)
for i, levels in enumerate([3, 5, 12, 20, 40]):
    columns[f"cat_{i}"] = rng.choice([f"level {j}" for j in range(levels)], rows)
columns["day"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), "D")
columns["y"] = np.where(rng.random(rows) < 0.12, "yes", "no")
pd.DataFrame(columns).to_csv("big.csv", index=False)
"""


def main(rows: int = 1_000_000, runs: int = 5) -> None:
    project = baked_project()
    (project / "make_table.py").write_text(MAKE_TABLE)
    timed(["uv", "run", "--frozen", "python", "make_table.py", str(rows)], project)
    size = (project / "big.csv").stat().st_size
    package = package_of(project)
    command = ["uv", "run", "--frozen", "python", "-m", package, "data", "init", "big.csv"]
    command += ["--target", "y", "--force", "--dvc-above", str(10 * size)]
    print(f"{machine()}\n{rows:,} rows x 30 columns, {size / 1e6:.0f} MB CSV; {runs} runs each")
    for label, extra in (
        ("fast reader (PyArrow)", []),
        ("--plain-reader (pandas)", ["--plain-reader"]),
    ):
        results = [measure([*command, *extra], project) for _ in range(runs)]
        walls = [wall for wall, _ in results]
        peaks = [peak for _, peak in results]
        print(
            f"{label}: median {median(walls):.2f} s (runs {', '.join(f'{w:.2f}' for w in walls)}), "
            f"peak RSS median {median(peaks):.0f} MB"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
