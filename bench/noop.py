"""Benchmark: a no-op `dvc exp run` against `dvc version`'s start-up, side by side.

    uv run python bench/noop.py [--runs 5] [--project DIR]

bakes the default project (or uses `--project`, a baked git repository with a synced `.venv`),
runs the pipeline once with `dvc exp run`, then alternates `dvc version` and a no-op
`dvc exp run` (nothing changed) `--runs` times each with Python's bytecode cache on, and prints
the medians and their ratio (target: the no-op under 1.5 s or under 2x `dvc version`, whichever
is larger). One more no-op run is profiled with `--cprofile-dump`; the largest items by
cumulative time are printed. The machine may be shared: the ratio is the figure to compare.
"""

from __future__ import annotations

import argparse
import pstats
import statistics
import sys
import tempfile
from pathlib import Path

USER_ENV = {"PYTHONDONTWRITEBYTECODE": ""}  # empty = unset: Python writes its bytecode cache
# Where a no-op run's time goes: cumulative seconds of these functions (file suffix, name).
ITEMS = {
    "YAML parsing (ruamel), every call": ("dvc/utils/serialize/_yaml.py", "parse_yaml"),
    "building the index (dvc.yaml, dvc.lock)": ("dvc/repo/index.py", "collect_files"),
    "Hydra composition into params.yaml": ("dvc/utils/hydra.py", "compose_and_dump"),
    "stashing the experiment (git)": ("dvc/repo/experiments/queue/base.py", "_stash_exp"),
    "stage status checks (6 stages)": ("dvc/stage/__init__.py", "reproduce"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--project", type=Path, help="a baked git repository with a synced .venv")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import baked_project, machine, timed

    project = args.project or baked_project()
    dvc = ["uv", "run", "--frozen", "dvc"]
    timed([*dvc, "exp", "run"], project, USER_ENV)  # the real run; writes the bytecode caches
    version, noop = [], []
    for _ in range(args.runs):
        version.append(timed([*dvc, "version"], project, USER_ENV))
        noop.append(timed([*dvc, "exp", "run"], project, USER_ENV))
    profile = Path(tempfile.mkdtemp()) / "noop.prof"
    timed([*dvc, "exp", "run", "--cprofile-dump", str(profile)], project, USER_ENV)
    stats = pstats.Stats(str(profile))
    total = max(entry[3] for entry in stats.stats.values())  # type: ignore[attr-defined]
    print(f"`bench/noop.py`, {machine()}, medians of {args.runs} alternating runs.\n")
    print("| command | median (s) | runs (s) |")
    print("|---|---:|---|")
    for name, times in (("`dvc version`", version), ("no-op `dvc exp run`", noop)):
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"| {name} | {statistics.median(times):.2f} | {runs} |")
    ratio = statistics.median(noop) / statistics.median(version)
    print(f"| no-op / `dvc version` | {ratio:.2f}x | target: under 2x or under 1.5 s |")
    print(f"\nProfiled no-op run ({total:.2f} s inside DVC), largest cumulative items:\n")
    for name, (suffix, function) in ITEMS.items():
        found = [
            (entry[1], entry[3])
            for (file, _, named), entry in stats.stats.items()  # type: ignore[attr-defined]
            if file.endswith(suffix) and named == function
        ]
        calls = sum(c for c, _ in found)
        seconds = sum(t for _, t in found)
        print(f"- {name}: {seconds:.2f} s ({calls} calls)")


if __name__ == "__main__":
    main()
