"""Benchmark: a soak with 10% bad requests, and overload at concurrency 256, on one service.

Usage (from the template root; PROJECT is a baked project after `dvc repro`, on any data and
task; `--requests 20000 --overload-requests 500` for a quick smoke run):

    uv run python bench/soak.py PROJECT [--requests 100000] [--overload-requests 20000]

Starts `make serve`'s service once (`bentoml serve <package>.serving.entry:Service`), then:
- soak: `--requests` single-record requests at concurrency 32, every 10th one a bad body
  (common.write_bodies' `bad_value`: text in a numeric feature, or an unseen level), in rounds
  of 10,000 after a 10,000-request warm-up; the worker's resident memory (VmRSS) after each
  round, its growth after the warm-up (target under 5%), the server log's growth (target under
  1 MB) and the statuses (target: no 5xx);
- overload: `--overload-requests` valid requests at concurrency 256 (`serve.max_concurrency`
  refuses beyond it with 503): latency of the refusals (target within 50 ms) and p99 of the
  accepted (target under 1 s), twice: clients that ask again at once (a closed loop that
  ignores `Retry-After`, so the refusals' wait follows Little's law: 256 clients / refusals
  per second), then clients that wait as `Retry-After` says before their next request.
  Baseline: the same load at concurrency 32.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import descendants, free_port, package_of, proc_stats, start, stop, write_bodies

HERE = Path(__file__).resolve().parent
ROUND = 10_000


def load(
    python: Path,
    url: str,
    body: Path,
    concurrency: int,
    n: int,
    bad: Path | None,
    polite: bool = False,
) -> dict:
    command = [str(python), str(HERE / "loadgen.py"), url, str(body)]
    command += ["--concurrency", str(concurrency), "--requests", str(n)]
    if bad is not None:
        command += ["--bad-body", str(bad), "--bad-every", "10"]
    if polite:
        command += ["--honour-retry-after"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def worker_memory_mib(root: int) -> dict[str, float]:
    """VmRSS and its parts (RssAnon: heap; RssFile: mapped files such as the Prometheus
    multiprocess files and libraries; RssShmem), in MiB, of the service's worker processes
    among `root`'s descendants."""
    family = descendants(root, proc_stats())
    keys = ("VmRSS", "RssAnon", "RssFile", "RssShmem")
    total = dict.fromkeys(keys, 0.0)
    for pid in family:
        try:
            if b"_bentoml_impl.worker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        for line in status:
            name = line.split(":")[0]
            if name in total:
                total[name] += int(line.split()[1]) / 1024
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--overload-requests", type=int, default=20_000)
    args = parser.parse_args()
    project = args.project.resolve()
    package = package_of(project)
    python = project / ".venv" / "bin" / "python"
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "True"}
    env["BENTOML_HOME"] = str(project.parent / "bench-soak-bentoml-home")
    subprocess.run(
        [str(python), "-m", package, "bento", "--no-build"], cwd=project, env=env, check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        bodies = write_bodies(project, scratch, rows=1)
        valid, bad = bodies["one"], bodies["bad_value"]
        port = free_port()
        url = f"http://127.0.0.1:{port}/predict"
        log = scratch / "server.log"
        command = [str(project / ".venv" / "bin" / "bentoml"), "serve"]
        command += [f"{package}.serving.entry:Service", "--working-dir", "build/bento"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        process = start(command, project, env, port, log)
        try:
            warm = load(python, url, valid, 32, ROUND, bad)
            memory = [worker_memory_mib(process.pid)]
            logged = log.stat().st_size
            rounds = []
            for _ in range(max(1, (args.requests - ROUND) // ROUND)):
                rounds.append(load(python, url, valid, 32, ROUND, bad))
                memory.append(worker_memory_mib(process.pid))
                print(json.dumps({"round": rounds[-1], "memory_mib": memory[-1]}), file=sys.stderr)
            log_bytes = log.stat().st_size - logged
            calm = load(python, url, valid, 32, args.overload_requests, None)
            overload = load(python, url, valid, 256, args.overload_requests, None)
            polite = load(python, url, valid, 256, args.overload_requests, None, polite=True)
        finally:
            stop(process)
    rss = [m["VmRSS"] for m in memory]
    statuses: dict[str, int] = {}
    for result in [warm, *rounds]:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    summary = {
        "requests": sum(r["requests"] for r in [warm, *rounds]),
        "statuses": statuses,
        "server_errors": sum(v for k, v in statuses.items() if not k.startswith(("2", "4"))),
        "rss_mib_after_warmup": rss[0],
        "rss_mib_rounds": rss[1:],
        "rss_growth_pct": round(100 * (max(rss) - rss[0]) / rss[0], 2),
        "memory_mib_by_round": [{k: round(v, 1) for k, v in m.items()} for m in memory],
        "log_bytes_after_warmup": log_bytes,
        "requests_per_s": [r["requests_per_s"] for r in rounds],
        "c32": calm,
        "c256": overload,
        "c256_honouring_retry_after": polite,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
