"""The pull-request report: each section on fixed inputs, the comparison, the size cap."""

from __future__ import annotations

import numpy as np
import pytest
from markdown_it import MarkdownIt

from helpers import committed_params, module

comparison = module("model.comparison")
gate = module("model.gate")
sections = module("review.sections")
mermaid = module("text.charts")
config = module("settings.params")
errors = module("errors")
Interval = module("model.metrics").Interval

METRICS = ["roc_auc", "pr_auc", "log_loss", "brier", "f1"]


def sample(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, a good model's scores (informative) and a bad one's (noise)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.15).astype(int)
    good = np.clip(0.1 + 0.6 * labels + rng.normal(0, 0.2, n), 0.001, 0.999)
    bad = np.clip(rng.random(n), 0.001, 0.999)
    return labels, good, bad


def paired(current: np.ndarray, baseline: np.ndarray, labels: np.ndarray) -> dict:
    return comparison.paired_comparison(
        labels, current, baseline, METRICS,
        threshold=0.5, resamples=300, confidence_level=0.95, seed=1,
    )  # fmt: skip


def test_identical_models_differ_by_zero_with_an_interval_around_zero() -> None:
    labels, good, _ = sample()
    result = paired(good, good.copy(), labels)
    for m in METRICS:
        d = result[m].difference
        assert d.value == 0.0
        assert d.ci_low <= 0.0 <= d.ci_high
        assert result[m].current == result[m].baseline
    assert all(rule["passed"] for rule in gate.regression_rules(result, 0.01))


def test_a_known_worse_model_is_flagged_and_fails_the_regression_rule() -> None:
    labels, good, bad = sample()
    result = paired(bad, good, labels)
    assert result["roc_auc"].difference.ci_high < -0.2
    assert result["log_loss"].difference.ci_low > 0  # lower is better: worse is positive
    rules = {r["metric"]: r for r in gate.regression_rules(result, 0.01)}
    assert not rules["roc_auc"]["passed"]
    assert not rules["log_loss"]["passed"]
    text = sections.metrics_section(result, comparison.PAIRED, 0.95, "main", "")
    roc_row = next(line for line in text.splitlines() if line.startswith("| roc_auc |"))
    assert roc_row.rstrip(" |").endswith("**worse**")
    assert "paired bootstrap" in text


def test_the_paired_interval_is_narrower_than_the_unpaired_one() -> None:
    labels, good, _ = sample()
    rng = np.random.default_rng(5)
    nudged = np.clip(good + rng.normal(0, 0.02, len(good)), 0.001, 0.999)
    result = paired(nudged, good, labels)
    unpaired = comparison.unpaired_comparison(
        {m: result[m].current.as_dict() for m in METRICS},
        {m: result[m].baseline.as_dict() for m in METRICS},
        METRICS,
        0.95,
    )
    for m in ("roc_auc", "log_loss"):
        width = result[m].difference.ci_high - result[m].difference.ci_low
        loose = unpaired[m].difference.ci_high - unpaired[m].difference.ci_low
        assert width < loose / 2, m
        assert (
            unpaired[m].difference.ci_low
            <= unpaired[m].difference.value
            <= unpaired[m].difference.ci_high
        )


def test_a_tolerance_absorbs_a_small_significant_regression() -> None:
    worse = comparison.MetricComparison(
        "roc_auc",
        Interval(0.79, 0.78, 0.80),
        Interval(0.80, 0.79, 0.81),
        Interval(-0.01, -0.012, -0.008),
    )
    (strict,) = gate.regression_rules({"roc_auc": worse}, 0.0)
    (tolerant,) = gate.regression_rules({"roc_auc": worse}, 0.01)
    assert not strict["passed"]
    assert tolerant["passed"]
    assert tolerant["value"] == -0.008
    assert tolerant["limit"] == -0.01


