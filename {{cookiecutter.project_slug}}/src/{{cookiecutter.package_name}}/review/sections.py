"""The Markdown sections of the pull-request report, each rendered from plain data.

Every function returns a Markdown string; none reads files or runs commands, so each section
can be tested on fixed inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model.comparison import NOT_COMPARABLE, PAIRED, MetricComparison
from ..text.markdown import details, figure, signed_fixed, table

# GitHub's limit for a comment is 65,536 characters, CML's watermark included (about 106).
MAX_CHARS = 65_536 - 1_024
TRUNCATION_NOTE = (
    "\n\n**This report was cut here: it would exceed GitHub's limit of 65,536 characters "
    "per comment. The full report is in the workflow run's artifacts.**\n"
)
LONG_TABLE_ROWS = 8
NO_DRIFT = "_Data drift was not computed for this run (no `reports/drift.md`)._"


def fold_if_long(summary: str, text: str, rows: int) -> str:
    return details(summary, text) if rows > LONG_TABLE_ROWS else text


def verdict_section(gate: Mapping[str, Any]) -> str:
    """The verdict first, then every rule with its value and limit."""
    verdict = "✅ PASS" if gate["passed"] else "❌ FAIL"
    failed = [r for r in gate["rules"] if not r["passed"]]
    lines = [f"### Quality gate: {verdict}", ""]
    if failed:
        lines += ["Failing: " + "; ".join(f"`{r['rule']}`" for r in failed), ""]
    rows = [
        [
            "✅" if r["passed"] else "❌",
            r["rule"],
            figure(r["value"]),
            f"{r['operator']} {figure(r['limit'])}",
        ]
        for r in gate["rules"]
    ]
    lines.append(table(["", "rule", "value", "limit"], rows))
    return "\n".join(lines)


def metrics_section(
    comparisons: Mapping[str, MetricComparison],
    mode: str,
    confidence_level: float,
    baseline_label: str,
    why: str,
) -> str:
    """Both sides with intervals and the difference, and which comparison produced them."""
    level = f"{confidence_level:.0%}"
    if mode == PAIRED:
        how = (
            f"**Comparison: paired bootstrap.** Both models scored the same test rows; "
            f"the same resamples were applied to both, so the {level} interval of the "
            "difference is that of the difference itself."
        )
    elif mode == NOT_COMPARABLE:
        how = f"**No comparison with the baseline.** {why}"
    else:
        how = (
            f"**Comparison: unpaired.** {why} Each side's metrics come from its own test "
            f"split; the difference's {level} interval is a normal approximation from the two "
            "intervals (wider and less exact than a paired one)."
        )
    header = ["metric", f"baseline ({baseline_label})", "this PR", "difference", ""]
    rows = []
    for m, c in comparisons.items():
        base = "—" if c.baseline is None else _interval(c.baseline)
        if c.difference is None:
            diff, mark = "—", ""
        else:
            diff = f"{signed_fixed(c.difference.value)} [{signed_fixed(c.difference.ci_low)}, "
            diff += f"{signed_fixed(c.difference.ci_high)}]"
            mark = _direction(c)
        rows.append(
            [m + (" ↓" if c.lower_is_better else ""), base, _interval(c.current), diff, mark]
        )
    note = (
        f"Values are point estimates with {level} bootstrap intervals; ↓ marks metrics where "
        "lower is better."
    )
    return "\n".join(["### Metrics", "", how, "", table(header, rows), "", note])


def _interval(interval: Any) -> str:
    return f"{interval.value:.4f} [{interval.ci_low:.4f}, {interval.ci_high:.4f}]"


def _direction(c: MetricComparison) -> str:
    d = c.difference
    assert d is not None
    if d.ci_low <= 0 <= d.ci_high:
        return "no significant change"
    better = (d.value < 0) if c.lower_is_better else (d.value > 0)
    return "better" if better else "**worse**"


def all_metrics_section(metrics_diff: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """The other tracked metrics that changed (`dvc metrics diff --json`), folded."""
    rows = []
    for file, values in sorted(metrics_diff.items()):
        for key, change in sorted(values.items()):
            diff = change.get("diff")
            rows.append(
                [file, key, figure(change.get("old")), figure(change.get("new")), figure(diff)]
            )
    if not rows:
        return "_No other tracked metric changed (`dvc metrics diff`)._"
    return details(
        f"Other tracked metrics that changed ({len(rows)}, from <code>dvc metrics diff</code>)",
        table(["file", "metric", "baseline", "this PR", "change"], rows),
    )


def params_section(params_diff: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """Parameters that changed (`dvc params diff --json`)."""
    rows = []
    for file, values in sorted(params_diff.items()):
        for key, change in sorted(values.items()):
            rows.append([f"`{key}`", _plain(change.get("old")), _plain(change.get("new")), file])
    if not rows:
        return "### Parameters\n\nNo parameter changed."
    text = table(["parameter", "baseline", "this PR", "file"], rows)
    return "### Parameters\n\n" + fold_if_long(f"{len(rows)} parameters changed", text, len(rows))


def _plain(value: Any) -> str:
    return "—" if value is None else f"`{value}`"


def data_section(
    baseline: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    hashes: Mapping[str, tuple[str | None, str | None]],
) -> str:
    """Data files (md5), rows and class balance on both sides."""
    rows = []
    for path, (old, new) in sorted(hashes.items()):
        state = "unchanged" if old == new else ("new" if old is None else "**changed**")
        rows.append([f"`{path}`", (old or "—")[:12], (new or "—")[:12], state])
    keys = [
        ("rows_in", "raw rows"),
        ("rows_out", "rows after cleaning"),
        ("train_rows", "train rows"),
        ("test_rows", "test rows"),
    ]
    facts = []
    for key, label in keys:
        facts.append([label, figure((baseline or {}).get(key)), figure(current.get(key))])
    for split in ("train", "test"):
        old = ((baseline or {}).get("positive_share") or {}).get(split)
        new = (current.get("positive_share") or {}).get(split)
        facts.append([f"positive share ({split})", figure(old), figure(new)])
    parts = ["### Data", "", table(["", "baseline", "this PR"], facts), ""]
    for suspect in current.get("leak_suspects") or []:
        columns = ", ".join(f"`{c}`" for c in suspect["columns"])
        parts += [f"> **Possible target leak:** {columns}: {suspect['why']}.", ""]
    parts.append(
        table(["file", "baseline md5", "this PR md5", ""], rows)
        if rows
        else "_No data files recorded._"
    )
    return "\n".join(parts)


def code_section(changes: Sequence[tuple[str, str]]) -> str:
    """Files that differ from the baseline (code, configuration, docs)."""
    names = {"A": "added", "M": "modified", "D": "deleted", "T": "type changed"}
    if not changes:
        return "### Code and configuration\n\nNo file differs from the baseline."
    rows = [[f"`{path}`", names.get(status[:1], status)] for status, path in changes]
    text = table(["file", "change"], rows)
    body = fold_if_long(f"{len(rows)} files changed", text, len(rows))
    return "### Code and configuration\n\n" + body


def plots_section(charts: Sequence[str], legend: str) -> str:
    return "\n\n".join(["### Plots", legend, *charts])


def drift_section(drift_markdown: str | None) -> str:
    return "### Data drift\n\n" + (drift_markdown.strip() if drift_markdown else NO_DRIFT)


def provenance_section(
    baseline_label: str,
    baseline_commit: str,
    current_commit: str,
    dirty: bool,
    baseline_source: str,
    remote_note: str,
    run_url: str | None,
    artifacts: Sequence[str],
) -> str:
    lines = [
        "### Commits, data source and artifacts",
        "",
        f"- Baseline: `{baseline_label}` at `{baseline_commit[:12]}`; "
        f"its model was {baseline_source}.",
        f"- This PR: `{current_commit[:12]}`" + (" with uncommitted changes" if dirty else ""),
        f"- Data: {remote_note}",
    ]
    if run_url:
        files = ", ".join(f"`{a}`" for a in artifacts) or "the report"
        lines.append(f"- Workflow run and its artifacts ({files}): {run_url}")
    else:
        lines.append("- Generated locally (no workflow run).")
    return "\n".join(lines)


def assemble(title: str, sections: Sequence[str]) -> str:
    return cap(f"## {title}\n\n" + "\n\n".join(sections) + "\n")


def cap(text: str, limit: int = MAX_CHARS) -> str:
    """`text` if it fits in `limit` characters; else cut at a line, blocks closed, with a note."""
    if len(text) <= limit:
        return text
    budget = limit - len(TRUNCATION_NOTE) - 64
    cut = text[:budget].rsplit("\n", 1)[0]
    closing = ""
    if cut.count("```") % 2:
        closing += "\n```"
    closing += "\n\n</details>" * max(0, cut.count("<details>") - cut.count("</details>"))
    return cut + closing + TRUNCATION_NOTE
