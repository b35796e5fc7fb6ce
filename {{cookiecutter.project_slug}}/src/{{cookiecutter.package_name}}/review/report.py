"""Command `report`: compare the working tree with a baseline git ref in one Markdown report.

`python -m <package> report [--baseline REF] [--output reports/pr_report.md]` (`make report`)
reads this run's outputs, the baseline's from git and DVC, and writes, together:
- the report (`reports/pr_report.md`, at most 65,536 characters: what one PR comment holds),
  and the same report as one self-contained HTML page (`reports/pr_report.html`: its charts
  drawn as inline SVG, nothing loaded from the network) for reading offline;
- the combined quality-gate verdict (`reports/pr_gate.json`, the shape of `reports/gate.json`:
  the absolute floors of conf/evaluate/ plus "no significant regression against the
  baseline", and the compared metrics with their intervals under `metrics`), which
  `python -m <package> gate reports/pr_gate.json` enforces;
- with `plots: images`, SVG charts next to the report (`reports/pr_plots/`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .. import PACKAGE
from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..errors import PipelineError
from ..governance.sections import governance_sections
from ..model.comparison import (
    NOT_COMPARABLE,
    PAIRED,
    UNPAIRED,
    MetricComparison,
    paired_comparison,
    paired_of,
    unpaired_comparison,
)
from ..model.features import FeatureSpec
from ..model.gate import pr_verdict
from ..model.metrics import task_values
from ..model.scoring import positive_scores, read_predictions
from ..model.scoring import predictions as model_predictions
from ..settings.params import TASK_METRICS, Params, load_params
from ..text import charts, html, markdown
from ..text.classes import spell_class_metrics
from . import baseline as base
from . import sections

log = logging.getLogger(__name__)

REPORT_FILE = Path("reports/pr_report.md")
HTML_SUFFIX = ".html"  # the same report as a self-contained page, beside the Markdown
PR_GATE_FILE = Path("reports/pr_gate.json")
DRIFT_FILE = Path("reports/drift.md")
IMAGES_DIR = Path("reports/pr_plots")
ARTIFACT_PATTERNS = ("reports/*.html", "reports/model_card*")
REMOTE_NOTES = {
    "used": "pulled from the DVC remote (credentials available).",
    "unavailable": (
        "**no DVC remote credentials in this run** (e.g. a pull request from a fork): the "
        "pipeline ran on the data in git (the bundled sample) and nothing was pushed."
    ),
    "none": "no DVC remote configured: the pipeline ran on the data in git.",
    "local": "this working tree (a local run).",
}
GRID = np.round(np.linspace(0, 1, 21), 2)


@dataclass(frozen=True)
class ReportInputs:
    """What the report reads: this run's outputs, and the baseline's from git and DVC."""

    commit: str
    current: dict[str, Any]
    params_diff: dict[str, Any]
    metrics_diff: dict[str, Any]
    base_metrics: dict[str, Any] | None
    base_lock: str | None
    current_lock: str | None
    base_hashes: dict[str, str]
    current_hashes: dict[str, str]

    @property
    def same_test_split(self) -> bool:
        key = paths.TEST_DATA.as_posix()
        return key in self.current_hashes and self.base_hashes.get(key) == self.current_hashes[key]


@dataclass(frozen=True)
class BaselineComparison:
    """How this run's test metrics compare with the baseline's, and why that way."""

    mode: str
    why: str
    model_source: str
    metrics: dict[str, MetricComparison]


def build_report(
    params: Params, baseline_ref: str, remote: str
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The report text, the combined gate verdict, and SVG files (name -> text) if asked."""
    inputs = read_inputs(baseline_ref)
    comparison = compare_with_baseline(params, inputs, remote)
    gate = pr_verdict(
        inputs.current["gate"],
        comparison.metrics,
        params.evaluate.comparison.tolerance,
        comparison=comparison.mode,
        baseline={"ref": baseline_ref, "commit": inputs.commit},
    )
    gate["metrics"] = compared_metrics(comparison.metrics)
    text, images = render_report(params, inputs, comparison, gate, baseline_ref, remote)
    return text, gate, images


