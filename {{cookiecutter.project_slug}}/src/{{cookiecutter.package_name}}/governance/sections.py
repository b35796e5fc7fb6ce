"""The pull-request report's governance sections: fairness, explanations, the model card.

Pure functions of plain data (this run's files and the baseline's, as read by the report),
each returning Markdown, like `review.sections`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..text import charts
from ..text.markdown import details, fixed, table
from .attributions import movers

CARD_CHARS = 12_000  # the card's share of the comment (GitHub's limit is 65,536 in all)
TOP_FEATURES = 10
PER_GROUP = {
    "binary": ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy"),
    "multiclass": ("accuracy", "f1_macro"),
    "regression": ("mae", "rmse", "mean_prediction"),
}


def _ci(interval: Mapping[str, Any] | None) -> str:
    if not interval or interval.get("value") is None:
        return "—"
    low, high = fixed(interval.get("ci_low")), fixed(interval.get("ci_high"))
    return f"{fixed(interval['value'])} [{low}, {high}]"


def fairness_section(
    current: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None, label: str
) -> str:
    """Each grouping column's largest gaps, this PR against the baseline; groups folded."""
    title = "### Fairness by group"
    columns = (current or {}).get("columns") or {}
    if not columns:
        return (
            f"{title}\n\n_No fairness groups configured (`evaluate.fairness.groups`; the data "
            "set's groups live in `conf/fairness/<data>.yaml`)._"
        )
    level = f"{(current or {}).get('confidence_level', 0.95):.0%}"
    before = (baseline or {}).get("columns") or {}
    rows, small, folded = [], [], []
    for column, outcome in columns.items():
        old = (before.get(column) or {}).get("measures") or {}
        for measure, found in (outcome.get("measures") or {}).items():
            if not found.get("metric"):
                continue
            between = (
                f"{found['higher']} {fixed(found['higher_value'])} / "
                f"{found['lower']} {fixed(found['lower_value'])}"
            )
            rows.append(
                [
                    f"`{column}`",
                    f"{measure} ({found['metric']})",
                    fixed((old.get(measure) or {}).get("difference", {}).get("value")),
                    _ci(found.get("difference")),
                    fixed((found.get("ratio") or {}).get("value")),
                    between,
                ]
            )
        if outcome.get("note"):
            rows.append([f"`{column}`", outcome["note"], "", "", "", ""])
        sizes = {g["group"]: g["size"] for g in outcome.get("groups", [])}
        small += [f"`{column}` = {g} ({sizes[g]} rows)" for g in outcome.get("not_judged", [])]
        folded.append(_groups_table(column, outcome, before.get(column), current, label))
    minimum = (current or {}).get("min_group_size")
    parts = [
        title,
        "",
        f"Largest gap between groups of at least {minimum} test rows, with its {level} "
        "bootstrap interval; ratio = lowest / highest group value.",
        "",
        table(
            ["column", "measure", f"baseline ({label})", "this PR", "ratio", "highest / lowest"],
            rows,
        ),
    ]
    if small:
        parts += ["", "Too small to judge (reported, not gated): " + "; ".join(small) + "."]
    return "\n".join(parts) + "\n\n" + "\n\n".join(folded)


def _groups_table(
    column: str,
    outcome: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    current: Mapping[str, Any] | None,
    label: str,
) -> str:
    task = (current or {}).get("task", "binary")
    metrics = PER_GROUP.get(task, ())
    old = {g["group"]: g for g in (baseline or {}).get("groups", [])}
    first = metrics[0] if metrics else None
    rows = []
    for group in outcome.get("groups", []):
        cells = [_ci(group["metrics"].get(m)) for m in metrics]
        before = (old.get(group["group"]) or {}).get("metrics", {}).get(first or "", {})
        judged = "" if group["judged"] else "too small to judge"
        rows.append(
            [f"`{group['group']}`", group["size"], *cells, fixed(before.get("value")), judged]
        )
    header = ["group", "rows", *metrics, f"{first} ({label})", ""]
    return details(f"Groups of <code>{column}</code>", table(header, rows))


def attributions_section(
    current: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None, label: str
) -> str:
    """Mean |contribution| per feature: a Mermaid chart, the movers, and a folded table."""
    title = "### Explanations: global feature attributions"
    features = (current or {}).get("features") or []
    if not features:
        return f"{title}\n\n_Not computed (`evaluate.attributions.enabled`)._"
    old = (baseline or {}).get("features") or []
    then = {r["feature"]: r["mean_abs_contribution"] for r in old}
    now = {r["feature"]: r["mean_abs_contribution"] for r in features}
    top = [r["feature"] for r in features[:TOP_FEATURES]]
    series = [[now[f] for f in top]]
    if then:
        series.append([then.get(f, 0.0) for f in top])
    chart = charts.bar_chart(
        f"Mean |contribution| on the test split, top {len(top)}",
        top,
        "mean |contribution|",
        series,
        colours=charts.COLOURS[::-1],
    )
    moved = movers(features, old)
    if moved:
        line = "Largest movers against the baseline: " + ", ".join(
            f"`{f}` {c:+.4f}" for f, c in moved
        )
    elif then:
        line = "No feature's mean |contribution| changed against the baseline."
    else:
        line = "No baseline attributions to compare with."
    rows = [
        [
            f"`{f}`",
            fixed(then.get(f)) if then else "—",
            fixed(now[f]),
            f"{now[f] - then.get(f, 0.0):+.4f}" if then else "—",
        ]
        for f in now
    ]
    rows_note = f"{current.get('rows')} of {current.get('test_rows')} test rows" if current else ""
    legend = (
        "XGBoost's own contributions (`pred_contribs`, exact TreeSHAP) in margin units "
        f"({rows_note}). Blue bars: this PR"
        + ("; grey line: baseline." if then else " (no baseline).")
    )
    folded = details(
        f"All {len(rows)} features",
        table(["feature", f"baseline ({label})", "this PR", "change"], rows),
    )
    return "\n\n".join([title, line, chart, legend, folded])


def card_section(card_markdown: str | None, limit: int = CARD_CHARS) -> str:
    """The model card, folded: its YAML header left out, headings demoted below the report's."""
    title = "### Model card"
    if not card_markdown:
        return f"{title}\n\n_No model card (`reports/model_card.md`): run the `card` stage._"
    body = re.sub(r"\A---\n.*?\n---\n+", "", card_markdown, count=1, flags=re.DOTALL)
    body = re.sub(
        r"^(#{1,4}) ", lambda m: "#" * min(6, len(m.group(1)) + 3) + " ", body, flags=re.M
    )
    if len(body) > limit:
        body = body[:limit].rsplit("\n", 1)[0] + "\n\n_(cut: the whole card is in the artifacts)_"
    return f"{title}\n\n" + details(
        "The model card of this PR (<code>reports/model_card.md</code>)", body
    )


def governance_sections(
    fairness: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None],
    attributions: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None],
    card_markdown: str | None,
    label: str,
) -> Sequence[str]:
    """The three sections in reading order; each pair is (this run, baseline)."""
    return [
        fairness_section(fairness[0], fairness[1], label),
        attributions_section(attributions[0], attributions[1], label),
        card_section(card_markdown),
    ]
