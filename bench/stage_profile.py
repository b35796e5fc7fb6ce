"""Benchmark: where each pipeline stage's time goes, and the speed-ups on and off side by side.

    uv run python bench/stage_profile.py [--runs 3] [--project DIR]

bakes the default project and runs every stage once to make its inputs (or uses `--project`, a
baked project whose stages have run), then runs each stage `--runs` times with the generated
package's speed-ups on and `--runs` times with `SPEEDUPS=off`, alternating, and prints medians:
- start-up: the process's wall time not spent in the stage module (interpreter, `site`, exit),
- imports: importing the stage module (and everything it imports at the top), and XGBoost
  where `model.files.load_model` imports it at its first call,
- read: `pandas.read_parquet`/`read_csv`, XGBoost's `load_model`, the params file,
- write: the staged outputs (`artifacts.atomic`), `DataFrame.to_parquet`, the drift HTML,
- work: the rest of the stage's own time, including imports done inside functions.
The outputs of every run are hashed: on and off must write the same bytes (files whose bytes
change from run to run in the same mode, such as a timestamped archive, are listed apart).
The machine may be shared: compare the ratio on/off of the same script run, not seconds
across runs.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STAGES = ("prepare", "train", "evaluate", "drift", "card", "package")
READS = ("pandas:read_parquet", "pandas:read_csv")
WRITES = ("pandas:DataFrame.to_parquet",)


def inside(stage: str) -> None:
    """Run one stage in this process with timers around its reads and writes; print JSON."""
    started = time.perf_counter()
    package = Path(sorted(glob.glob("src/*/__init__.py"))[0]).parent.name
    totals = {"read": 0.0, "write": 0.0}
    depth = [0]

    def timer(kind: str, owner: Any, name: str) -> None:
        real = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            depth[0] += 1
            begun = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    totals[kind] += time.perf_counter() - begun

        setattr(owner, name, timed)

    begun = time.perf_counter()
    stage_module = importlib.import_module(f"{package}.stages.{stage}")
    imports = time.perf_counter() - begun
    # Only what the stage imported itself is timed: nothing is imported here for the timers.
    if "pandas" in sys.modules:
        pandas = sys.modules["pandas"]
        for kind, names in (("read", READS), ("write", WRITES)):
            for dotted in names:
                owner: Any = pandas
                *path, attribute = dotted.split(":")[1].split(".")
                for part in path:
                    owner = getattr(owner, part)
                timer(kind, owner, attribute)
    if "xgboost" in sys.modules:
        timer("read", sys.modules["xgboost"].Booster, "load_model")
    else:  # `model.files.load_model` imports XGBoost when first called: counted as imports
        files = importlib.import_module(f"{package}.model.files")
        load_model = files.load_model

        def importing_load_model(*args: Any, **kwargs: Any) -> Any:
            if "xgboost" not in sys.modules:
                begun = time.perf_counter()
                xgboost = importlib.import_module("xgboost")
                totals["imports"] = totals.get("imports", 0.0) + time.perf_counter() - begun
                timer("read", xgboost.Booster, "load_model")
            return load_model(*args, **kwargs)

        for module in list(sys.modules.values()):
            if getattr(module, "load_model", None) is load_model:
                module.load_model = importing_load_model
    command = importlib.import_module(f"{package}.settings.command")
    timer("read", command, "load_params")
    atomic = importlib.import_module(f"{package}.artifacts.atomic")
    for name in ("write_bytes", "write_text", "write_json", "commit"):
        timer("write", atomic.StagedOutputs, name)
    if stage == "drift":
        check = importlib.import_module(f"{package}.drift.check")
        timer("write", check.DriftCheck, "save_html")
    begun = time.perf_counter()
    status = stage_module.main([])
    body = time.perf_counter() - begun
    if status != 0:
        raise SystemExit(f"stage {stage} failed with status {status}")
    lazy_imports = totals.pop("imports", 0.0)
    work = body - totals["read"] - totals["write"] - lazy_imports
    found = {"imports": imports + lazy_imports, "work": work, **totals}
    found["in_process"] = time.perf_counter() - started
    print(json.dumps(found))


def stage_outputs(project: Path, stage: str) -> list[Path]:
    import yaml

    pipeline = yaml.safe_load((project / "dvc.yaml").read_text())
    outs = pipeline["stages"][stage].get("outs", []) + pipeline["stages"][stage].get("metrics", [])
    found = []
    for out in outs:
        path = project / (out if isinstance(out, str) else next(iter(out)))
        found.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return found


def digests(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.md5(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def run_stage(project: Path, stage: str, speedups: str) -> tuple[dict[str, float], dict[str, str]]:
    env = {**os.environ, "SPEEDUPS": speedups}
    env.pop("VIRTUAL_ENV", None)
    command = [".venv/bin/python", str(Path(__file__).resolve()), "--inside", stage]
    begun = time.perf_counter()
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - begun
    if result.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    found = json.loads(result.stdout.strip().splitlines()[-1])
    found["wall"] = wall
    found["startup"] = wall - found.pop("in_process")
    return found, digests(stage_outputs(project, stage))


def outside(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import baked_project, machine

    project = args.project
    if project is None:
        project = baked_project()
        for stage in STAGES:  # inputs for every stage, and bytecode caches written
            run_stage(project, stage, "on")
    rows = []
    for stage in args.stages:
        times: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
        hashes: dict[str, list[dict[str, str]]] = {"on": [], "off": []}
        for _ in range(args.runs):
            for mode in ("on", "off"):
                found, digest = run_stage(project, stage, mode)
                times[mode].append(found)
                hashes[mode].append(digest)
        if args.runs < 2:  # one more run, untimed, tells which files vary from run to run
            hashes["on"].append(run_stage(project, stage, "on")[1])
        unstable = {
            name
            for mode in hashes
            for digest in hashes[mode][1:]
            for name in digest
            if digest[name] != hashes[mode][0].get(name)
        }
        same = all(
            hashes["on"][0][name] == hashes["off"][0].get(name)
            for name in hashes["on"][0]
            if name not in unstable
        )
        median = {
            mode: {
                key: statistics.median(run[key] for run in times[mode]) for key in times[mode][0]
            }
            for mode in times
        }
        rows.append((stage, median, same, sorted(unstable)))
        print(stage, median, same, file=sys.stderr, flush=True)
    print(
        f"`bench/stage_profile.py`, {machine()}, median of {args.runs} runs per mode, "
        "speed-ups on and off alternating in the same script.\n"
    )
    print(
        "| stage | start-up (s) | imports (s) | read (s) | work (s) | write (s) | wall (s) "
        "| wall, SPEEDUPS=off (s) | on / off | outputs identical |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    total = {"on": 0.0, "off": 0.0}
    for stage, median, same, unstable in rows:
        on, off = median["on"], median["off"]
        total["on"] += on["wall"]
        total["off"] += off["wall"]
        note = "yes" if same else "NO"
        if unstable:
            note += f" (bytes vary run to run: {', '.join(Path(u).name for u in unstable)})"
        print(
            f"| {stage} | {on['startup']:.2f} | {on['imports']:.2f} | {on['read']:.2f} "
            f"| {on['work']:.2f} | {on['write']:.2f} | {on['wall']:.2f} | {off['wall']:.2f} "
            f"| {on['wall'] / off['wall']:.2f} | {note} |"
        )
    print(
        f"| all stages | | | | | | {total['on']:.2f} | {total['off']:.2f} "
        f"| {total['on'] / total['off']:.2f} | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--project", type=Path, help="a baked project with a synced .venv")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args.inside)
    else:
        outside(args)


if __name__ == "__main__":
    main()
