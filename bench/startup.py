"""Benchmark: `make serve` to a 200 from `/readyz` on an up-to-date project, and its parts.

Usage (from the template root; PROJECT is a baked project after `dvc repro`):

    uv run python bench/startup.py PROJECT [--repeats 5]

In turns, so that drift in a shared machine hits both alike:
- `make serve`: `dvc repro package` (nothing to do), the bento import (already in the store),
  `bentoml serve <package>.serving.entry:Service`, whose main process gets a service shell;
- baseline: the same steps with `<package>.serving.service:Service` (the main process builds
  the whole service, model and all, before starting the worker that builds it again).
It also times the steps alone. Prints medians (wall seconds) and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import free_port, stop


def seconds_to_ready(command: list[str], cwd: Path, env: dict[str, str], port: int) -> float:
    """Wall seconds from starting `command` to a 200 from /readyz; the server is then stopped."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - start < 300:
            if process.poll() is not None:
                raise SystemExit(f"{command} exited {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                    return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"{command}: not ready in 300 s")
    finally:
        stop(process)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    project = args.project.resolve()
    package = next(p.parent.name for p in (project / "src").glob("*/__init__.py"))
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "True"}
    env["BENTOML_HOME"] = str(project.parent / "bench-startup-bentoml-home")
    run = ["uv", "run", "--frozen"]
    subprocess.run(["make", "package"], cwd=project, env=env, check=True, capture_output=True)
    subprocess.run(
        [*run, "python", "-m", package, "bento", "--no-build"], cwd=project, env=env, check=True
    )
    port = free_port()
    serve = [*run, "bentoml", "serve", "--working-dir", "build/bento", "--host", "127.0.0.1"]
    serve += ["--port", str(port)]
    baseline = (
        f"{' '.join(run)} dvc repro package && "
        f"{' '.join(run)} python -m {package} bento --no-build && "
        f"{' '.join(serve)} {package}.serving.service:Service"
    )
    figures: dict[str, list[float]] = {
        "make serve": [],
        "baseline": [],
        "dvc repro package": [],
        "bento import": [],
        "bentoml serve (entry)": [],
        "bentoml serve (service)": [],
    }
    for _ in range(args.repeats):
        figures["make serve"].append(
            seconds_to_ready(["make", "serve", f"PORT={port}"], project, env, port)
        )
        figures["baseline"].append(seconds_to_ready(["bash", "-c", baseline], project, env, port))
        figures["dvc repro package"].append(timed([*run, "dvc", "repro", "package"], project, env))
        figures["bento import"].append(
            timed([*run, "python", "-m", package, "bento", "--no-build"], project, env)
        )
        for name in ("entry", "service"):
            figures[f"bentoml serve ({name})"].append(
                seconds_to_ready([*serve, f"{package}.serving.{name}:Service"], project, env, port)
            )
        print(json.dumps({k: v[-1] for k, v in figures.items()}), file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(json.dumps({"medians": medians, "runs": figures}))
    print("| step | median s | runs | ratio to baseline |")
    print("|---|---|---|---|")
    for name, value in medians.items():
        runs = ", ".join(f"{v:.1f}" for v in figures[name])
        ratio = f"{value / medians['baseline']:.2f}" if name in ("make serve", "baseline") else ""
        print(f"| {name} | {value:.1f} | {runs} | {ratio} |")


if __name__ == "__main__":
    main()
