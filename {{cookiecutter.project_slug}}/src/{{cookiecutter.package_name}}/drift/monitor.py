"""Command `monitor`: check new batches of data against the reference of the current model.

For each batch (one file in `drift.incoming_dir`, names sorting in time order): the same
validation and cleaning as the training data (`data.validation.clean`, labels optional), then
data drift and prediction drift against the training split (`drift.check.run_check`), and, when
the batch has labels, the model's performance on it with a bootstrap interval and its change
from the test set. The alarm is raised by dataset drift, prediction drift, or performance below
`drift.performance`. Every output under `--output-dir` is replaced together, or not at all.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import PACKAGE
from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..data.raw import read_table
from ..data.validation import clean
from ..errors import PipelineError, guarded
from ..model.features import encode_target
from ..model.gate import TRIVIAL_DEFAULTS
from ..model.metrics import LOWER_IS_BETTER, task_intervals, task_values
from ..model.scoring import predictions, trivial_outputs
from ..settings.params import PARAMS_FILE, DataConfig, Params, load_params
from .summary import markdown

log = logging.getLogger(__name__)
ALARM_EXIT = 3


def incoming_batches(directory: str | Path) -> list[Path]:
    """The batch files in `directory`, in time order (sorted by name)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise PipelineError(f"incoming directory {folder} (drift.incoming_dir) not found")
    found = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name.endswith((".csv", ".csv.gz", ".parquet"))
    )
    if not found:
        raise PipelineError(f"no batch (.csv, .csv.gz, .parquet) in {folder} (drift.incoming_dir)")
    return found


def load_batch(path: Path, data: DataConfig) -> tuple[pd.DataFrame, bool]:
    """A validated, cleaned batch (the training path, labels optional); is it labelled?"""
    try:
        raw = read_table(path, data)
        frame, _ = clean(raw, data, labels=False)
    except PipelineError as exc:
        raise PipelineError(f"batch {path}: {exc}") from None
    used = [*data.feature_columns, data.target]  # ids, timestamps, dropped columns: out
    frame = frame[[c for c in frame.columns if c in used]]
    return frame, data.target in frame.columns


def check_batch(
    path: Path,
    params: Params,
    reference: pd.DataFrame,
    model: Any,
    test_metrics: dict[str, Any] | None,
) -> tuple[dict[str, Any], Any]:
    """The monitor result of one batch (JSON-ready) and its drift check (for the HTML report)."""
    from .check import run_check

    frame, labelled = load_batch(path, params.data)
    check = run_check(
        reference,
        frame,
        model,
        params.drift,
        params.seed,
        ("training split", f"batch {path.name}"),
        with_report=True,  # every batch's HTML is written
    )
    performance = None
    if labelled:
        performance = batch_performance(
            check.current_sample, check.current_scores, model, params, test_metrics
        )
    summary = check.summary
    reasons = []
    if summary["dataset_drift"]:
        reasons.append(
            f"data drift: {summary['drifted_columns']} of {summary['columns']} columns drifted"
        )
    if summary["prediction_drift"]["drifted"]:
        reasons.append("prediction drift")
    if performance is not None and performance["below_floor"]:
        metric, value, floor = (performance[k] for k in ("metric", "value", "floor"))
        if metric in LOWER_IS_BETTER:
            reasons.append(f"{metric} {value:.4f} not better than the trivial model's {floor:g}")
        else:
            reasons.append(f"{metric} {value:.4f} below the floor {floor:g}")
    result = {
        "batch": path.name,
        "rows": summary["current"]["rows"],
        "labelled": labelled,
        "alarm": bool(reasons),
        "reasons": reasons,
        "drift": summary,
        "performance": performance,
    }
    return result, check


def batch_performance(
    frame: pd.DataFrame,
    scores: Any,
    model: Any,
    params: Params,
    test_metrics: dict[str, Any] | None,
) -> dict[str, Any]:
    """The floor metric on the checked rows of a batch, its interval, its change from test.

    The floor (`drift.performance`) applies when its metric is one of the task's where higher
    is better; otherwise (e.g. the binary default on a multiclass or regression model) the
    rule is the task's proper score (log_loss / rmse) against the trivial model's on the same
    rows: `below_floor` when the model is not better.
    """
    spec = model.spec
    labels = encode_target(frame[spec.target], spec)
    floor = params.drift.performance
    if spec.task == "binary" and labels.min() == labels.max():
        raise PipelineError(
            f"column '{spec.target}': the batch has one class only; {floor.metric} needs both"
        )
    config = params.evaluate
    outputs = scores if spec.task == "binary" else predictions(model, frame)
    intervals = task_intervals(
        spec.task,
        labels,
        outputs,
        threshold=model.threshold,
        classes=spec.classes,
        resamples=config.bootstrap_resamples,
        confidence_level=config.confidence_level,
        seed=params.seed,
    )
    uses_floor = floor.metric in intervals and floor.metric not in LOWER_IS_BETTER
    metric = floor.metric if uses_floor else TRIVIAL_DEFAULTS[spec.task][0]
    interval = intervals[metric]
    test_value = None
    if test_metrics is not None:
        test_value = test_metrics.get("metrics", {}).get(metric, {}).get("value")
    found = {
        "metric": metric,
        "value": interval.value,
        "ci_low": interval.ci_low,
        "ci_high": interval.ci_high,
        "confidence_level": config.confidence_level,
        "test_value": test_value,
        "change": None if test_value is None else round(interval.value - test_value, 6),
    }
    if uses_floor:
        return found | {"floor": floor.min, "below_floor": interval.value < floor.min}
    trivial = task_values(
        spec.task, labels, trivial_outputs(model, len(labels)), classes=spec.classes
    )(np.ones((1, len(labels))))[metric][0]
    trivial = round(float(trivial), 6)
    return found | {"floor": trivial, "below_floor": bool(interval.value >= trivial)}


