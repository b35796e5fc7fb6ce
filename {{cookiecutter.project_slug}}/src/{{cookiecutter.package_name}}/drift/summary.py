"""The drift summary (small JSON, stable keys) and its Markdown section, from column results.

Pure functions on plain data: no Evidently here, so they are cheap to import and to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUMMARY_KEYS = (
    "task",
    "reference",
    "current",
    "dataset_drift",
    "drifted_columns",
    "columns",
    "drifted_share",
    "drift_share_threshold",
    "prediction_drift",
    "target_drift",
    "per_column",
    "too_few_values",
)
RESULT_KEYS = ("kind", "method", "score", "threshold", "drifted")
# What the prediction drift compares, per task (`drift.check.model_outputs`).
PREDICTION_COMPARED = {
    "binary": "scores of the positive class",
    "multiclass": "predicted class",
    "regression": "predicted values",
}


def column_result(
    kind: str, method: str, score: float, threshold: float, drifted: bool
) -> dict[str, Any]:
    """One column's (or the prediction's, or the target's) drift result."""
    return {
        "kind": kind,
        "method": method,
        "score": round(float(score), 6),
        "threshold": float(threshold),
        "drifted": bool(drifted),
    }


def summarise(
    per_column: Mapping[str, dict[str, Any]],
    *,
    task: str,
    drift_share: float,
    prediction: dict[str, Any],
    target: dict[str, Any] | None,
    reference: dict[str, Any],
    current: dict[str, Any],
    too_few_values: Mapping[str, list[int]] | None = None,
) -> dict[str, Any]:
    """The summary: dataset verdict from the share of drifted feature columns, and the details.

    `task` (binary, multiclass, regression) says what `prediction` compared (see
    `PREDICTION_COMPARED`); `reference` / `current` describe each side (name, rows, rows
    checked); `target` is None when the current data has no labels. `too_few_values` lists
    the columns left out for lack of values, with the count of non-missing values on each side
    (reference, current).
    """
    if not per_column:
        raise ValueError("no column results to summarise")
    if task not in PREDICTION_COMPARED:
        raise ValueError(f"unknown task {task!r}: expected one of {sorted(PREDICTION_COMPARED)}")
    drifted = sum(1 for result in per_column.values() if result["drifted"])
    share = drifted / len(per_column)
    return {
        "task": task,
        "reference": dict(reference),
        "current": dict(current),
        "dataset_drift": share >= drift_share,
        "drifted_columns": drifted,
        "columns": len(per_column),
        "drifted_share": round(share, 6),
        "drift_share_threshold": float(drift_share),
        "prediction_drift": dict(prediction),
        "target_drift": None if target is None else dict(target),
        "per_column": {name: dict(result) for name, result in per_column.items()},
        "too_few_values": {name: list(counts) for name, counts in (too_few_values or {}).items()},
    }


def headline(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The figures people compare between experiments, as flat keys (`dvc metrics diff`)."""
    figures = {
        "dataset_drift": summary["dataset_drift"],
        "drifted_share": summary["drifted_share"],
        "drifted_columns": summary["drifted_columns"],
        "columns": summary["columns"],
        "prediction_drift": summary["prediction_drift"]["drifted"],
        "prediction_drift_score": summary["prediction_drift"]["score"],
    }
    target = summary.get("target_drift")
    if target is not None:
        figures |= {"target_drift": target["drifted"], "target_drift_score": target["score"]}
    return figures


def markdown(summary: Mapping[str, Any], title: str = "Data drift", level: int = 3) -> str:
    """A Markdown section: verdict, a table of the drifted columns, the others folded.

    `level` 0 writes no heading (the verdict in bold opens the text): for a report that puts
    the section under its own heading, as the pull-request report does with `reports/drift.md`.
    """
    ref, cur = summary["reference"], summary["current"]
    verdict = "**drift detected**" if summary["dataset_drift"] else "no dataset drift"
    opening = f"{'#' * level} {title}: {verdict}" if level else f"**{title}: {verdict}**"
    lines = [
        opening,
        "",
        f"{_side(cur)} against {_side(ref)}. "
        f"{summary['drifted_columns']} of {summary['columns']} feature columns drifted "
        f"({summary['drifted_share']:.0%}; the data set drifts from "
        f"{summary['drift_share_threshold']:.0%}).",
        "",
        f"- Prediction drift ({PREDICTION_COMPARED[summary['task']]}): "
        f"{_verdict(summary['prediction_drift'])}",
        "- Target drift: "
        + (
            "not checked (no labels)"
            if summary["target_drift"] is None
            else _verdict(summary["target_drift"])
        ),
        "",
    ]
    ranked = sorted(summary["per_column"].items(), key=lambda item: (-item[1]["score"], item[0]))
    drifted = [(name, result) for name, result in ranked if result["drifted"]]
    others = [(name, result) for name, result in ranked if not result["drifted"]]
    if drifted:
        lines += ["Drifted columns:", "", *_table(drifted), ""]
    else:
        lines += ["No column drifted.", ""]
    if others:
        lines += [
            f"<details><summary>Columns without drift ({len(others)})</summary>",
            "",
            *_table(others),
            "",
            "</details>",
            "",
        ]
    if summary["too_few_values"]:
        thin = ", ".join(
            f"`{name}` ({ref:,} / {cur:,})"
            for name, (ref, cur) in summary["too_few_values"].items()
        )
        lines += [f"Not checked, too few non-missing values (reference / current): {thin}.", ""]
    return "\n".join(lines)


def _side(side: Mapping[str, Any]) -> str:
    rows, checked = side["rows"], side["rows_checked"]
    sampled = "" if checked == rows else f", a seeded sample of {checked:,}"
    return f"{side['name']} ({rows:,} rows{sampled})"


def _verdict(result: Mapping[str, Any]) -> str:
    word = "**drifted**" if result["drifted"] else "no drift"
    relation = _relation(result)
    return f"{word} ({result['method']} {result['score']:.4g} {relation} {result['threshold']:g})"


def _relation(result: Mapping[str, Any]) -> str:
    below = result["score"] < result["threshold"]
    return "<" if below else ">="


def _table(rows: list[tuple[str, Mapping[str, Any]]]) -> list[str]:
    out = [
        "| column | kind | method | score | threshold | drifted |",
        "|---|---|---|---:|---:|---|",
    ]
    for name, result in rows:
        out.append(
            f"| `{name}` | {result['kind']} | {result['method']} | {result['score']:.4g} "
            f"| {result['threshold']:g} | {'yes' if result['drifted'] else 'no'} |"
        )
    return out
