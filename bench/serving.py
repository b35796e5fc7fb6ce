"""Benchmark: the BentoML service against a bare ASGI baseline, and batch scoring of 1M rows.

Usage (from the template root; PROJECT is a baked project after `dvc exp run`, on any data
and task; `--smoke` for a quick check that it runs: one run, a twentieth of the requests, 10,000
batch rows, no figures worth keeping):

    uv run python bench/serving.py PROJECT [--repeats 3] [--workers 1] [--out result.json] [--smoke]

Both servers get the same number of worker processes, parse the same generated pydantic
schema and score with the same XGBoost threads (one per call; `serve.large_batch_threads`
for calls of 1,000 rows or more). The baseline (a plain ASGI function under uvicorn) turns
records into the booster's input with a dictionary lookup per category, calls
`inplace_predict` and answers as the service does for the model's task (binary: label by the
saved threshold and two probabilities; multiclass: most probable class and one probability per
class; regression: the prediction); the service runs
the full path (`RowDecoder`, else the pydantic schema -> `records_columns` -> `preprocess` ->
`inplace_predict`, metrics, batching).
Request bodies come from the project's configured data (common.write_bodies: feature columns
only, by its data config). Load comes from bench/loadgen.py (closed loop, fixed concurrency)
on the same machine. Figures are medians over `--repeats` runs; a Markdown table is printed.
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

import yaml
from common import data_config, free_port, package_of, start, stop, write_bodies

HERE = Path(__file__).resolve().parent

BASELINE_APP = """
import json, os
import numpy as np
from pydantic import TypeAdapter
from typing_extensions import TypedDict
from {package}.settings.params import DataConfig
from {package}.model.files import load_model
try:
    from {package}.serving.http.request_schema import record_model
except ImportError:  # a bake from before serving/http/ (A/B against older commits)
    from {package}.serving.request_schema import record_model
from {package}.serving.performance import LARGE_BATCH_ROWS

MODEL = load_model()
MODEL.booster.set_param({{"nthread": 1}})  # as the service does (serving/performance.py):
LARGE = MODEL.booster.copy()  # one thread, `serve.large_batch_threads` from 1,000 rows up
LARGE.set_param({{"nthread": int(os.environ["LARGE_BATCH_THREADS"])}})
DATA = DataConfig.model_validate(MODEL.metadata["params"]["data"])
Record = record_model(DATA, MODEL.spec)
Input = TypeAdapter(TypedDict("Input", {{"records": list[Record]}}))
NAMES = MODEL.spec.names
CODES = {{f.name: {{c: float(i) for i, c in enumerate(f.categories)}}
          for f in MODEL.spec.features if f.kind == "category"}}
TASK = MODEL.spec.task
CLASSES = list(MODEL.spec.classes or [])
THRESHOLD = MODEL.threshold
POS = MODEL.spec.positive_class
NEG = next((c for c in CLASSES if c != POS), None)

def row(record):
    return [CODES[n].get(record[n], np.nan) if n in CODES else
            (np.nan if record[n] is None else record[n]) for n in NAMES]

