"""Benchmark: a no-op `dvc exp run` against `dvc version`'s start-up, side by side.

    uv run python bench/noop.py [--runs 5] [--project DIR] [--libyaml-switch]

bakes the default project (or uses `--project`, a baked git repository with a synced `.venv`),
runs the pipeline once with `dvc exp run`, then alternates `dvc version` and a no-op
`dvc exp run` (nothing changed) `--runs` times each with Python's bytecode cache on, and prints
the medians and their ratio (target: the no-op under 1.5 s or under 2x `dvc version`, whichever
is larger). One more no-op run is profiled with `--cprofile-dump`; the largest items by
cumulative time are printed. The machine may be shared: the ratio is the figure to compare,
and the CPU seconds (the command's and its children's) move less with the load than the wall.
`--libyaml-switch` adds, in the same alternation, the no-op with ruamel.yaml's libyaml parser
hidden (DVC then parses dvc.yaml, dvc.lock and params.yaml in pure Python, as it did before the
generated project installed `ruamel.yaml.clib`).
"""

from __future__ import annotations

import argparse
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
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


# `dvc` with ruamel.yaml's libyaml parser hidden (the import of its C module fails), so DVC
# parses with the pure-Python one: the switch for `--libyaml-switch`.
PURE_YAML_DVC = (
    "import sys; sys.modules['_ruamel_yaml'] = None; from dvc.cli import main; sys.exit(main())"
)


def timed_cpu(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--project", type=Path, help="a baked git repository with a synced .venv")
    parser.add_argument(
        "--libyaml-switch",
        action="store_true",
        help="also time the no-op with ruamel.yaml's libyaml parser hidden (pure Python)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import baked_project, machine, timed
    from conftest import clean_env

    project = args.project or baked_project()
    dvc = ["uv", "run", "--frozen", "dvc"]
    timed([*dvc, "exp", "run"], project, USER_ENV)  # the real run; writes the bytecode caches
    commands = {"`dvc version`": [*dvc, "version"], "no-op `dvc exp run`": [*dvc, "exp", "run"]}
    if args.libyaml_switch:
        pure = ["uv", "run", "--frozen", "python", "-c", PURE_YAML_DVC, "exp", "run"]
        commands["no-op `dvc exp run`, pure-Python YAML"] = pure
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(timed_cpu(command, project, clean_env(USER_ENV)))
    version = statistics.median(wall for wall, _ in times["`dvc version`"])
    noop = statistics.median(wall for wall, _ in times["no-op `dvc exp run`"])
    parser_check = "from ruamel.yaml.main import CParser; print(CParser is not None)"
    libyaml = subprocess.run(
        ["uv", "run", "--frozen", "python", "-c", parser_check],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    profile = Path(tempfile.mkdtemp()) / "noop.prof"
    timed([*dvc, "exp", "run", "--cprofile-dump", str(profile)], project, USER_ENV)
    stats = pstats.Stats(str(profile))
    total = max(entry[3] for entry in stats.stats.values())  # type: ignore[attr-defined]
    print(f"`bench/noop.py`, {machine()}, medians of {args.runs} alternating runs.\n")
    print("| command | median wall (s) | median CPU (s) | runs, wall (s) |")
    print("|---|---:|---:|---|")
    for name, runs in times.items():
        walls = ", ".join(f"{wall:.2f}" for wall, _ in runs)
        wall = statistics.median(wall for wall, _ in runs)
        cpu = statistics.median(cpu for _, cpu in runs)
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {walls} |")
    print(f"| no-op / `dvc version` | {noop / version:.2f}x | | target: under 2x or under 1.5 s |")
    print(f"\nruamel.yaml's libyaml parser (ruamel.yaml.clib) installed: {libyaml}.")
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