def compared_metrics(metrics: dict[str, MetricComparison]) -> dict[str, dict[str, Any]]:
    """The compared metrics for `pr_gate.json`: each side and the difference, with intervals
    (None where the baseline has no value), and which direction is better."""
    return {
        name: {
            "current": c.current.as_dict(),
            "baseline": c.baseline.as_dict() if c.baseline else None,
            "difference": c.difference.as_dict() if c.difference else None,
            "lower_is_better": c.lower_is_better,
        }
        for name, c in metrics.items()
    }


def read_inputs(baseline_ref: str) -> ReportInputs:
    """Read this run's outputs and the baseline commit's (git, then `dvc ... diff`)."""
    commit = base.resolve_ref(baseline_ref)
    params_diff, metrics_diff = base.dvc_json(
        [["params", "diff", commit], ["metrics", "diff", commit]]
    )
    base_lock, current_lock = base.show(commit, "dvc.lock"), _read_text(Path("dvc.lock"))
    return ReportInputs(
        commit=commit,
        current=_current_outputs(),
        params_diff=params_diff,
        metrics_diff=metrics_diff,
        base_metrics=base.show_json(commit, paths.EVALUATE_METRICS),
        base_lock=base_lock,
        current_lock=current_lock,
        base_hashes=base.lock_hashes(base_lock),
        current_hashes=base.lock_hashes(current_lock),
    )


# The metrics compared when `evaluate.comparison.metrics` is not a list of the task's.
TASK_COMPARISON_DEFAULTS = {
    "binary": ("roc_auc", "pr_auc", "log_loss", "brier", "f1"),
    "multiclass": ("log_loss", "f1_macro", "accuracy", "roc_auc_ovr"),
    "regression": ("rmse", "mae", "r2"),
}


def comparison_metrics(params: Params) -> list[str]:
    """The metrics the report compares: the configured ones when all are the data's task's.

    A list naming metrics the task lacks was written for another task (the generated default
    is binary's): then the task's defaults, followed by the listed ones the task has. So a
    multiclass project keeping binary's list compares log_loss, f1_macro, accuracy and
    roc_auc_ovr, not log_loss alone (the one metric both tasks share).
    """
    task = params.data.task
    listed = list(params.evaluate.comparison.metrics)
    if listed and all(m in TASK_METRICS[task] for m in listed):
        return listed
    defaults = list(TASK_COMPARISON_DEFAULTS[task])
    return defaults + [m for m in listed if m in TASK_METRICS[task] and m not in defaults]


def compare_with_baseline(params: Params, inputs: ReportInputs, remote: str) -> BaselineComparison:
    """Paired on the same test rows when the baseline's model can be had, else unpaired."""
    settings = params.evaluate.comparison
    metrics = comparison_metrics(params)
    other = other_problem(base.show(inputs.commit, "params.yaml"), params)
    if other:
        alone = unpaired_comparison(
            inputs.current["metrics"]["metrics"],
            None,
            metrics,
            params.evaluate.confidence_level,
        )
        return BaselineComparison(NOT_COMPARABLE, other, "not needed (nothing compared)", alone)
    why = ""
    if inputs.base_metrics is None:
        why = f"The baseline has no `{paths.EVALUATE_METRICS}` (its pipeline never ran)."
    elif not inputs.same_test_split:
        why = "The test split differs from the baseline's (data or split changed)."
    else:
        found = base.baseline_model(
            inputs.commit,
            settings.reproduce_baseline,
            use_dvc=remote != "unavailable",
            same_training=base.same_stage(inputs.base_lock, inputs.current_lock, "train"),
        )
        if found.model is not None:
            threshold = (
                _baseline_threshold(inputs.commit, found.model)
                if params.data.task == "binary"
                else None
            )
            paired = _paired(params, found.model, metrics, threshold)
            return BaselineComparison(PAIRED, "", found.source, paired)
        why = f"The baseline's model is {found.source}."
    unpaired = unpaired_comparison(
        inputs.current["metrics"]["metrics"],
        (inputs.base_metrics or {}).get("metrics"),
        metrics,
        params.evaluate.confidence_level,
    )
    return BaselineComparison(UNPAIRED, why, "not needed (unpaired comparison)", unpaired)


