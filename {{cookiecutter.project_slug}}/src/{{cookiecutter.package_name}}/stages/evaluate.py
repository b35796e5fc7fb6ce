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
from ..cli import run_stage
from ..errors import PipelineError
from ..governance.evaluation import binary_outcomes, governance_results, with_fairness_rules
from ..model.features import encode_target
from ..model.files import LoadedModel, load_model
from ..model.metrics import with_intervals
from ..model.scoring import positive_scores
from ..review.comparison import paired_comparison
from ..review.gate import check_gate, trivial_metrics, trivial_threshold
from ..settings.params import EvaluateConfig, Params

log = logging.getLogger(__name__)


def evaluate(params: Params) -> dict[str, Any]:
    """Run the stage; write metrics, the gate verdict, test predictions and plots data."""
    model = load_model()
    if not paths.TEST_DATA.is_file():
        raise PipelineError(f"{paths.TEST_DATA} not found: run the prepare stage first")
    test = pd.read_parquet(paths.TEST_DATA)
    labels = encode_target(test[model.spec.target], model.spec)
    scores = positive_scores(model, test)
    config = params.evaluate
    threshold = model.threshold
    intervals = with_intervals(
        labels,
        scores,
        threshold,
        config.bootstrap_resamples,
        config.confidence_level,
        params.seed,
    )
    summary = {
        "test_rows": len(labels),
        "positive_share": round(float(labels.mean()), 6),
        "threshold": threshold,
        "confidence_level": config.confidence_level,
        "bootstrap_resamples": config.bootstrap_resamples,
        "model_md5": model.metadata["model_md5"],
        "metrics": {name: interval.as_dict() for name, interval in intervals.items()},
        "vs_trivial": versus_trivial(params, model, labels, scores),
    }
    outcomes = binary_outcomes(labels, scores, threshold)
    fairness, attributions = governance_results(params, model, test, outcomes)
    verdict = with_fairness_rules(check_gate(config.gate, summary), params, fairness)
    predictions = pd.DataFrame({"label": labels, "score": scores})
    with staged_outputs() as staged:
        staged.write_json(paths.EVALUATE_METRICS, summary)
        staged.write_json(paths.GATE_FILE, verdict)
        staged.write_json(paths.FAIRNESS_REPORT, fairness)
        staged.write_json(paths.ATTRIBUTIONS_REPORT, attributions)
        predictions.to_parquet(staged.path(paths.TEST_PREDICTIONS), index=False)
        for name, records in plots_data(model, labels, scores, config).items():
            staged.write_json(paths.PLOTS_DIR / f"{name}.json", records)
    log.info(
        "evaluate: roc_auc %.4f [%.4f, %.4f]; gate %s",
        intervals["roc_auc"].value,
        intervals["roc_auc"].ci_low,
        intervals["roc_auc"].ci_high,
        "passed" if verdict["passed"] else "FAILED",
    )
    return summary


def versus_trivial(
    params: Params, model: LoadedModel, labels: np.ndarray, scores: np.ndarray
) -> dict[str, dict[str, dict[str, float]]]:
    """The gate's metrics for the model and the trivial model on the same rows (paired).

    The trivial model scores every row with the training split's positive share; its decisions
    are the best constant answer per metric (`gate.trivial_threshold`).
    """
    share = float(model.metadata["trivial_model"]["positive_score"])
    config = params.evaluate
    found = {}
    for metric in trivial_metrics(config.gate):
        result = paired_comparison(
            labels,
            scores,
            np.full(len(labels), share),
            [metric],
            threshold=model.threshold,
            baseline_threshold=trivial_threshold(metric, share),
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


def plots_data(
    model: LoadedModel, labels: np.ndarray, scores: np.ndarray, config: EvaluateConfig
) -> dict[str, list[dict[str, Any]]]:
    """Records for DVC's plot templates (see `plots:` in dvc.yaml)."""
    fpr, tpr, _ = roc_curve(labels, scores)
    precision, recall, _ = precision_recall_curve(labels, scores)
    keep_roc = _thin(len(fpr), config.curve_points)
    keep_pr = _thin(len(recall), config.curve_points)
    observed, predicted = calibration_curve(
        labels, scores, n_bins=config.calibration_bins, strategy="quantile"
    )
    classes = model.spec.classes
    decisions = (scores >= model.threshold).astype(int)
    gains = model.booster.get_score(importance_type="total_gain")
    importance = sorted(
        ((name, float(gains.get(name, 0.0))) for name in model.spec.names),
        key=lambda item: (-item[1], item[0]),
    )
    return {
        "roc": [{"fpr": _r(fpr[i]), "tpr": _r(tpr[i])} for i in keep_roc],
        "precision_recall": [
            {"recall": _r(recall[i]), "precision": _r(precision[i])} for i in keep_pr
        ],
        "calibration": [
            {"mean_predicted": _r(p), "fraction_positive": _r(o)}
            for p, o in zip(predicted, observed, strict=True)
        ],
        "confusion": [
            {"actual": classes[int(a)], "predicted": classes[int(p)]}
            for a, p in zip(labels, decisions, strict=True)
        ],
        "feature_importance": [{"feature": n, "total_gain": _r(g)} for n, g in importance],
    }


def _thin(length: int, points: int) -> list[int]:
    """At most `points` indices spread evenly over a curve, both ends kept."""
    if length <= points:
        return list(range(length))
    return sorted({int(i) for i in np.linspace(0, length - 1, points).round()})


def _r(value: float) -> float:
    return round(float(value), 6)


def main(argv: Sequence[str] | None = None) -> int:
    return run_stage("evaluate", __doc__ or "", evaluate, argv)


if __name__ == "__main__":
    sys.exit(main())
