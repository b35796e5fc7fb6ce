"""The quality gate: limits on point estimates or interval bounds, and its exit status."""

from __future__ import annotations

import json

from helpers import module

config = module("settings.params")
gate = module("review.gate")
metrics = module("model.metrics")

RESULTS = {
    "roc_auc": metrics.Interval(0.80, 0.74, 0.86),
    "log_loss": metrics.Interval(0.30, 0.28, 0.33),
}


def rule(**fields: object):
    return config.GateRule.model_validate(fields)


def test_each_rule_reports_value_limit_and_verdict() -> None:
    verdict = gate.check_gate(
        [rule(metric="roc_auc", min=0.75), rule(metric="log_loss", max=0.32, use="ci_high")],
        RESULTS,
    )
    assert verdict["passed"] is False
    first, second = verdict["rules"]
    assert (first["value"], first["limit"], first["passed"]) == (0.80, 0.75, True)
    assert (second["value"], second["operator"], second["passed"]) == (0.33, "<=", False)
    assert second["rule"] == "log_loss (ci_high) <= 0.32"


def test_interval_bound_can_fail_where_the_point_passes() -> None:
    assert gate.check_gate([rule(metric="roc_auc", min=0.75)], RESULTS)["passed"]
    assert not gate.check_gate([rule(metric="roc_auc", min=0.75, use="ci_low")], RESULTS)["passed"]


def test_command_exit_status_follows_the_verdict(tmp_path, capsys) -> None:
    path = tmp_path / "gate.json"
    for rules, expected in (
        ([rule(metric="roc_auc", min=0.7)], 0),
        ([rule(metric="roc_auc", min=0.9)], 1),
    ):
        path.write_text(json.dumps(gate.check_gate(rules, RESULTS)))
        assert gate.main([str(path)]) == expected
    assert "quality gate: FAILED" in capsys.readouterr().out
    assert gate.main([str(tmp_path / "missing.json")]) == 1