def test_verdict_lists_each_rule_with_value_and_limit_failures_first() -> None:
    def rule(text: str, value: float, operator: str, limit: float, passed: bool) -> dict:
        return {
            "rule": text,
            "value": value,
            "operator": operator,
            "limit": limit,
            "passed": passed,
        }

    gate = {
        "passed": False,
        "rules": [
            rule("roc_auc (point) >= 0.75", 0.8, ">=", 0.75, True),
            rule("log_loss (point) <= 0.35", 0.41, "<=", 0.35, False),
        ],
    }
    text = sections.verdict_section(gate)
    assert text.startswith("### Quality gate: ❌ FAIL")
    assert "Failing: `log_loss (point) <= 0.35`" in text
    assert "| ❌ | log_loss (point) <= 0.35 | 0.4100 | <= 0.3500 |" in text
    assert "| ✅ | roc_auc (point) >= 0.75 | 0.8000 | >= 0.7500 |" in text
    assert sections.verdict_section({**gate, "passed": True}).startswith(
        "### Quality gate: ✅ PASS"
    )


def test_params_section_changed_and_unchanged() -> None:
    assert "No parameter changed." in sections.params_section({})
    assert "No parameter changed." in sections.params_section({"params.yaml": {}})
    text = sections.params_section(
        {
            "params.yaml": {
                "model.max_depth": {"old": 5, "new": 3, "diff": -2},
                "train.new": {"old": None, "new": 1},
            }
        }
    )
    assert "| `model.max_depth` | `5` | `3` | params.yaml |" in text
    assert "| `train.new` | — | `1` | params.yaml |" in text
    many = {"params.yaml": {f"model.k{i}": {"old": i, "new": i + 1} for i in range(20)}}
    assert "<details><summary>20 parameters changed</summary>" in sections.params_section(many)


def test_data_section_marks_changed_files() -> None:
    text = sections.data_section(
        {"rows_in": 100, "positive_share": {"test": 0.1}},
        {"rows_in": 120, "positive_share": {"test": 0.2}},
        {"data/raw/a.csv": ("aaaa", "bbbb"), "data/prepared/test.parquet": ("cc", "cc")},
    )
    assert "| raw rows | 100 | 120 |" in text
    assert "| positive share (test) | 0.1000 | 0.2000 |" in text
    assert "| `data/raw/a.csv` | aaaa | bbbb | **changed** |" in text
    assert "| `data/prepared/test.parquet` | cc | cc | unchanged |" in text


def test_code_section_and_drift_contract() -> None:
    assert "No file differs" in sections.code_section([])
    assert "| `src/x.py` | modified |" in sections.code_section([("M", "src/x.py")])
    assert sections.drift_section(None).endswith(sections.NO_DRIFT)
    drift = "#### Drift\n\n| column | p |\n|---|---|\n| age | 0.01 |\n"
    assert sections.drift_section(drift) == "### Data drift\n\n" + drift.strip()


def test_the_cap_keeps_the_report_under_the_comment_limit() -> None:
    short = "## r\n\nfine\n"
    assert sections.cap(short) == short
    rows = "\n".join(f"| row {i} | {'x' * 80} |" for i in range(2000))
    long = "## r\n\n<details><summary>big</summary>\n\n```text\n" + rows + "\n```\n\n</details>\n"
    cut = sections.cap(long)
    assert len(long) > sections.MAX_CHARS >= len(cut)
    assert cut.endswith(sections.TRUNCATION_NOTE)
    body = cut.removesuffix(sections.TRUNCATION_NOTE)
    assert body.count("```") % 2 == 0
    assert body.count("<details>") == body.count("</details>")


def test_a_whole_report_parses_as_markdown() -> None:
    labels, good, bad = sample(800)
    result = paired(bad, good, labels)
    grid = np.linspace(0, 1, 21)
    chart = mermaid.line_chart("ROC", "fpr", list(grid), "tpr", [list(grid), list(grid**0.5)])
    text = sections.assemble(
        "Model report",
        [
            sections.verdict_section({"passed": True, "rules": []}),
            sections.metrics_section(result, comparison.PAIRED, 0.95, "main", ""),
            sections.params_section({"params.yaml": {"a": {"old": 1, "new": 2}}}),
            sections.plots_section([chart], "legend"),
            sections.drift_section(None),
        ],
    )
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    assert [t.info for t in tokens if t.type == "fence"] == ["mermaid"]
    assert sum(t.type == "table_open" for t in tokens) == 3
    assert "xychart-beta" in chart
    assert "{" * 2 not in text  # nothing that looks like a template placeholder