# What makes two models solve the same problem: a difference in any of these makes their
# metrics incomparable (another data set, another target, another task).
PROBLEM_KEYS = ("path", "target", "task")


def other_problem(baseline_params: str | None, params: Params) -> str:
    """Why the baseline solves another problem than this run, or "" if it does not (or unknown).

    Compares `data.path`, `data.target` and `data.task` of the baseline's `params.yaml` with
    this run's (a baseline without `task` is binary, the only task it could have been).
    """
    if baseline_params is None:
        return ""
    try:
        data = (yaml.safe_load(baseline_params) or {}).get("data") or {}
    except yaml.YAMLError:
        return ""
    ours = {"path": params.data.path, "target": params.data.target, "task": params.data.task}
    theirs = {"path": data.get("path"), "target": data.get("target"), "task": data.get("task")}
    theirs["task"] = theirs["task"] or "binary"
    changed = [
        f"`data.{key}` `{theirs[key]}` → `{ours[key]}`"
        for key in PROBLEM_KEYS
        if theirs[key] is not None and str(theirs[key]) != str(ours[key])
    ]
    if not changed:
        return ""
    return (
        "The baseline was trained on another data set or task (" + ", ".join(changed) + "), "
        "so its metrics say nothing about this model: only this pull request's are shown, and "
        "no rule compares with the baseline."
    )


def render_report(
    params: Params,
    inputs: ReportInputs,
    comparison: BaselineComparison,
    gate: dict[str, Any],
    label: str,
    remote: str,
) -> tuple[str, dict[str, str]]:
    """The Markdown report (sections in reading order) and its SVG charts, if asked."""
    commit = inputs.commit
    data_files = sorted(
        p for p in set(inputs.base_hashes) | set(inputs.current_hashes) if p.startswith("data/")
    )
    hashes = {p: (inputs.base_hashes.get(p), inputs.current_hashes.get(p)) for p in data_files}
    blocks, legend, images = _plots(commit, label, params.evaluate.comparison.plots)
    text = sections.assemble(
        "Model report: this pull request against " + f"`{label}`",
        [
            sections.verdict_section(gate),
            sections.metrics_section(
                comparison.metrics,
                comparison.mode,
                params.evaluate.confidence_level,
                label,
                comparison.why,
            ),
            _other_metrics_section(inputs, comparison),
            sections.params_section(inputs.params_diff),
            sections.data_section(
                base.show_json(commit, paths.DATA_REPORT), inputs.current["data"], hashes
            ),
            sections.code_section(_code_changes(commit)),
            sections.plots_section(blocks, legend),
            sections.drift_section(_read_text(DRIFT_FILE)),
            *governance_sections(
                _this_and_baseline(commit, paths.FAIRNESS_REPORT),
                _this_and_baseline(commit, paths.ATTRIBUTIONS_REPORT),
                _read_text(paths.MODEL_CARD),
                label,
            ),
            *_tuning_section(commit),
            _provenance_section(label, commit, comparison, remote),
        ],
    )
    return spell_class_metrics(text, params.data.label_spelling), images


def _other_metrics_section(inputs: ReportInputs, comparison: BaselineComparison) -> str:
    """The other tracked metrics that changed (the test metrics are compared with intervals)."""
    other_metrics = {
        file: values
        for file, values in inputs.metrics_diff.items()
        if file != paths.EVALUATE_METRICS.as_posix()
    }
    return (
        "_Other tracked metrics are not compared: the baseline solves another problem._"
        if comparison.mode == NOT_COMPARABLE
        else sections.all_metrics_section(other_metrics)
    )


def _provenance_section(
    label: str, commit: str, comparison: BaselineComparison, remote: str
) -> str:
    """Where the report and its models come from: commits, the run, the artifacts."""
    head = base.git("rev-parse", "HEAD").stdout.strip()
    dirty = bool(base.git("status", "--porcelain", "--untracked-files=no").stdout.strip())
    written = ("pr_report.md", "pr_report" + HTML_SUFFIX)
    found = {p.name for pat in ARTIFACT_PATTERNS for p in Path().glob(pat)}
    artifacts = [*written, *sorted(found - set(written))]
    return sections.provenance_section(
        label,
        commit,
        head,
        dirty,
        comparison.model_source,
        REMOTE_NOTES[remote],
        _run_url(),
        artifacts,
    )


