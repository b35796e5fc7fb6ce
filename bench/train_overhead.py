"""Benchmark: the train stage against a bare script training the same model.

Both sides read the same prepared Parquet, run the same 5-fold stratified cross-validation with
early stopping and the same final fit with early stopping (same params, seed, threads, rounds).
The stage adds: params validation, the shared preprocessing, DVCLive logging, metadata,
atomic writes. Target (issue 2): at most 1.3x. Runs alternate to share the machine's noise.

Usage: uv run python bench/train_overhead.py [runs]
"""

from __future__ import annotations

import shutil
import sys

from common import baked_project, machine, median, timed

BARE = """
import pandas as pd, xgboost as xgb, yaml
from sklearn.model_selection import StratifiedKFold, train_test_split
p = yaml.safe_load(open("params.yaml"))
m, t, seed = p["model"], p["train"], p["seed"]
frame = pd.read_parquet("data/prepared/train.parquet")
y = (frame.pop("y") == "yes").astype(int).to_numpy()
X = frame
params = {"objective": "binary:logistic", "eval_metric": t["eval_metric"], "seed": seed,
          "nthread": t["n_jobs"], **{k: v for k, v in m.items() if k != "n_estimators"}}
data = xgb.DMatrix(X, y, enable_categorical=True, nthread=t["n_jobs"])
xgb.cv(params, data, num_boost_round=m["n_estimators"],
       metrics=["aucpr", "logloss", "error", "auc"],
       folds=StratifiedKFold(t["cv_folds"], shuffle=True, random_state=seed),
       early_stopping_rounds=t["early_stopping_rounds"], seed=seed)
a, b, ya, yb = train_test_split(X, y, test_size=t["validation_size"], stratify=y, random_state=seed)
da = xgb.DMatrix(a, ya, enable_categorical=True, nthread=t["n_jobs"])
db = xgb.DMatrix(b, yb, enable_categorical=True, nthread=t["n_jobs"])
booster = xgb.train(params, da, num_boost_round=m["n_estimators"],
                    evals=[(da, "train"), (db, "validation")],
                    early_stopping_rounds=t["early_stopping_rounds"], verbose_eval=False)
booster[: booster.best_iteration + 1].save_model("/tmp/bare-model.ubj")
"""


def main(runs: int = 5) -> None:
    project = baked_project()
    timed(["uv", "run", "--frozen", "python", "-m", "term_deposit_model.stages.prepare"], project)
    (project / "bare_train.py").write_text(BARE)
    stage, bare = [], []
    for _ in range(runs):
        stage.append(
            timed(
                ["uv", "run", "--frozen", "python", "-m", "term_deposit_model.stages.train"],
                project,
            )
        )
        bare.append(timed(["uv", "run", "--frozen", "python", "bare_train.py"], project))
    shutil.rmtree(project.parent)
    print(f"# train overhead ({machine()}, {runs} alternating runs, medians)")
    stage_runs = ", ".join(f"{s:.2f}" for s in stage)
    bare_runs = ", ".join(f"{s:.2f}" for s in bare)
    print(f"train stage    {median(stage):6.2f} s   runs: {stage_runs}")
    print(f"bare script    {median(bare):6.2f} s   runs: {bare_runs}")
    print(f"stage / bare   {median(stage) / median(bare):6.2f} x   target <= 1.3 x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
