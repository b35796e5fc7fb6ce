"""Benchmark: batch scoring end to end, from process start to the written file (issue 25).

Usage (from the template root; PROJECT is a baked project after `dvc exp run`):

    uv run python bench/batch_scoring.py PROJECT [--rows 1000000] [--repeats 3] [--out r.json]

Writes the prepared test rows (target left out) repeated to `--rows` rows as a CSV (in the
data config's separator) and as Parquet, then times `python -m <package> predict` on each,
as a process, from its start to its exit (the interpreter, imports, reading, validation,
scoring, writing). Side by side, alternating in the same script, a bare baseline process:
pyarrow reads the file whole, the same `features.preprocess`, one `inplace_predict`, one
Parquet write; no validation, no chunks, no atomic output. Python's bytecode cache is on
(one untimed run of each writes it), as on a user's machine. Figures: medians of `--repeats`
runs, rows/s, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import data_config, package_of

BASELINE = """
import sys
import pyarrow.parquet as pq
from pyarrow import csv
from {package}.model.features import preprocess
from {package}.model.files import load_model
source, target, separator = sys.argv[1], sys.argv[2], sys.argv[3]
model = load_model()
if source.endswith(".parquet"):
    table = pq.read_table(source)
else:
    table = csv.read_csv(source, parse_options=csv.ParseOptions(delimiter=separator))
frame = table.to_pandas()
scores = model.booster.inplace_predict(preprocess(frame, model.spec))
import pyarrow as pa
pq.write_table(pa.table({{"score": scores}}), target)
"""


def write_inputs(project: Path, python: Path, folder: Path, rows: int) -> dict[str, Path]:
    data = data_config(project)
    csv_file, parquet_file = folder / "million.csv", folder / "million.parquet"
    code = (
        "import pandas as pd; t = pd.read_parquet('data/prepared/test.parquet')"
        f".drop(columns=[{data['target']!r}]); n = -(-{rows} // len(t)); "
        f"t = pd.concat([t] * n, ignore_index=True).iloc[:{rows}]; "
        f"t.to_parquet(r'{parquet_file}'); "
        f"t.to_csv(r'{csv_file}', sep={data.get('separator', ',')!r}, index=False)"
    )
    subprocess.run([str(python), "-c", code], cwd=project, check=True)
    return {"csv": csv_file, "parquet": parquet_file}


def run_once(command: list[str], project: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    project = args.project.resolve()
    package = package_of(project)
    python = project / ".venv" / "bin" / "python"
    separator = data_config(project).get("separator", ",")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("PYTHONPYCACHEPREFIX", None)  # the project's own __pycache__, as a user has it
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = write_inputs(project, python, folder, args.rows)
        (folder / "baseline.py").write_text(BASELINE.format(package=package))
        for kind, source in inputs.items():
            service = [str(python), "-m", package, "predict", "--input", str(source),
                       "--output", str(folder / "out.parquet")]  # fmt: skip
            bare = [str(python), str(folder / "baseline.py"), str(source),
                    str(folder / "bare.parquet"), separator]  # fmt: skip
            run_once(service, project, env)  # writes the bytecode cache
            run_once(bare, project, env)
            times: dict[str, list[float]] = {"predict": [], "baseline": []}
            for _ in range(args.repeats):
                times["predict"].append(run_once(service, project, env))
                times["baseline"].append(run_once(bare, project, env))
            predict, baseline = (statistics.median(times[k]) for k in ("predict", "baseline"))
            results[kind] = {
                "predict_s": round(predict, 2),
                "baseline_s": round(baseline, 2),
                "predict_rows_per_s": round(args.rows / predict),
                "baseline_rows_per_s": round(args.rows / baseline),
                "ratio": round(baseline / predict, 2),
                "runs_predict": [round(t, 2) for t in times["predict"]],
                "runs_baseline": [round(t, 2) for t in times["baseline"]],
            }
            print(kind, results[kind], file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    print(f"`bench/batch_scoring.py`, {args.rows:,} rows, median of {args.repeats} runs each.\n")
    print("| input | predict (s) | rows/s | bare baseline (s) | rows/s | ratio | runs (s) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for kind, r in results.items():
        print(
            f"| {kind} | {r['predict_s']} | {r['predict_rows_per_s']:,} | {r['baseline_s']} | "
            f"{r['baseline_rows_per_s']:,} | {r['ratio']} | {r['runs_predict']} / "
            f"{r['runs_baseline']} |"
        )


if __name__ == "__main__":
    main()
