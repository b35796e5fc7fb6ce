"""The quality gate: absolute limits on test metrics, and the command that enforces it."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..artifacts import paths
from ..model.metrics import Interval
from ..settings.params import GateRule


def check_gate(rules: Sequence[GateRule], metrics: dict[str, Interval]) -> dict[str, Any]:
    """Pass/fail per rule with the value compared, and the overall verdict."""
    results = []
    for rule in rules:
        interval = metrics[rule.metric]
        value = {"point": interval.value, "ci_low": interval.ci_low, "ci_high": interval.ci_high}[
            rule.use
        ]
        if rule.min is not None:
            passed, operator, limit = value >= rule.min, ">=", rule.min
        else:
            passed, operator, limit = value <= rule.max, "<=", rule.max
        results.append(
            {
                "rule": f"{rule.metric} ({rule.use}) {operator} {limit}",
                "metric": rule.metric,
                "use": rule.use,
                "operator": operator,
                "limit": limit,
                "value": value,
                "passed": bool(passed),
            }
        )
    return {"passed": all(r["passed"] for r in results), "rules": results}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the verdict in `reports/gate.json`; exit 1 when the gate failed."""
    path = Path(argv[0]) if argv else paths.GATE_FILE
    if not path.is_file():
        print(f"error in gate: {path} not found: run the pipeline first", file=sys.stderr)
        return 1
    verdict = json.loads(path.read_text(encoding="utf-8"))
    for rule in verdict["rules"]:
        mark = "PASS" if rule["passed"] else "FAIL"
        print(f"{mark}  {rule['rule']}: {rule['value']}")
    print("quality gate:", "PASSED" if verdict["passed"] else "FAILED")
    return 0 if verdict["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