def _this_and_baseline(commit: str, path: Path) -> tuple[Any, Any]:
    """A JSON output of this run and of the baseline commit (None where absent)."""
    text = _read_text(path)
    return (json.loads(text) if text else None), base.show_json(commit, path)


def _current_outputs() -> dict[str, Any]:
    found = {}
    for key, path in (
        ("metrics", paths.EVALUATE_METRICS),
        ("gate", paths.GATE_FILE),
        ("data", paths.DATA_REPORT),
    ):
        if not path.is_file():
            raise PipelineError(
                f"{path} not found: run the pipeline (`dvc exp run`) before the report"
            )
        found[key] = json.loads(path.read_text(encoding="utf-8"))
    return found


def _baseline_threshold(commit: str, model: Any) -> float:
    """The baseline model's decision threshold: saved with it, or (older models) its params'."""
    saved = model.metadata.get("decision_threshold", {}).get("value")
    if saved is not None:
        return float(saved)
    old = base.show(commit, "params.yaml")
    value = (yaml.safe_load(old) or {}).get("evaluate", {}).get("threshold") if old else None
    if value is None:
        raise PipelineError(f"the baseline model of {commit[:12]} has no decision threshold")
    return float(value)


def _paired(
    params: Params, model: Any, metrics: Sequence[str], baseline_threshold: float | None
) -> dict[str, MetricComparison]:
    if not paths.TEST_PREDICTIONS.is_file() or not paths.TEST_DATA.is_file():
        raise PipelineError(
            f"{paths.TEST_PREDICTIONS} or {paths.TEST_DATA} not found: run the pipeline first"
        )
    predictions = pd.read_parquet(paths.TEST_PREDICTIONS)
    test = pd.read_parquet(paths.TEST_DATA)
    if len(test) != len(predictions):
        raise PipelineError(
            f"{paths.TEST_PREDICTIONS} has {len(predictions)} rows but {paths.TEST_DATA} has "
            f"{len(test)}: re-run the evaluate stage"
        )
    config = params.evaluate
    evaluation = json.loads(paths.EVALUATE_METRICS.read_text(encoding="utf-8"))
    spec = FeatureSpec.from_data_config(params.data)
    if spec.task != "binary":
        labels, outputs = read_predictions(spec, predictions)
        return paired_of(
            task_values(spec.task, labels, outputs, classes=spec.classes),
            task_values(spec.task, labels, model_predictions(model, test), classes=spec.classes),
            len(labels),
            metrics,
            resamples=config.bootstrap_resamples,
            confidence_level=config.confidence_level,
            seed=params.seed,
        )
    return paired_comparison(
        predictions["label"].to_numpy(),
        predictions["score"].to_numpy(dtype=np.float64),
        positive_scores(model, test),
        metrics,
        threshold=float(evaluation["threshold"]),
        baseline_threshold=baseline_threshold,
        resamples=config.bootstrap_resamples,
        confidence_level=config.confidence_level,
        seed=params.seed,
    )


def _plots(commit: str, label: str, kind: str) -> tuple[list[str], str, dict[str, str]]:
    curves = [
        ("roc", "ROC curve", "fpr", "tpr", "False positive rate", "True positive rate"),
        (
            "precision_recall",
            "Precision-recall curve",
            "recall",
            "precision",
            "Recall",
            "Precision",
        ),
    ]
    blocks: list[str] = []
    images: dict[str, str] = {}
    for name, title, x, y, x_label, y_label in curves:
        path = paths.PLOTS_DIR / f"{name}.json"
        current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        before = base.show_json(commit, path)
        sides = [s for s in (before, current) if s]
        if not sides:
            continue
        series = [charts.curve_on_grid(records, x, y, GRID) for records in sides]
        colours = charts.COLOURS[-len(series) :]
        if kind == "images":
            names = [f"baseline ({label})", "this PR"][-len(series) :]
            named = dict(zip(names, series, strict=True))
            images[f"{name}.svg"] = charts.svg_lines(title, list(GRID), named)
            blocks.append(f"![{title}]({IMAGES_DIR.name}/{name}.svg)")
        else:
            blocks.append(
                charts.line_chart(title, x_label, list(GRID), y_label, series, colours=colours)
            )
    blocks.append(_importance_chart(commit, label))
    legend = (
        f"Grey: baseline (`{label}`); blue: this PR. Curves are interpolated on a grid of 21 "
        "points; the full curves are in `plots/` (`dvc plots diff`)."
    )
    return blocks, legend, images


