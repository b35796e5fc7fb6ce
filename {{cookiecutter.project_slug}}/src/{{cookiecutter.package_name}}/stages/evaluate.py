"""Stage `evaluate`: test metrics with bootstrap intervals, plots data, and the quality gate."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from ..artifacts import paths
from ..artifacts.atomic import staged_outputs
from ..errors import PipelineError
from ..governance.evaluation import governance_results, task_outcomes
from ..model.comparison import paired_comparison, paired_of
from ..model.features import encode_target
from ..model.files import LoadedModel, load_model
from ..model.gate import (
    check_gate,
    too_good_warnings,
    trivial_metrics,
    trivial_threshold,
    with_fairness_rules,
)
from ..model.metrics import HEADLINE_METRIC, task_intervals, task_values
from ..model.scoring import decide, predictions, predictions_frame, trivial_outputs
from ..settings.command import run_stage
from ..settings.params import EvaluateConfig, Params
from ..text.markdown import rounded

log = logging.getLogger(__name__)


def evaluate(params: Params) -> dict[str, Any]:
    """Run the stage; write metrics, the gate verdict, test predictions and plots data."""
    model = load_model()
    if not paths.TEST_DATA.is_file():
        raise PipelineError(f"{paths.TEST_DATA} not found: run the prepare stage first")
    test = pd.read_parquet(paths.TEST_DATA)
    spec = model.spec
    labels = encode_target(test[spec.target], spec)
    outputs = predictions(model, test)
    config = params.evaluate
    threshold = model.threshold
    intervals = task_intervals(
        spec.task,
        labels,
        outputs,
        threshold=threshold,
        classes=spec.classes,
        resamples=config.bootstrap_resamples,
        confidence_level=config.confidence_level,
        seed=params.seed,
    )
    summary: dict[str, Any] = {"task": spec.task, "test_rows": len(labels)}
    if spec.task == "binary":
        summary["positive_share"] = round(float(labels.mean()), 6)
        summary["threshold"] = threshold
    elif spec.task == "multiclass":
        shares = np.bincount(labels, minlength=len(spec.classes)) / len(labels)
        summary["class_shares"] = {c: rounded(v) for c, v in zip(spec.classes, shares, strict=True)}
    else:
        summary["target_mean"] = rounded(labels.mean())
    summary |= {
        "confidence_level": config.confidence_level,
        "bootstrap_resamples": config.bootstrap_resamples,
        "model_md5": model.metadata["model_md5"],
        "metrics": {name: interval.as_dict() for name, interval in intervals.items()},
        "vs_trivial": versus_trivial(params, model, labels, outputs),
    }
    outcomes = task_outcomes(spec, labels, outputs, threshold)
    fairness, attributions = governance_results(params, model, test, outcomes)
    verdict = with_fairness_rules(check_gate(config.gate, summary), config.fairness.gate, fairness)
    warnings = too_good_warnings(summary, attributions)
    if warnings:  # only then: a verdict without warnings is unchanged
        verdict["warnings"] = warnings
        for warning in warnings:
            log.warning("evaluate: WARN %s", warning)
    with staged_outputs() as staged:
        staged.write_json(paths.EVALUATE_METRICS, summary)
        staged.write_json(paths.GATE_FILE, verdict)
        staged.write_json(paths.FAIRNESS_REPORT, fairness)
        staged.write_json(paths.ATTRIBUTIONS_REPORT, attributions)
        predictions_frame(spec, labels, outputs).to_parquet(
            staged.path(paths.TEST_PREDICTIONS), index=False
        )
        for name, records in plots_data(model, labels, outputs, config).items():
            staged.write_json(paths.PLOTS_DIR / f"{name}.json", records)
    headline = HEADLINE_METRIC[spec.task]
    log.info(
        "evaluate: %s %.4f [%.4f, %.4f]; gate %s",
        headline,
        intervals[headline].value,
        intervals[headline].ci_low,
        intervals[headline].ci_high,
        "passed" if verdict["passed"] else "FAILED",
    )
    return summary


def versus_trivial(
    params: Params, model: LoadedModel, labels: np.ndarray, outputs: np.ndarray
) -> dict[str, dict[str, dict[str, float]]]:
    """The gate's metrics for the model and the trivial model on the same rows (paired).

    The trivial model answers every row with the training split's class shares (binary: the
    positive share, its decisions the best constant answer per metric,
    `gate.trivial_threshold`; multiclass: the majority class) or, for regression, the
    training mean.
    """
    config = params.evaluate
    spec = model.spec
    trivial = trivial_outputs(model, len(labels))
    found = {}
    for metric in trivial_metrics(config.gate, spec.task):
        if spec.task == "binary":
            share = float(trivial[0]) if len(trivial) else 0.0
            result = paired_comparison(
                labels,
                outputs,
                trivial,
                [metric],
                threshold=model.threshold,
                baseline_threshold=trivial_threshold(metric, share),
                resamples=config.bootstrap_resamples,
                confidence_level=config.confidence_level,
                seed=params.seed,
            )[metric]
        else:
            result = paired_of(
                task_values(spec.task, labels, outputs, classes=spec.classes),
                task_values(spec.task, labels, trivial, classes=spec.classes),
                len(labels),
                [metric],
                resamples=config.bootstrap_resamples,
                confidence_level=config.confidence_level,
                seed=params.seed,
            )[metric]
        assert result.baseline is not None
        assert result.difference is not None
        found[metric] = {
            "model": result.current.as_dict(),
            "trivial": result.baseline.as_dict(),
            "difference": result.difference.as_dict(),
        }
    return found


# Every task writes every plots file declared in dvc.yaml; the files a task has no use for
# hold an empty list (DVC then draws nothing for them).
PLOT_FILES = (
    "roc",
    "precision_recall",
    "calibration",
    "confusion",
    "predicted_actual",
    "residuals",
    "feature_importance",
)


def plots_data(
    model: LoadedModel, labels: np.ndarray, outputs: np.ndarray, config: EvaluateConfig
) -> dict[str, list[dict[str, Any]]]:
    """Records for DVC's plot templates (see `plots:` in dvc.yaml), one list per file.

    binary: ROC, precision-recall, calibration, confusion; multiclass: confusion;
    regression: predicted vs actual and residuals (at most `curve_points` rows, spread over
    the range of the target); every task: feature importance.
    """
    spec = model.spec
    plots: dict[str, list[dict[str, Any]]] = {name: [] for name in PLOT_FILES}
    if spec.task == "binary":
        plots |= _binary_curves(labels, outputs, config)
    if spec.classifier:
        decided = decide(spec, outputs, model.threshold)
        if spec.task == "binary":
            negative = next(c for c in spec.classes if c != spec.positive_class)
            actual = np.where(labels == 1, spec.positive_class, negative)
        else:
            actual = np.asarray(spec.classes, dtype=object)[labels.astype(int)]
        plots["confusion"] = [
            {"actual": str(a), "predicted": str(p)}
            for a, p in zip(actual.tolist(), decided.tolist(), strict=True)
        ]
    else:
        order = np.argsort(labels, kind="mergesort")
        kept = order[_thin(len(order), config.curve_points)]
        plots["predicted_actual"] = [
            {"actual": rounded(labels[i]), "predicted": rounded(outputs[i])} for i in kept
        ]
        plots["residuals"] = [
            {"predicted": rounded(outputs[i]), "residual": rounded(labels[i] - outputs[i])}
            for i in kept
        ]
    gains = model.booster.get_score(importance_type="total_gain")
    importance = sorted(
        ((name, float(gains.get(name, 0.0))) for name in spec.names),
        key=lambda item: (-item[1], item[0]),
    )
    plots["feature_importance"] = [{"feature": n, "total_gain": rounded(g)} for n, g in importance]
    return plots


def _binary_curves(
    labels: np.ndarray, scores: np.ndarray, config: EvaluateConfig
) -> dict[str, list[dict[str, Any]]]:
    fpr, tpr, _ = roc_curve(labels, scores)
    precision, recall, _ = precision_recall_curve(labels, scores)
    keep_roc = _thin(len(fpr), config.curve_points)
    keep_pr = _thin(len(recall), config.curve_points)
    observed, predicted = calibration_curve(
        labels, scores, n_bins=config.calibration_bins, strategy="quantile"
    )
    return {
        "roc": [{"fpr": rounded(fpr[i]), "tpr": rounded(tpr[i])} for i in keep_roc],
        "precision_recall": [
            {"recall": rounded(recall[i]), "precision": rounded(precision[i])} for i in keep_pr
        ],
        "calibration": [
            {"mean_predicted": rounded(p), "fraction_positive": rounded(o)}
            for p, o in zip(predicted, observed, strict=True)
        ],
    }


def _thin(length: int, points: int) -> list[int]:
    """At most `points` indices spread evenly over a curve, both ends kept."""
    if length <= points:
        return list(range(length))
    return sorted({int(i) for i in np.linspace(0, length - 1, points).round()})


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("evaluate", __doc__ or "", evaluate, argv)


if __name__ == "__main__":
    sys.exit(main())
