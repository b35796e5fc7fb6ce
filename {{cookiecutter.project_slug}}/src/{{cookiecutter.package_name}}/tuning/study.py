"""`python -m <package> tune`: an Optuna study over a search space in `conf/tune/<name>.yaml`.

Every trial is scored by the training stage's own cross-validation (`model.training.
cross_validate`, on the prepared training split only: the test split is never seen), so a trial
measures exactly what `train` would do with those parameters. The objective defaults to the
task's proper score (log loss for classification, RMSE for regression), minimised. A trial is
pruned after a fold when its running mean is worse than the median of earlier trials at that
fold. The study is stored in `.tune/<name>.journal` (git-ignored) and resumed when run again
with the same settings: `--trials` is the total to reach. The best parameters are written to
`conf/experiment/tuned.yaml` (`dvc exp run -S experiment=tuned`) and the study's report to
`reports/tune/`.

Same seed, same data and one trial at a time (`parallel: 1`) give the same trials and the
same best parameters. Parallel trials (`parallel: N`, at most the CPU count) divide the cores
between them (XGBoost threads per trial = cores // N) and are not reproducible in order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from .. import PACKAGE
from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..artifacts.hashing import md5_file
from ..errors import PipelineError, guarded
from ..settings.params import PARAMS_FILE, Params, load_params, parse_params
from .progress import TrialProgress, short
from .report import REPORT_DIR, render_markdown, study_summary
from .space import TuneConfig, apply_values, load_tune_config

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)
JOURNAL_DIR = Path(".tune")
TUNED_EXPERIMENT = Path("conf/experiment/tuned.yaml")
# The proper scoring rule cross-validation reports for each task (XGBoost metric names).
PROPER_SCORE = {"binary": "logloss", "multiclass": "mlogloss", "regression": "rmse"}
MAXIMISED = frozenset({"auc", "aucpr", "map", "ndcg", "pre"})


def objective_of(config: TuneConfig, params: Params) -> tuple[str, str]:
    """The CV metric to optimise and its direction (`auto`: the task's proper score)."""
    task = str(getattr(params.data, "task", "binary"))
    metric = config.metric
    if metric == "auto":
        if task not in PROPER_SCORE:
            raise PipelineError(f"tune: no default metric for task '{task}'; set 'metric'")
        metric = PROPER_SCORE[task]
    direction = config.direction
    if direction == "auto":
        direction = "maximize" if metric.split("@")[0] in MAXIMISED else "minimize"
    return metric, direction


def threads_per_trial(parallel: int, cores: int | None = None) -> tuple[int, int]:
    """Trials at once (at most the cores) and XGBoost threads for each (the cores divided)."""
    cores = max(1, cores or os.cpu_count() or 1)
    running = max(1, min(parallel, cores))
    return running, max(1, cores // running)


def make_sampler(kind: str, config: TuneConfig, seed: int) -> optuna.samplers.BaseSampler:
    import optuna

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=config.startup_trials)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    grid = {name: p.grid(name) for name, p in config.space.items()}
    return optuna.samplers.GridSampler(grid, seed=seed)  # type: ignore[arg-type]


def fingerprint(config: TuneConfig, params: Params, sampler: str, seed: int) -> str:
    """What a stored study must match to be resumed: space, objective, data and base params."""
    settings = config.model_dump(mode="json", exclude={"trials", "timeout_s", "parallel"})
    payload = {
        "tune": settings,
        "sampler": sampler,
        "seed": seed,
        "params": params.model_dump(mode="json", include={"data", "model", "train", "seed"}),
        "training_data_md5": md5_file(paths.TRAIN_DATA),
    }
    text = json.dumps(payload, sort_keys=True)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def open_study(
    name: str, sampler_kind: str, config: TuneConfig, params: Params, seed: int, *, fresh: bool
) -> optuna.Study:
    """Create or resume the study stored in `.tune/<name>.journal`."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    JOURNAL_DIR.mkdir(exist_ok=True)
    journal = JOURNAL_DIR / f"{name}.journal"
    if fresh:
        journal.unlink(missing_ok=True)
    metric, direction = objective_of(config, params)
    stamp = fingerprint(config, params, sampler_kind, seed)
    storage = JournalStorage(JournalFileBackend(str(journal)))
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=config.startup_trials, n_warmup_steps=0)
        if config.pruning
        else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        sampler=make_sampler(sampler_kind, config, seed),
        pruner=pruner,
        direction=direction,
        load_if_exists=True,
    )
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        study.set_user_attr("fingerprint", stamp)
        study.set_user_attr("metric", metric)
    elif stored != stamp:
        raise PipelineError(
            f"{journal} holds a study made with other settings (search space, sampler, seed, "
            "data or base params changed): run `tune --fresh` to start a new one"
        )
    return study


def run(
    params: Params,
    raw_params: dict[str, Any],
    config: TuneConfig,
    name: str,
    *,
    trials: int,
    timeout_s: float | None,
    sampler: str,
    fresh: bool = False,
) -> optuna.Study:
    """Run the study until it holds `trials` finished trials (or `timeout_s` passes)."""
    import optuna

    from ..model.training import cross_validate, load_training_matrix

    if params.train.cv_folds < 2:
        raise PipelineError(
            "tune scores each trial by cross-validation: set train.cv_folds to 2 or more"
        )
    seed = params.seed if config.seed is None else config.seed
    metric, _ = objective_of(config, params)
    features, labels, spec = load_training_matrix(params)
    running, threads = threads_per_trial(config.parallel)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(name, sampler, config, params, seed, fresh=fresh)

    def objective(trial: optuna.Trial) -> float:
        values = {key: p.suggest(trial, key) for key, p in config.space.items()}
        raw = apply_values(raw_params, values)
        raw["train"]["n_jobs"] = threads
        trial_params = parse_params(raw, source=f"tune trial {trial.number}")
        fold_scores: list[float] = []

        def on_fold(index: int, scores: dict[str, float]) -> None:
            if metric not in scores:
                raise PipelineError(
                    f"tune metric '{metric}' is not one cross-validation reports: {sorted(scores)}"
                )
            fold_scores.append(scores[metric])
            trial.report(float(np.mean(fold_scores)), index)
            if config.pruning and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {index + 1}")

        cv = cross_validate(features, labels, spec, trial_params, on_fold)
        assert cv is not None
        trial.set_user_attr("rounds", cv.rounds)
        return float(cv.summary[f"cv_{metric}_mean"])

    finished = sum(t.state.is_finished() for t in study.trials)
    remaining = trials - finished
    counter = TrialProgress(remaining, metric, maximise=study.direction.name == "MAXIMIZE")
    lock = threading.Lock()  # parallel trials report from their own threads

    def progress(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        with lock:
            log.info(counter.line(trial.number, trial.state.name.lower(), trial.value))

    if remaining > 0:
        study.optimize(
            objective,
            n_trials=remaining,
            timeout=timeout_s,
            n_jobs=running,
            callbacks=[progress],
        )
    return study


def write_outputs(study: optuna.Study, summary: dict[str, Any]) -> None:
    """`conf/experiment/tuned.yaml` and `reports/tune/` (summary JSON, trials JSON, Markdown)."""
    best = summary["best"]
    nested: dict[str, Any] = {}
    for key, value in best["params"].items():
        section, leaf = key.split(".", 1)
        nested.setdefault(section, {})[leaf] = value
    header = (
        "# @package _global_\n"
        f"# Written by `make tune` (study '{summary['study']}', {summary['sampler']} sampler, "
        f"seed {summary['seed']}): the best of {summary['counts']['complete']} completed trials,\n"
        f"# cross-validated {summary['metric']} = {best['value']:.6g}. Re-run `make tune` "
        "rather than editing it.\n"
        "# Run: dvc exp run -S experiment=tuned\n"
    )
    trials = summary.pop("trials")
    with staged_outputs() as staged:
        staged.write_text(TUNED_EXPERIMENT, header + yaml.safe_dump(nested, sort_keys=False))
        staged.write_json(REPORT_DIR / "summary.json", summary)
        staged.write_json(REPORT_DIR / "trials.json", trials)
        staged.write_text(REPORT_DIR / "summary.md", render_markdown(summary, trials))
    summary["trials"] = trials


def tune(
    params_file: Path,
    name: str,
    trials: int | None,
    timeout_s: float | None,
    sampler: str | None,
    fresh: bool,
) -> dict[str, Any]:
    """Load the settings, run the study, write its outputs; return the summary."""
    config = load_tune_config(name)
    params = load_params(params_file)
    raw_params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    kind = sampler or config.sampler
    study = run(
        params,
        raw_params,
        config,
        Path(name).stem,
        trials=trials or config.trials,
        timeout_s=timeout_s if timeout_s is not None else config.timeout_s,
        sampler=kind,
        fresh=fresh,
    )
    seed = params.seed if config.seed is None else config.seed
    summary = study_summary(study, config, params, kind, seed)
    write_outputs(study, summary)
    log.info(
        "tune: best %s = %s with %s",
        summary["metric"],
        short(summary["best"]["value"]),
        short(summary["best"]["params"]),
    )
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} tune", description=__doc__)
    parser.add_argument("--space", default="default", help="conf/tune/<name>.yaml (or a path)")
    parser.add_argument("--trials", type=int, default=None, help="finished trials to reach")
    parser.add_argument("--timeout", type=float, default=None, help="stop after S seconds")
    parser.add_argument("--sampler", choices=["tpe", "random", "grid"], default=None)
    parser.add_argument("--fresh", action="store_true", help="discard the stored study first")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE, help="params file")
    args = parser.parse_args(argv)
    if args.trials is not None and args.trials < 1:
        parser.error("--trials must be at least 1")
    return guarded(
        lambda: tune(args.params, args.space, args.trials, args.timeout, args.sampler, args.fresh),
        "tune",
    )


if __name__ == "__main__":
    sys.exit(main())