def _importance_chart(commit: str, label: str) -> str:
    path = paths.PLOTS_DIR / "feature_importance.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    before = base.show_json(commit, path) or []

    def shares(records: list[dict[str, Any]]) -> dict[str, float]:
        total = sum(r["total_gain"] for r in records) or 1.0
        return {r["feature"]: r["total_gain"] / total for r in records}

    now, then = shares(current), shares(before)
    top = sorted(now, key=lambda f: -now[f])[:10]
    rows = [
        [f"`{f}`", f"{then.get(f, 0):.3f}", f"{now[f]:.3f}"]
        for f in sorted(now, key=lambda f: -now[f])
    ]
    series = [[round(now[f], 4) for f in top]]
    if then:
        series.append([round(then.get(f, 0.0), 4) for f in top])
    chart = charts.bar_chart(
        "Feature importance (share of total gain), top 10",
        top,
        "share of gain",
        series,
        colours=charts.COLOURS[::-1],
    )
    table = markdown.details(
        f"Feature importance, all {len(rows)} features",
        markdown.table(["feature", f"baseline ({label})", "this PR"], rows),
    )
    note = "Blue bars: this PR; grey line: baseline." if then else "Bars: this PR (no baseline)."
    return f"{chart}\n\n{note}\n\n{table}"


def _tuning_section(commit: str) -> list[str]:
    """The tuning study's summary, when this pull request changes the tuned experiment."""
    from ..tuning.report import pr_section
    from ..tuning.study import TUNED_EXPERIMENT

    changed = {p for _, p in base.changed_files(commit)}
    return [pr_section()] if TUNED_EXPERIMENT.as_posix() in changed else []


def _code_changes(commit: str) -> list[tuple[str, str]]:
    generated = ("params.yaml", "dvc.lock", "metrics/", "plots/", "reports/", "dvclive/")
    return [(s, p) for s, p in base.changed_files(commit) if not p.startswith(generated)]


def _run_url() -> str | None:
    keys = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    if not all(os.environ.get(k) for k in keys):
        return None
    server, repository, run = (os.environ[k] for k in keys)
    return f"{server}/{repository}/actions/runs/{run}"


def _read_text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    from ..errors import guarded

    parser = argparse.ArgumentParser(prog=f"{PACKAGE} report", description=__doc__)
    parser.add_argument(
        "--baseline", help="git ref to compare with (default: evaluate.comparison.baseline)"
    )
    parser.add_argument("--output", type=Path, default=REPORT_FILE, help="report file")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file")
    parser.add_argument(
        "--remote", choices=sorted(REMOTE_NOTES), default="local",
        help="what the report says about the data source (set by the CI workflow)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    def write() -> None:
        params = load_params(args.params)
        ref = args.baseline or params.evaluate.comparison.baseline
        text, gate, images = build_report(params, ref, args.remote)
        attachments = {f"{IMAGES_DIR.name}/{name}": svg for name, svg in images.items()}
        page = html.page(text, args.output.parent, attachments)
        with staged_outputs() as staged:
            staged.write_text(args.output, text)
            staged.write_text(args.output.with_suffix(HTML_SUFFIX), page)
            staged.write_json(args.output.parent / PR_GATE_FILE.name, gate)
            for path, svg in attachments.items():
                staged.write_text(args.output.parent / path, svg)
        verdict = "PASS" if gate["passed"] else "FAIL"
        log.info(
            "report: %s (%s comparison), written to %s", verdict, gate["comparison"], args.output
        )

    return guarded(write, "report")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