def answers(outputs):
    if TASK == "binary":
        return [{{"label": POS if s >= THRESHOLD else NEG, "probabilities": {{NEG: 1 - s, POS: s}}}}
                for s in outputs.tolist()]
    if TASK == "multiclass":
        return [{{"label": CLASSES[int(np.argmax(p))], "probabilities": dict(zip(CLASSES, p))}}
                for p in outputs.tolist()]
    return [{{"prediction": v}} for v in outputs.tolist()]

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({{"type": "lifespan.startup.complete"}})
            elif message["type"] == "lifespan.shutdown":
                await send({{"type": "lifespan.shutdown.complete"}})
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"] == "/readyz":
        status, payload = 200, b"ok"
    else:
        try:
            records = Input.validate_json(body)["records"]
            matrix = np.array([row(r) for r in records], dtype=np.float32)
            booster = LARGE if len(matrix) >= LARGE_BATCH_ROWS else MODEL.booster
            payload = json.dumps(answers(booster.inplace_predict(matrix))).encode()
            status = 200
        except Exception as exc:
            status, payload = 400, str(exc).encode()
    await send({{"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]}})
    await send({{"type": "http.response.body", "body": payload}})
"""

SCENARIOS = [
    # name, body file, concurrency, requests, warm-up requests
    ("single c=1", "one", 1, 400, 50),
    ("single c=32", "one", 32, 3000, 300),
    ("single c=64", "one", 64, 3000, 300),
    ("1,000 records c=4", "many", 4, 1000, 50),
]
SOAK = ("single c=32, 10,000 after warm-up", "one", 32, 10_000, 1000)


def load(python: Path, url: str, body: Path, concurrency: int, n: int, warmup: int) -> dict:
    result = subprocess.run(
        [
            str(python),
            str(HERE / "loadgen.py"),
            url,
            str(body),
            "--concurrency",
            str(concurrency),
            "--requests",
            str(n),
            "--warmup",
            str(warmup),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def median_of(runs: list[dict], rows_per_request: int) -> dict:
    out = {
        key: statistics.median(r[key] for r in runs)
        for key in ("requests_per_s", "p50_ms", "p99_ms")
    }
    out["rows_per_s"] = out["requests_per_s"] * rows_per_request
    out["errors"] = sum(r["errors"] for r in runs)
    out["statuses"] = runs[-1]["statuses"]
    return out


def bench_server(
    name: str,
    command: list[str],
    project: Path,
    env: dict[str, str],
    port: int,
    bodies: dict[str, Path],
    repeats: int,
    share: float = 1.0,
) -> dict:
    """Medians of each scenario (`share` of its requests and warm-up) against one server."""
    python = project / ".venv" / "bin" / "python"
    process = start(command, project, env, port)
    results = {}
    try:
        url = f"http://127.0.0.1:{port}/predict"
        for scenario, body, concurrency, n, warmup in SCENARIOS:
            n, warmup = int(n * share), int(warmup * share)
            runs = [load(python, url, bodies[body], concurrency, n, warmup) for _ in range(repeats)]
            results[scenario] = median_of(runs, 1000 if body == "many" else 1)
            print(name, scenario, results[scenario], file=sys.stderr)
        scenario, body, concurrency, n, warmup = SOAK
        n, warmup = int(n * share), int(warmup * share)
        results[scenario] = median_of([load(python, url, bodies[body], concurrency, n, warmup)], 1)
        print(name, scenario, results[scenario], file=sys.stderr)
    finally:
        stop(process)
    return results


def bench_batch(
    project: Path, package: str, repeats: int, scratch: Path, rows: int = 1_000_000
) -> dict:
    """Batch scoring of the prepared test rows (the target left out) repeated to `rows` rows."""
    python = project / ".venv" / "bin" / "python"
    source = scratch / "million.parquet"
    target = data_config(project)["target"]
    subprocess.run(
        [
            str(python),
            "-c",
            "import pandas as pd; t = pd.read_parquet('data/prepared/test.parquet')"
            f".drop(columns=[{target!r}]); n = -(-{rows} // len(t)); "
            f"pd.concat([t] * n, ignore_index=True).iloc[:{rows}].to_parquet(r'{source}')",
        ],
        cwd=project,
        check=True,
    )
    # Python's default bytecode caching (this machine sets PYTHONDONTWRITEBYTECODE, which
    # makes every run compile pandas & co. from source); one untimed run writes the cache.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
    code = (
        "import resource, time; t0 = time.perf_counter(); "
        f"from {package}.serving.batch import main; t1 = time.perf_counter(); "
        f"rc = main(['--input', r'{source}', '--output', r'{scratch / 'out.parquet'}']); "
        "t2 = time.perf_counter(); "
        "print(t1 - t0, t2 - t1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rc)"
    )
    runs = []
    for _ in range(repeats + 1):
        out = subprocess.run(
            [str(python), "-c", code],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        runs.append((float(out[0]), float(out[1]), int(out[2]) / 1024))
    runs = runs[1:]
    imports = statistics.median(r[0] for r in runs)
    scoring = statistics.median(r[1] for r in runs)
    return {
        "rows": rows,
        "import_s": round(imports, 2),
        "scoring_s": round(scoring, 2),
        "rows_per_s": round(rows / scoring),
        "rows_per_s_incl_imports": round(rows / (imports + scoring)),
        "peak_rss_mib": round(max(r[2] for r in runs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="a quick check that it runs")
    args = parser.parse_args()
    share, batch_rows = (1 / 20, 10_000) if args.smoke else (1.0, 1_000_000)
    if args.smoke:
        args.repeats = 1
    project = args.project.resolve()
    serve = yaml.safe_load((project / "params.yaml").read_text())["serve"]
    service_workers = serve["workers"]
    if service_workers != args.workers:
        raise SystemExit(
            f"the service runs serve.workers={service_workers} worker(s) (params.yaml of "
            f"{project}); run `dvc exp run -S serve.workers={args.workers}` there first, so "
            f"that both servers get {args.workers}"
        )
    package = package_of(project)
    python = project / ".venv" / "bin" / "python"
    env = {
        **os.environ,
        "BENTOML_DO_NOT_TRACK": "True",
        "BENTOML_HOME": str(project.parent / "bench-bentoml-home"),
        "LARGE_BATCH_THREADS": str(serve["large_batch_threads"]),  # the service's setting
    }
    subprocess.run(
        [str(python), "-m", package, "bento", "--no-build"], cwd=project, env=env, check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        bodies = write_bodies(project, scratch)
        (scratch / "baseline_app.py").write_text(BASELINE_APP.format(package=package))
        port = free_port()
        baseline = bench_server(
            "baseline",
            [
                str(project / ".venv" / "bin" / "uvicorn"),
                "baseline_app:app",
                "--app-dir",
                str(scratch),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            project,
            env,
            port,
            bodies,
            args.repeats,
            share,
        )
        port = free_port()
        service = bench_server(
            "bentoml",
            [
                str(project / ".venv" / "bin" / "bentoml"),
                "serve",
                f"{package}.serving.service:Service",
                "--working-dir",
                "build/bento",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            project,
            env,
            port,
            bodies,
            args.repeats,
            share,
        )
        batch = bench_batch(project, package, args.repeats, scratch, batch_rows)
    result = {
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "baseline": baseline,
        "bentoml": service,
        "batch": batch,
    }
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    print(
        "| scenario | baseline req/s | BentoML req/s | ratio | BentoML rows/s | "
        "p50 ms (base / Bento) | p99 ms (base / Bento) | errors (base / Bento) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for scenario in [s[0] for s in SCENARIOS] + [SOAK[0]]:
        b, s = baseline[scenario], service[scenario]
        print(
            f"| {scenario} | {b['requests_per_s']:.0f} | {s['requests_per_s']:.0f} | "
            f"{s['requests_per_s'] / b['requests_per_s']:.2f} | {s['rows_per_s']:.0f} | "
            f"{b['p50_ms']:.1f} / {s['p50_ms']:.1f} | {b['p99_ms']:.1f} / {s['p99_ms']:.1f} | "
            f"{b['errors']} / {s['errors']} |"
        )
    print(f"\nbatch scoring: {batch}")


if __name__ == "__main__":
    main()