def test_curves_are_interpolated_on_the_grid() -> None:
    records = [
        {"fpr": 0.0, "tpr": 0.0},
        {"fpr": 0.5, "tpr": 0.8},
        {"fpr": 0.5, "tpr": 0.9},
        {"fpr": 1.0, "tpr": 1.0},
    ]
    assert mermaid.curve_on_grid(records, "fpr", "tpr", np.array([0.0, 0.25, 0.5, 0.75, 1.0])) == [
        0.0, 0.45, 0.9, 0.95, 1.0,
    ]  # fmt: skip


def test_comparison_settings_are_validated() -> None:
    raw = committed_params()
    raw["evaluate"]["comparison"]["metrics"] = ["roc_auc", "roc_auc"]
    with pytest.raises(errors.PipelineError, match=r"evaluate\.comparison.*twice"):
        config.parse_params(raw)
    raw = committed_params()
    raw["evaluate"]["comparison"]["plots"] = "png"
    with pytest.raises(errors.PipelineError, match=r"evaluate\.comparison\.plots"):
        config.parse_params(raw)


def test_svg_charts_are_well_formed_and_escaped() -> None:
    from xml.etree import ElementTree

    grid = [0.0, 0.5, 1.0]
    svg = mermaid.svg_lines("ROC <curve>", grid, {"baseline (main & co)": grid, "this PR": grid})
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    lines = [e for e in root.iter() if e.tag.endswith("polyline")]
    assert [e.get("stroke") for e in lines] == list(mermaid.COLOURS)
    texts = [e.text for e in root.iter() if e.tag.endswith("text")]
    assert texts == ["ROC <curve>", "baseline (main & co)", "this PR"]


def test_same_stage_compares_command_dependencies_and_parameters() -> None:
    baseline = module("review.baseline")
    lock = """schema: '2.0'
stages:
  train:
    cmd: python -m pkg.train
    deps:
    - path: data/prepared/train.parquet
      md5: aaa
    - path: src/pkg/train.py
      md5: bbb
    params:
      params.yaml:
        model: {max_depth: 5}
    outs:
    - path: models/model.ubj
      md5: ccc
"""
    assert baseline.same_stage(lock, lock.replace("md5: ccc", "md5: zzz"), "train")
    assert not baseline.same_stage(lock, lock.replace("max_depth: 5", "max_depth: 4"), "train")
    assert not baseline.same_stage(lock, lock.replace("md5: aaa", "md5: xxx"), "train")
    assert not baseline.same_stage(lock, lock, "evaluate")
    assert not baseline.same_stage(None, lock, "train")


def test_a_baseline_on_another_data_set_or_task_is_named_and_not_compared() -> None:
    report = module("review.report")
    params = config.parse_params(committed_params())
    import yaml

    same = yaml.safe_dump(committed_params())
    assert report.other_problem(same, params) == ""
    assert report.other_problem(None, params) == ""  # no params.yaml there: unknown
    other = committed_params()
    # Another data set than the configured one, whatever that is.
    other["data"].update({"path": "data/raw/another_table.csv", "target": "another_target"})
    why = report.other_problem(yaml.safe_dump(other), params)
    assert f"`data.path` `data/raw/another_table.csv` → `{params.data.path}`" in why
    assert f"`data.target` `another_target` → `{params.data.target}`" in why
    other = committed_params()
    another = "binary" if params.data.task == "regression" else "regression"
    other["data"]["task"] = another
    assert f"`data.task` `{another}` → `{params.data.task}`" in report.other_problem(
        yaml.safe_dump(other), params
    )
    current = {m: {"value": 0.8, "ci_low": 0.7, "ci_high": 0.9} for m in METRICS}
    alone = comparison.unpaired_comparison(current, None, METRICS, 0.95)
    assert all(c.baseline is None and c.difference is None for c in alone.values())
    # No rule compares with such a baseline, and the section says why.
    assert gate.regression_rules(alone, 0.0) == []
    text = sections.metrics_section(alone, comparison.NOT_COMPARABLE, 0.95, "main", why)
    assert "**No comparison with the baseline.**" in text
    assert "paired" not in text
