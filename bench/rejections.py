"""Benchmark: rejected requests against accepted ones on the same running service.

Usage (from the template root; PROJECT is a baked project after `dvc exp run`, on any data
and task; `--requests 200 --repeats 1` for a quick smoke run):

    uv run python bench/rejections.py PROJECT [--requests 5000] [--repeats 3]

Starts `bentoml serve` once and loads it (bench/loadgen.py, concurrency 32) in turns with a
valid single-record body and with bad ones (common.write_bodies, from the project's configured
data): a bad value (text in a numeric feature, or an unseen level when every feature is a
category: a schema error naming the field), malformed JSON, and a record with an unknown key.
Prints requests/s for each, the ratio of each bad body's rate to the valid one's (target: at
least 1.0) and the server's log bytes per rejected request.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import free_port, package_of, start, stop, write_bodies
from serving import load

LOGS_PER_SECOND_NOTE = "the service logs at most 10 rejection lines a second, then a summary"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    project = args.project.resolve()
    package = package_of(project)
    python = project / ".venv" / "bin" / "python"
    env = {
        **os.environ,
        "BENTOML_DO_NOT_TRACK": "True",
        "BENTOML_HOME": str(project.parent / "bench-bentoml-home"),
    }
    subprocess.run(
        [str(python), "-m", package, "bento", "--no-build"], cwd=project, env=env, check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        written = write_bodies(project, scratch, rows=1)
        bodies = ["one", "bad_value", "malformed", "unknown_field"]
        port = free_port()
        log = scratch / "server.log"
        command = [
            str(project / ".venv" / "bin" / "bentoml"),
            "serve",
            f"{package}.serving.service:Service",
            "--working-dir",
            "build/bento",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        process = start(command, project, env, port, log)
        runs: dict[str, list[dict]] = {b: [] for b in bodies}
        try:
            url = f"http://127.0.0.1:{port}/predict"
            load(python, url, written["one"], 32, 1000, 0)  # warm-up
            logged_before = log.stat().st_size
            for _ in range(args.repeats):
                for body in bodies:  # in turns, so that drift in the machine hits all alike
                    runs[body].append(load(python, url, written[body], 32, args.requests, 0))
                    print(body, runs[body][-1], file=sys.stderr)
            logged = log.stat().st_size - logged_before
        finally:
            stop(process)
    rate = {b: statistics.median(r["requests_per_s"] for r in runs[b]) for b in bodies}
    rejected = args.repeats * args.requests * (len(bodies) - 1)
    statuses = {b: runs[b][-1]["statuses"] for b in bodies}
    print(json.dumps({"requests_per_s": rate, "statuses": statuses, "log_bytes": logged}))
    print("| body | status | requests/s | ratio to valid (one) |")
    print("|---|---|---|---|")
    for body in bodies:
        print(
            f"| {body} | {', '.join(statuses[body])} | {rate[body]:.0f} | "
            f"{rate[body] / rate['one']:.2f} |"
        )
    print(f"\nlog: {logged} bytes for {rejected} rejected requests ({LOGS_PER_SECOND_NOTE})")


if __name__ == "__main__":
    main()