def monitor(
    params: Params,
    batches: Sequence[Path],
    output_dir: Path = paths.MONITOR_DIR,
    report_url: str | None = None,
) -> dict[str, Any]:
    """Check `batches`; write per-batch JSON and HTML, `summary.json` and `summary.md`."""
    from ..model.files import load_model

    model = load_model()
    if not paths.TRAIN_DATA.is_file():
        raise PipelineError(f"{paths.TRAIN_DATA} (the reference) not found: run the pipeline first")
    reference = pd.read_parquet(paths.TRAIN_DATA)
    test_metrics = None
    if paths.EVALUATE_METRICS.is_file():
        test_metrics = json.loads(paths.EVALUATE_METRICS.read_text(encoding="utf-8"))
    results, checks = [], []
    for path in batches:
        result, check = check_batch(path, params, reference, model, test_metrics)
        results.append(result)
        checks.append(check)
        log.info("monitor: %s: %s", path.name, "; ".join(result["reasons"]) or "no alarm")
    summary = {
        "model_md5": model.metadata.get("model_md5"),
        "alarm": any(r["alarm"] for r in results),
        "alarm_batches": [r["batch"] for r in results if r["alarm"]],
        "newest_batch": results[-1]["batch"],
        "retrain_pr": params.drift.retrain_pr,
        "batches": results,
    }
    with staged_outputs() as staged:
        for result, check in zip(results, checks, strict=True):
            stem = _stem(result["batch"])
            staged.write_json(output_dir / f"{stem}.json", result)
            check.save_html(staged.path(output_dir / f"{stem}.html"))
        staged.write_json(output_dir / "summary.json", summary)
        staged.write_text(output_dir / "summary.md", summary_markdown(summary, report_url))
    return summary


def summary_markdown(summary: dict[str, Any], report_url: str | None = None) -> str:
    """The body of the drift issue: the verdict per batch, then each batch's drift section."""
    lines = [
        "## Drift monitor: " + ("**alarm**" if summary["alarm"] else "no alarm"),
        "",
        f"Model md5 `{summary['model_md5']}`; reference: its training split.",
        "",
        "| batch | rows | data drift | prediction drift | performance | alarm |",
        "|---|---:|---|---|---|---|",
    ]
    for result in summary["batches"]:
        drift, perf = result["drift"], result["performance"]
        lines.append(
            f"| `{result['batch']}` | {result['rows']:,} "
            f"| {drift['drifted_columns']}/{drift['columns']} columns"
            f"{' (**drift**)' if drift['dataset_drift'] else ''} "
            f"| {'**yes**' if drift['prediction_drift']['drifted'] else 'no'} "
            f"| {_performance_cell(perf)} | {'**yes**' if result['alarm'] else 'no'} |"
        )
    lines.append("")
    if report_url:
        lines += [f"HTML reports: the `monitor-reports` artifact of [this run]({report_url}).", ""]
    for result in summary["batches"]:
        lines.append(markdown(result["drift"], f"Batch `{result['batch']}`", level=3))
    return "\n".join(lines)


def _performance_cell(perf: dict[str, Any] | None) -> str:
    if perf is None:
        return "no labels"
    text = f"{perf['metric']} {perf['value']:.3f} [{perf['ci_low']:.3f}, {perf['ci_high']:.3f}]"
    if perf["change"] is not None:
        text += f", {perf['change']:+.3f} vs test"
    return text + (" (**below floor**)" if perf["below_floor"] else "")


def _stem(name: str) -> str:
    for suffix in (".csv.gz", ".csv", ".parquet"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{PACKAGE} monitor", description=__doc__)
    parser.add_argument("batches", nargs="*", type=Path, help="batch files (default: the newest)")
    parser.add_argument(
        "--all", action="store_true", help="check every batch in drift.incoming_dir"
    )
    parser.add_argument("--output-dir", type=Path, default=paths.MONITOR_DIR)
    parser.add_argument("--report-url", help="link to the HTML reports, written into summary.md")
    parser.add_argument(
        "--fail-on-alarm", action="store_true", help=f"exit {ALARM_EXIT} when the alarm is raised"
    )
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)
    if args.all and args.batches:
        parser.error("give batch files or --all, not both")
    outcome: dict[str, Any] = {}

    def action() -> None:
        params = load_params(args.params)
        batches = list(args.batches)
        if not batches:
            found = incoming_batches(params.drift.incoming_dir)
            batches = found if args.all else found[-1:]
        outcome.update(monitor(params, batches, args.output_dir, args.report_url))

    status = guarded(action, "monitor")
    if status == 0:
        print(f"{'ALARM' if outcome['alarm'] else 'no alarm'}: {args.output_dir / 'summary.md'}")
        if outcome["alarm"] and args.fail_on_alarm:
            return ALARM_EXIT
    return status


if __name__ == "__main__":
    sys.exit(main())
