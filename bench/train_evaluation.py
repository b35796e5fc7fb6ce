"""Benchmark: what scoring the training rows every round cost the train stage (issue 15).

Before, every boosting round scored the fit rows on each watched metric: in each
cross-validation fold (where nobody read it) and in the final fit (DVCLive's `train` learning
curve, on every row however large the table). Now the folds score their held-out part only,
and the curve is computed on at most `train.curve_rows` rows (a seeded sample).

1. Cross-validation on the bundled sample, in one process: `cross_validate` as it is, against
   the same function with the training rows put back into each fold's `evals` (the previous
   code's evaluation, reproduced by wrapping `xgb.train`); alternately, `runs` times each.
   Both must report the same scores (checked).
2. The train stage on an enlargement of the sample to `rows` rows, local engine, holdout mode
   (cv_folds 0, as the scaling benchmark): `train.curve_rows` equal to the fit rows (the
   previous behaviour: every row scored each round) against the default (100,000);
   alternately, `runs` times each, each a fresh process. The models must be identical.

Usage: uv run python bench/train_evaluation.py [rows] [runs]
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import yaml
from common import baked_project, machine, median, timed
from memory_1m import ENLARGE

CROSS_VALIDATION = """
import json, sys, time
import xgboost as xgb
from term_deposit_model.settings.params import load_params
from term_deposit_model.stages import train

params = load_params()
features, labels, spec = train.load_training_matrix(params)
real = xgb.train


def with_training_rows(booster_params, matrix, *args, evals=(), **kwargs):
    return real(booster_params, matrix, *args, evals=[(matrix, "train"), *evals], **kwargs)


seconds = {"previous": [], "now": []}
summaries = {}
for _ in range(int(sys.argv[1])):
    for side, function in (("previous", with_training_rows), ("now", real)):
        train.xgb.train = function
        start = time.perf_counter()
        summaries[side] = train.cross_validate(features, labels, spec, params).summary
        seconds[side].append(time.perf_counter() - start)
train.xgb.train = real
assert summaries["previous"] == summaries["now"], summaries
print(json.dumps({"seconds": seconds, "rows": len(labels), "folds": params.train.cv_folds}))
"""


def main(rows: int = 1_000_000, runs: int = 3) -> None:
    project = baked_project()
    run = ["uv", "run", "--frozen", "python"]
    print(f"# train-set evaluation ({machine()})")

    (project / "cross_validation.py").write_text(CROSS_VALIDATION)
    timed([*run, "-m", "term_deposit_model.stages.prepare"], project)
    out = subprocess.run(
        [*run, "cross_validation.py", str(runs)], cwd=project, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    found = json.loads(out.stdout.strip().splitlines()[-1])
    previous, now = (median(found["seconds"][side]) for side in ("previous", "now"))
    print(
        f"cross-validation, {found['folds']} folds on {found['rows']:,} rows: previous "
        f"{previous:.2f} s, now {now:.2f} s (median of {runs}): {now / previous:.2f}x; "
        "same scores"
    )

    (project / "enlarge.py").write_text(ENLARGE)
    timed([*run, "enlarge.py", str(rows)], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["path"] = "data/raw/big.csv"
    params["train"]["cv_folds"] = 0
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    timed([*run, "-m", "term_deposit_model.stages.prepare"], project)
    fit_rows = rows  # at least the fit rows: every one is scored
    times: dict[str, list[float]] = {"previous": [], "now": []}
    models: dict[str, str] = {}
    for _ in range(runs):
        for side, curve_rows in (("previous", fit_rows), ("now", 100_000)):
            params["train"]["curve_rows"] = curve_rows
            (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            times[side].append(timed([*run, "-m", "term_deposit_model.stages.train"], project))
            model = (project / "models" / "model.ubj").read_bytes()
            models[side] = hashlib.md5(model).hexdigest()
    assert models["previous"] == models["now"], models
    previous, now = median(times["previous"]), median(times["now"])
    print(
        f"train stage, holdout, {rows:,} rows: curve on every row {previous:.1f} s, on 100,000 "
        f"rows {now:.1f} s (median of {runs}): {now / previous:.2f}x; identical models"
    )
    shutil.rmtree(project.parent)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
