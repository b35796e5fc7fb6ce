"""The quality gate, decided in one place: rules, verdicts, and the command that enforces them.

Three kinds of rule, each a dict of the same shape (`rule`, `kind`, `metric`, `use`,
`operator`, `limit`, `value`, `passed`, `message`):
- `vs_trivial`: the model beats the trivial model (the training split's class shares) on the
  same test rows with confidence: the whole paired-bootstrap interval of the difference lies on
  the better side (`evaluate.gate.beat_trivial`);
- `absolute`: a metric's point estimate or interval bound against a fixed limit
  (`evaluate.gate.absolute`);
- `vs_baseline`: no metric significantly worse than the baseline's in the pull-request report
  (`evaluate.comparison.tolerance`);
- `fairness`: the gap between groups on a fairness measure, within `max_difference`
  (`evaluate.fairness.gate`; the gaps are measured in `governance.fairness`).
The evaluate stage writes `check_gate`'s verdict (`reports/gate.json`), the report writes
`pr_verdict`'s (`reports/pr_gate.json`), and `python -m <package> gate [FILE]` enforces either.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..artifacts import paths
from ..errors import PipelineError
from ..model.metrics import LOWER_IS_BETTER
from ..settings.params import FairnessRule, GateConfig, GateRule
from ..text.markdown import short, signed_short
from .comparison import MetricComparison

# The metrics `beat_trivial: auto` checks per task: a proper score and, for classifiers, a
# threshold metric.
TRIVIAL_DEFAULTS = {
    "binary": ("log_loss", "f1"),
    "multiclass": ("log_loss", "f1_macro"),
    "regression": ("rmse",),
}
# The trivial model's decision per threshold metric: the best constant answer.
# binary f1: every record positive (any other constant gives 0); accuracy: the majority class.
# multiclass: the majority class (the class prior's most probable class) is the best constant
# answer for accuracy, macro and weighted F1. Ranking metrics and proper scores use the
# constant scores, whatever the decision; regression: the training mean.
TRIVIAL_COMPARABLE = {
    "binary": frozenset({"log_loss", "brier", "f1", "accuracy", "roc_auc", "pr_auc"}),
    "multiclass": frozenset({"log_loss", "f1_macro", "f1_weighted", "accuracy", "roc_auc_ovr"}),
    "regression": frozenset({"rmse", "mae", "r2", "mape"}),
}
ALL_POSITIVE, ALL_NEGATIVE = 0.0, 2.0  # thresholds giving every / no record positive


def trivial_metrics(config: GateConfig, task: str = "binary") -> list[str]:
    """The metrics compared with the trivial model; raise `PipelineError` for impossible ones."""
    auto = config.beat_trivial == "auto"
    chosen = list(TRIVIAL_DEFAULTS[task]) if auto else list(config.beat_trivial)
    comparable = TRIVIAL_COMPARABLE[task]
    impossible = [m for m in chosen if m not in comparable]
    if impossible:
        raise PipelineError(
            f"evaluate.gate.beat_trivial: {impossible} cannot be compared with a trivial "
            f"{task} model (not a {task} metric, or a constant answer maximises it); choose "
            f"among {sorted(comparable)}"
        )
    return chosen


def trivial_threshold(metric: str, positive_share: float) -> float:
    """The decision threshold of the trivial model for `metric` (its best constant answer)."""
    if metric == "accuracy":
        return ALL_POSITIVE if positive_share >= 0.5 else ALL_NEGATIVE
    return ALL_POSITIVE


def check_gate(config: GateConfig, evaluation: Mapping[str, Any]) -> dict[str, Any]:
    """The evaluate stage's verdict from the gate settings and `metrics/evaluate.json`'s content.

    `evaluation` holds `metrics` (name -> value/ci_low/ci_high), `vs_trivial` (name -> model,
    trivial and difference intervals) and `confidence_level`.
    """
    task = evaluation.get("task", "binary")
    rules = trivial_rules(
        {m: evaluation["vs_trivial"][m] for m in trivial_metrics(config, task)},
        evaluation["confidence_level"],
    )
    rules += absolute_rules(config.absolute, evaluation["metrics"])
    return {"passed": all(r["passed"] for r in rules), "rules": rules}


# "Too good to be true": a test score this close to perfect, with this share of the
# attributions on the top two features, is more often a leak than a model.
TOO_GOOD = {
    "binary": ("roc_auc", 0.999),
    "multiclass": ("accuracy", 0.999),
    "regression": ("r2", 0.99),
}
DOMINANT_SHARE = 0.8


def too_good_warnings(evaluation: Mapping[str, Any], attributions: Mapping[str, Any]) -> list[str]:
    """Warnings (never failures) for near-perfect results that one or two features carry."""
    metric, limit = TOO_GOOD[evaluation.get("task", "binary")]
    value = (evaluation.get("metrics", {}).get(metric) or {}).get("value")
    ranked = attributions.get("features") or []
    total = sum(float(r["mean_abs_contribution"]) for r in ranked)
    if value is None or value < limit or total <= 0:
        return []
    top = ranked[:2]
    share = sum(float(r["mean_abs_contribution"]) for r in top) / total
    if share < DOMINANT_SHARE:
        return []
    names = " and ".join(f"'{r['feature']}'" for r in top)
    return [
        f"too good to be true? {metric} {value:.4f} with {share:.0%} of the attributions on "
        f"{names}: check that they are known before the outcome (a target leak passes every "
        "other rule)"
    ]


def trivial_rules(
    comparisons: Mapping[str, Mapping[str, Mapping[str, float]]], confidence_level: float
) -> list[dict[str, Any]]:
    """One rule per metric: the difference model - trivial lies wholly on the better side of 0."""
    level = f"{confidence_level:.0%}"
    rules = []
    for metric, sides in comparisons.items():
        difference = sides["difference"]
        lower = metric in LOWER_IS_BETTER
        value = difference["ci_high"] if lower else difference["ci_low"]
        passed = value < 0 if lower else value > 0
        direction = "below" if lower else "above"
        message = (
            f"{metric}: model {short(sides['model']['value'])}, trivial model "
            f"{short(sides['trivial']['value'])}; difference {signed_short(difference['value'])} "
            f"[{signed_short(difference['ci_low'])}, {signed_short(difference['ci_high'])}]"
        )
        if not passed:
            bound = "upper" if lower else "lower"
            message += (
                f": not better than the trivial model with {level} confidence (the interval's "
                f"{bound} end must be {direction} 0; it misses by {abs(value):.4g})"
            )
        rules.append(
            _rule(
                "vs_trivial",
                f"{metric} better than the trivial model ({level} interval of the difference "
                f"{direction} 0)",
                metric,
                "difference_ci_high" if lower else "difference_ci_low",
                "<" if lower else ">",
                0.0,
                value,
                passed,
                message,
            )
        )
    return rules


def absolute_rules(
    rules: Sequence[GateRule], metrics: Mapping[str, Mapping[str, float]]
) -> list[dict[str, Any]]:
    """Each absolute limit against the point estimate or an interval bound of its metric."""
    results = []
    for rule in rules:
        if rule.metric not in metrics:
            raise PipelineError(
                f"evaluate.gate.absolute: metric {rule.metric!r} is not measured for this task; "
                f"choose among {sorted(metrics)}"
            )
        interval = metrics[rule.metric]
        value = {"point": interval["value"], "ci_low": interval["ci_low"]}.get(
            rule.use, interval["ci_high"]
        )
        if rule.min is not None:
            passed, operator, limit = value >= rule.min, ">=", rule.min
        else:
            assert rule.max is not None
            passed, operator, limit = value <= rule.max, "<=", rule.max
        text = f"{rule.metric} ({rule.use}) {operator} {limit}"
        message = f"{text}: {short(value)}"
        if not passed:
            message += f" misses the limit by {abs(value - limit):.4g}"
        results.append(
            _rule("absolute", text, rule.metric, rule.use, operator, limit, value, passed, message)
        )
    return results


def regression_rules(
    comparisons: Mapping[str, MetricComparison], tolerance: float
) -> list[dict[str, Any]]:
    """No metric significantly worse than the baseline's.

    A metric fails when the whole interval of its difference lies beyond the tolerance on the
    bad side: for higher-is-better metrics the interval's upper end is below -tolerance, for
    lower-is-better ones its lower end is above +tolerance. Metrics without a baseline value
    give no rule.
    """
    rules = []
    for m, comparison in comparisons.items():
        if comparison.difference is None:
            continue
        if comparison.lower_is_better:
            value, operator, limit = comparison.difference.ci_low, "<=", tolerance
            passed = value <= limit
        else:
            value, operator, limit = comparison.difference.ci_high, ">=", -tolerance
            passed = value >= limit
        message = f"{m}: difference vs baseline {signed_short(comparison.difference.value)}"
        if not passed:
            message += f": significantly worse, beyond the tolerance by {abs(value - limit):.4g}"
        rules.append(
            _rule(
                "vs_baseline",
                f"{m}: no regression vs baseline (difference CI bound {operator} {limit})",
                m,
                "difference_ci_low" if comparison.lower_is_better else "difference_ci_high",
                operator,
                limit,
                value,
                passed,
                message,
            )
        )
    return rules


def pr_verdict(
    gate: Mapping[str, Any],
    comparisons: Mapping[str, MetricComparison] | None,
    tolerance: float,
    *,
    comparison: str,
    baseline: Mapping[str, str],
) -> dict[str, Any]:
    """The pull request's verdict: the evaluate stage's rules plus the regression rules.

    `comparisons` is None when nothing can be compared with the baseline (then no regression
    rule applies, and the verdict says so through `comparison`).
    """
    rules = [*gate["rules"], *regression_rules(comparisons or {}, tolerance)]
    return {
        "passed": all(r["passed"] for r in rules),
        "rules": rules,
        "comparison": comparison,
        "baseline": dict(baseline),
    }


def _rule(
    kind: str,
    text: str,
    metric: str,
    use: str,
    operator: str,
    limit: float,
    value: float,
    passed: bool,
    message: str,
) -> dict[str, Any]:
    return {
        "rule": text,
        "kind": kind,
        "metric": metric,
        "use": use,
        "operator": operator,
        "limit": limit,
        "value": value,
        "passed": bool(passed),
        "message": message,
    }


def fairness_rules(
    rules: Sequence[FairnessRule], results: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The fairness rules (`evaluate.fairness.gate`) on the gaps: one per rule and column."""
    found = []
    level = f"{results.get('confidence_level', 0.95):.0%}"
    for rule in rules:
        for column, outcome in results.get("columns", {}).items():
            measure = outcome.get("measures", {}).get(rule.measure) or {}
            text = (
                f"fairness: {rule.measure} difference on '{column}' ({rule.use}) "
                f"<= {rule.max_difference}"
            )
            difference = measure.get("difference")
            if not difference or difference.get("value") is None:
                why = outcome.get("note") or measure.get("note") or "no groups to compare"
                found.append(
                    _fairness_rule(text, rule, 0.0, True, f"{rule.measure} on '{column}': {why}")
                )
                continue
            key = {"point": "value"}.get(rule.use, rule.use)
            value = difference.get(key)
            value = difference["value"] if value is None else value
            passed = value <= rule.max_difference
            message = (
                f"{rule.measure} on '{column}' ({measure['metric']}): '{measure['higher']}' "
                f"{measure['higher_value']:.4g} vs '{measure['lower']}' "
                f"{measure['lower_value']:.4g}, difference {difference['value']:.4g} "
                f"[{short(difference['ci_low'])}, {short(difference['ci_high'])}]"
            )
            if not passed:
                message += (
                    f": above max_difference {rule.max_difference} ({rule.use}, {level} "
                    f"interval) by {value - rule.max_difference:.4g} between "
                    f"'{measure['higher']}' and '{measure['lower']}'"
                )
            found.append(_fairness_rule(text, rule, value, passed, message))
    return found


