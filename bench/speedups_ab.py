"""Benchmark: the evaluate and drift stages' work with the speed-ups on and off, in one process.

    uv run python bench/speedups_ab.py [--runs 3] [--project DIR]

Inside a baked project whose pipeline has run (`--project`; otherwise a new bake, its stages run
once), imports each stage module once, then calls the stage function `--runs` times with the
generated package's speed-ups on and `--runs` times with `SPEEDUPS=off`, alternating. Reported
per stage: median wall and CPU seconds (`time.process_time`, all threads of the process) of the
stage's work, the ratios on / off, and whether every output file has the same bytes in both
modes. CPU seconds are the steadier figure on a shared machine: other jobs stretch the wall time
of both modes but not the CPU time this process spends.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

STAGES = ("evaluate", "drift")


def inside(runs: int) -> None:
    import yaml

    package = Path(sorted(glob.glob("src/*/__init__.py"))[0]).parent.name
    params = importlib.import_module(f"{package}.settings.params").load_params()
    pipeline = yaml.safe_load(Path("dvc.yaml").read_text())
    print(
        "| stage | wall on (s) | wall off (s) | wall on / off "
        "| CPU on (s) | CPU off (s) | CPU on / off | outputs identical |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for stage in STAGES:
        body = getattr(importlib.import_module(f"{package}.stages.{stage}"), stage)
        outs = [
            Path(o if isinstance(o, str) else next(iter(o)))
            for o in pipeline["stages"][stage].get("outs", [])
        ]
        body(params)  # warm: lazy imports (Evidently, fairlearn) are not what is compared
        found: dict[str, dict[str, list]] = {
            m: {"wall": [], "cpu": [], "md5": []} for m in ["on", "off"]
        }
        for _ in range(runs):
            for mode in ("on", "off"):
                os.environ["SPEEDUPS"] = mode
                wall, cpu = time.perf_counter(), time.process_time()
                body(params)
                found[mode]["wall"].append(time.perf_counter() - wall)
                found[mode]["cpu"].append(time.process_time() - cpu)
                found[mode]["md5"].append(
                    {
                        str(p): hashlib.md5(p.read_bytes()).hexdigest()
                        for p in outs
                        if p.is_file() and p.suffix != ".html"  # the HTML embeds random ids
                    }
                )
        del os.environ["SPEEDUPS"]
        same = all(d == found["on"]["md5"][0] for m in found for d in found[m]["md5"])
        med = {m: {k: statistics.median(found[m][k]) for k in ("wall", "cpu")} for m in found}
        on, off = med["on"], med["off"]
        print(
            f"| {stage} | {on['wall']:.2f} | {off['wall']:.2f} | {on['wall'] / off['wall']:.2f} "
            f"| {on['cpu']:.2f} | {off['cpu']:.2f} | {on['cpu'] / off['cpu']:.2f} "
            f"| {'yes' if same else 'NO'} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--project", type=Path, help="a baked project whose pipeline has run")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args.runs)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import baked_project, machine, timed

    project = args.project
    if project is None:
        project = baked_project()
        timed(["uv", "run", "--frozen", "dvc", "exp", "run"], project)
    print(f"`bench/speedups_ab.py`, {machine()}, median of {args.runs} alternating runs.\n")
    sys.stdout.flush()
    command = [
        "uv", "run", "--frozen", "python", str(Path(__file__).resolve()), "--inside",
        "--runs", str(args.runs),
    ]  # fmt: skip
    subprocess.run(command, cwd=project, check=True)


if __name__ == "__main__":
    main()
