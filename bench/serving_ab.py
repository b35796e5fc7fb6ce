"""Benchmark: two or more services side by side, interleaved, by server CPU time per request.

Usage (from the template root; each PROJECT a baked project after `dvc exp run`, of any
commit of the template: the service module is found in either package layout):

    uv run python bench/serving_ab.py NAME=PROJECT [NAME=PROJECT ...] [--baseline NAME]
        [--concurrency 32] [--rounds 5] [--requests 5000] [--body FILE]
        [--side-env NAME=KEY=VALUE ...]

With one worker a server is bound by one core, so its throughput is about the inverse of its
CPU time per request; that time (user + system of the server's whole process tree, read from
/proc around the measured requests) is the server's alone, whatever the load generator takes of
the other core. This shared machine's speed drifts by 20% from minute to minute, so the sides
are interleaved round by round and compared round by round as well. `--baseline NAME` adds the
bare ASGI baseline of bench/serving.py on that project's model. Each round starts each server
afresh, sends 1,000 requests of warm-up, then two runs of `--requests` single-record requests
(bench/loadgen.py, closed loop) at `--concurrency`. The body is `--body`, else each project's
own (its `example` command); a project that predates that command sends another side's (the
sides serve the same data). `--side-env` adds an environment variable to one side's server (the
same project under two names, two settings). Every project gets a BentoML store of its own (its
model imported there), so no side serves another's model. Prints per side: median requests/s,
median CPU microseconds per request (both over the rounds, with every round's value) and their
ratios to the first side's: the ratio of the medians and the median of the per-round ratios
(paired: the sides of one round ran within a minute of each other).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from common import descendants, free_port, package_of, proc_stats, start, stop, write_bodies
from serving import BASELINE_APP, load

HERE = Path(__file__).resolve().parent
WARMUP_REQUESTS = 1000
RUNS_PER_ROUND = 2


def service_module(project: Path, package: str) -> str:
    """`<package>.serving.service` (grouped layout) or `<package>.service` (the first one)."""
    grouped = project / "src" / package / "serving" / "service.py"
    return f"{package}.serving.service" if grouped.exists() else f"{package}.service"


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process `root` and its descendants, from /proc."""
    stats = proc_stats()
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in descendants(root, stats))
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(side: dict, concurrency: int, requests: int) -> tuple[float, float, int]:
    """(requests/s, server CPU microseconds per request, errors) of one fresh server."""
    port = free_port()
    project = side["project"]
    if side["baseline"]:
        command = [str(project / ".venv" / "bin" / "uvicorn"), "baseline_app:app"]
        command += ["--app-dir", str(side["app_dir"]), "--workers", "1", "--no-access-log"]
        command += ["--log-level", "warning"]
    else:
        command = [str(project / ".venv" / "bin" / "bentoml"), "serve", side["module"]]
        command += ["--working-dir", "build/bento"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    python = project / ".venv" / "bin" / "python"
    url = f"http://127.0.0.1:{port}/predict"
    process = start(command, project, side["env"], port)
    try:
        load(python, url, side["body"], concurrency, WARMUP_REQUESTS, 0)
        before = tree_cpu_seconds(process.pid)
        runs = [
            load(python, url, side["body"], concurrency, requests, 0) for _ in range(RUNS_PER_ROUND)
        ]
        cpu = tree_cpu_seconds(process.pid) - before
    finally:
        stop(process)
    errors = sum(r["errors"] for r in runs)
    rate = max(r["requests_per_s"] for r in runs)
    return rate, cpu / (RUNS_PER_ROUND * requests) * 1e6, errors


def prepare(name: str, project: Path, scratch: Path, baseline: bool) -> dict:
    """A side: its own BentoML store with its model imported, its request body, its command."""
    package = package_of(project)
    env = {
        **os.environ,
        "BENTOML_DO_NOT_TRACK": "True",
        "BENTOML_HOME": str(scratch / f"bentoml-{name}"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # steady-state serving, not import compilation
    python = project / ".venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", package, "bento", "--no-build"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
    )
    folder = scratch / name
    folder.mkdir()
    try:
        body: Path | None = write_bodies(project, folder)["one"]
    except SystemExit:  # a project of a commit before the `example` command
        body = None
    side = {"name": name, "project": project, "env": env, "body": body}
    side |= {"module": f"{service_module(project, package)}:Service", "baseline": baseline}
    if baseline:
        app_dir = scratch / f"{name}-app"
        app_dir.mkdir()
        (app_dir / "baseline_app.py").write_text(BASELINE_APP.format(package=package))
        serve = yaml.safe_load((project / "params.yaml").read_text())["serve"]
        side |= {"app_dir": app_dir}
        side["env"] = {**env, "LARGE_BATCH_THREADS": str(serve["large_batch_threads"])}
    return side


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sides", nargs="+", help="NAME=PROJECT")
    parser.add_argument("--baseline", help="add the bare baseline on this side's model")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--body", type=Path, help="one record's request body for every side")
    parser.add_argument(
        "--side-env", action="append", default=[], help="NAME=KEY=VALUE: for that side's server"
    )
    args = parser.parse_args()
    named = dict(s.split("=", 1) for s in args.sides)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        sides = [prepare(n, Path(p).resolve(), scratch, False) for n, p in named.items()]
        if args.baseline:
            sides.append(prepare("baseline", Path(named[args.baseline]).resolve(), scratch, True))
        written = [s["body"] for s in sides if s["body"] is not None]
        if args.body is None and not written:
            raise SystemExit("no side has the `example` command to write a body: give --body")
        for side in sides:  # of the same data: a project without `example` takes another's
            side["body"] = args.body or side["body"] or written[0]
        for extra in args.side_env:
            name, key, value = extra.split("=", 2)
            next(s for s in sides if s["name"] == name)["env"][key] = value
        results: dict[str, list[tuple[float, float, int]]] = {s["name"]: [] for s in sides}
        for round_ in range(args.rounds):
            for side in sides:
                result = measure(side, args.concurrency, args.requests)
                results[side["name"]].append(result)
                print(round_, side["name"], result, file=sys.stderr, flush=True)
    first = sides[0]["name"]
    medians = {
        name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
        for name, rs in results.items()
    }
    print(f"concurrency {args.concurrency}, {args.rounds} rounds of 2 x {args.requests} requests")
    print(
        "| side | req/s (median) | ratio of medians | paired ratio | CPU us/request (median) "
        "| ratio of medians | paired ratio | rounds: req/s; CPU us | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rs in results.items():
        rate, cpu = medians[name]
        # the median of the per-round ratios: each round's sides ran minutes apart at most
        paired = [
            statistics.median(r[i] / f[i] for r, f in zip(rs, results[first], strict=True))
            for i in (0, 1)
        ]
        rounds = ", ".join(f"{r[0]:.0f}" for r in rs) + "; " + ", ".join(f"{r[1]:.0f}" for r in rs)
        print(
            f"| {name} | {rate:.0f} | {rate / medians[first][0]:.2f} | {paired[0]:.2f} | "
            f"{cpu:.0f} | {cpu / medians[first][1]:.2f} | {paired[1]:.2f} | {rounds} | "
            f"{sum(r[2] for r in rs)} |"
        )


if __name__ == "__main__":
    main()