def with_fairness_rules(
    verdict: dict[str, Any], rules: Sequence[FairnessRule], fairness: Mapping[str, Any]
) -> dict[str, Any]:
    """The gate verdict with the fairness rules added (`passed` decided on all of them)."""
    found = [*verdict["rules"], *fairness_rules(rules, fairness)]
    return {**verdict, "passed": all(r["passed"] for r in found), "rules": found}


def _fairness_rule(
    text: str, rule: FairnessRule, value: float, passed: bool, message: str
) -> dict[str, Any]:
    limit = rule.max_difference
    return _rule("fairness", text, rule.measure, rule.use, "<=", limit, value, passed, message)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the verdict in `reports/gate.json` (or FILE); exit 1 when the gate failed."""
    path = Path(argv[0]) if argv else paths.GATE_FILE
    if not path.is_file():
        print(f"error in gate: {path} not found: run the pipeline first", file=sys.stderr)
        return 1
    verdict = json.loads(path.read_text(encoding="utf-8"))
    for rule in verdict["rules"]:
        mark = "PASS" if rule["passed"] else "FAIL"
        print(f"{mark}  {rule.get('message') or rule['rule'] + ': ' + str(rule['value'])}")
    for warning in verdict.get("warnings", []):
        print(f"WARN  {warning}")
    print("quality gate:", "PASSED" if verdict["passed"] else "FAILED")
    return 0 if verdict["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
