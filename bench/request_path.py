"""Benchmark: one `/predict` request's time in-process, the service against the bare baseline.

Usage (from the template root; PROJECT is a baked project after `dvc exp run`):

    uv run python bench/request_path.py PROJECT [--rounds 5] [--calls 2000] [--out r.json]

No server and no load generator: each request is one call of the ASGI app with the body
already in memory, so what is measured is the request path itself (BentoML's middlewares,
the request guard, decoding, preprocessing, the model call, the answer, metrics, encoding),
steady on a machine that other jobs load (the figure is a median of thousands of calls).
Three apps are called alternately in each round, in one process: the service with its
speed-ups on, the service with `SPEEDUPS=off:row_input,lean_predict` (the plain scoring
path), and `bench/serving.py`'s bare baseline app (pydantic, a dictionary lookup per
category, `inplace_predict`, `json.dumps`). Bodies: one record, and 1,000 records.
Also: where a 1,000-record request's time goes, stage by stage (medians of 200 calls).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


async def call(app: Any, body: bytes) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/predict", "query_string": b"",
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
        "root_path": "", "scheme": "http", "server": ("127.0.0.1", 3000),
        "client": ("127.0.0.1", 1), "http_version": "1.1", "asgi": {"version": "3.0"},
    }  # fmt: skip
    await app(scope, receive, send)
    if sent[0]["status"] != 200:
        raise SystemExit(f"answer {sent[0]['status']}: {sent[-1].get('body', b'')[:300]!r}")


async def timed(app: Any, body: bytes, calls: int) -> list[float]:
    for _ in range(max(calls // 10, 5)):
        await call(app, body)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        await call(app, body)
        times.append(time.perf_counter() - start)
    return times


class Switch:
    """An ASGI app that runs `app` with the given SPEEDUPS setting."""

    def __init__(self, app: Any, setting: str) -> None:
        self.app, self.setting = app, setting

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        os.environ["SPEEDUPS"] = self.setting
        await self.app(scope, receive, send)


async def start(app: Any) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    done: asyncio.Queue = asyncio.Queue()

    async def receive() -> Any:
        return await queue.get()

    async def send(message: Any) -> None:
        await done.put(message)

    asyncio.get_running_loop().create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    )
    await done.get()


def stage_split(package: str, packaged: Any, body: bytes) -> dict[str, float]:
    """Milliseconds per stage of a 1,000-record request (medians of 200 calls)."""
    import importlib

    import msgspec

    answers = importlib.import_module(f"{package}.serving.answers")
    performance = importlib.import_module(f"{package}.serving.performance")
    check_module = importlib.import_module(f"{package}.serving.http.request_check")
    schema = importlib.import_module(f"{package}.serving.http.request_schema")
    features = importlib.import_module(f"{package}.model.features")
    spec = packaged.model.spec
    models = performance.scoring_models(packaged.model, packaged.settings)
    api = answers.task_api(packaged, models)
    instance = types.SimpleNamespace(inference_log=None)
    check = check_module.RequestCheck(packaged.data, spec, packaged.settings, packaged.decoder)
    rows = check.rows(body)
    columns = schema.records_columns(rows, spec)
    matrix = features.preprocess(columns, spec)
    answer = api.score(instance, rows)

    def ms(function: Any, calls: int = 200) -> float:
        for _ in range(20):
            function()
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return round(statistics.median(times) * 1e3, 3)

    return {
        "decode and check (msgspec, repeated keys)": ms(lambda: check.rows(body)),
        "rows to columns": ms(lambda: schema.records_columns(rows, spec)),
        "preprocess": ms(lambda: features.preprocess(columns, spec)),
        "model call, inplace_predict": ms(lambda: models.large.booster.inplace_predict(matrix)),
        "model call, lean_predict": ms(lambda: models.large_predictor(matrix)),
        "scoring in all (answers, metrics)": ms(lambda: api.score(instance, rows)),
        "encoding the answers": ms(lambda: msgspec.json.encode(answer)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000, help="single-record calls per round")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--inner", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    project = args.project.resolve()
    if args.inner is not None:
        measure(project, args.inner, args.rounds, args.calls, args.out)
        return
    # In the template's environment: the bodies and the baseline app, then the measurement in
    # the project's own environment (it imports the package).
    sys.path.insert(0, str(HERE))
    from common import feature_records, package_of
    from serving import BASELINE_APP

    package = package_of(project)
    records = feature_records(project, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "one.json").write_text(json.dumps({"records": records[:1]}))
        (folder / "many.json").write_text(json.dumps({"records": records}))
        (folder / "baseline_app.py").write_text(BASELINE_APP.format(package=package))
        (folder / "package").write_text(package)
        command = [str(project / ".venv" / "bin" / "python"), str(Path(__file__).resolve()),
                   str(project), "--inner", str(folder), "--rounds", str(args.rounds),
                   "--calls", str(args.calls)]  # fmt: skip
        if args.out:
            command += ["--out", str(args.out.resolve())]
        subprocess.run(command, cwd=project, check=True)


def measure(project: Path, folder: Path, rounds: int, calls: int, out: Path | None) -> None:
    """In the project's environment: build the apps and time them."""
    import importlib

    import bentoml

    package = (folder / "package").read_text()
    os.chdir(project)
    compat = importlib.import_module(f"{package}.compat")
    packaged_module = importlib.import_module(f"{package}.serving.packaged")
    service_module = importlib.import_module(f"{package}.serving.service")
    store = compat.temporary_bentoml_model_store(Path(tempfile.mkdtemp()))
    source = project / "models" / "service.bentomodel"
    imported = bentoml.models.import_model(str(source), _model_store=store)
    packaged = packaged_module.read_packaged(store.get(imported.tag).path)
    bodies = {
        "one record": (folder / "one.json").read_bytes(),
        "1,000 records": (folder / "many.json").read_bytes(),
    }
    service = service_module.build_service(packaged).to_asgi()
    os.environ["LARGE_BATCH_THREADS"] = str(packaged.settings.large_batch_threads)
    baseline = types.ModuleType("baseline_app")
    code = (folder / "baseline_app.py").read_text()
    exec(compile(code, "baseline_app.py", "exec"), baseline.__dict__)
    plain = "off:row_input,lean_predict"
    apps = {
        "service": Switch(service, "on"),
        f"service, SPEEDUPS={plain}": Switch(service, plain),
        "bare baseline": baseline.app,
    }
    many_calls = max(calls // 20, 50)
    medians: dict[str, dict[str, list[float]]] = {n: {b: [] for b in bodies} for n in apps}
    p99s: dict[str, dict[str, list[float]]] = {n: {b: [] for b in bodies} for n in apps}

    async def run() -> None:
        await start(service)
        for round_number in range(rounds):
            for body_name, body in bodies.items():
                count = calls if body_name == "one record" else many_calls
                for name, app in apps.items():
                    times = sorted(await timed(app, body, count))
                    medians[name][body_name].append(statistics.median(times) * 1e3)
                    p99s[name][body_name].append(times[int(len(times) * 0.99)] * 1e3)
            print(f"round {round_number + 1} done", file=sys.stderr)

    asyncio.run(run())
    os.environ["SPEEDUPS"] = "on"
    split = stage_split(package, packaged, bodies["1,000 records"])
    base = {b: statistics.median(medians["bare baseline"][b]) for b in bodies}
    base99 = {b: statistics.median(p99s["bare baseline"][b]) for b in bodies}
    result = {"medians_ms": medians, "p99_ms": p99s, "split_1000_ms": split}
    if out:
        out.write_text(json.dumps(result, indent=2))
    print(
        f"`bench/request_path.py`, {os.cpu_count()} cores, {rounds} rounds alternating, "
        f"{calls} single-record and {many_calls} 1,000-record calls per round and app; "
        "per-round medians, then the median over rounds.\n"
    )
    print("| app | body | p50 ms | p99 ms | baseline p50 / app p50 | baseline p99 / app p99 "
          "| rows/s (p50) |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in apps:
        for body_name in bodies:
            p50 = statistics.median(medians[name][body_name])
            p99 = statistics.median(p99s[name][body_name])
            rows = 1 if body_name == "one record" else 1000
            print(
                f"| {name} | {body_name} | {p50:.3f} | {p99:.3f} | {base[body_name] / p50:.2f} "
                f"| {base99[body_name] / p99:.2f} | {rows / p50 * 1e3:,.0f} |"
            )
    print("\nA 1,000-record request, stage by stage (ms, medians of 200 calls):\n")
    print("| stage | ms |")
    print("|---|---:|")
    for stage, value in split.items():
        print(f"| {stage} | {value:.3f} |")


if __name__ == "__main__":
    main()
