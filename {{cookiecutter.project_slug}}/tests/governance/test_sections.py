"""The report's governance sections on fixed inputs: fairness, explanations, the card."""

from __future__ import annotations

from markdown_it import MarkdownIt

from fairness_cases import disparate
from helpers import module

fairness = module("governance.fairness")
governance_sections = module("governance.sections")
review_sections = module("review.sections")


def results(shift: float = 0.0) -> dict:
    labels, outcomes = disparate()
    column = fairness.assess_column(labels, outcomes, 30, 200, 0.95, 1)
    return {"task": "binary", "confidence_level": 0.95, "min_group_size": 30,
            "columns": {"region": column}}  # fmt: skip


def ranked(pairs: list[tuple[str, float]]) -> dict:
    return {
        "rows": 100,
        "test_rows": 100,
        "features": [{"feature": f, "mean_abs_contribution": v} for f, v in pairs],
    }


def test_the_fairness_section_compares_the_gaps_and_flags_small_groups() -> None:
    text = governance_sections.fairness_section(results(), results(), "main")
    assert "### Fairness by group" in text
    assert "| `region` | demographic_parity (selection_rate) | 0.3000 | 0.3000 [" in text
    assert "Too small to judge (reported, not gated): `region` = c (10 rows)." in text
    assert "| `c` | 10 |" in text
    assert "too small to judge |" in text
    assert "<details><summary>Groups of <code>region</code></summary>" in text


def test_without_groups_the_fairness_section_says_how_to_configure_them() -> None:
    text = governance_sections.fairness_section({"columns": {}}, None, "main")
    assert "evaluate.fairness.groups" in text


def test_the_explanations_section_names_the_largest_movers() -> None:
    now = ranked([("age", 0.5), ("job", 0.2), ("pdays", 0.1)])
    then = ranked([("age", 0.3), ("job", 0.25), ("pdays", 0.1)])
    text = governance_sections.attributions_section(now, then, "main")
    assert "Largest movers against the baseline: `age` +0.2000, `job` -0.0500" in text
    assert "```mermaid" in text
    assert "xychart-beta" in text
    assert "| `age` | 0.3000 | 0.5000 | +0.2000 |" in text
    alone = governance_sections.attributions_section(now, None, "main")
    assert "No baseline attributions to compare with." in alone


def test_the_card_is_folded_without_its_header_and_with_demoted_headings() -> None:
    card = "---\nlibrary_name: xgboost\n---\n\n# Model card: m\n\n## Uses\n\ntext\n"
    text = governance_sections.card_section(card)
    assert "library_name" not in text
    assert "#### Model card: m" in text
    assert "##### Uses" in text
    assert text.count("<details>") == text.count("</details>") == 1
    long = governance_sections.card_section("# t\n" + "line\n" * 5000, limit=1000)
    assert len(long) < 1400
    assert "(cut: the whole card is in the artifacts)" in long


def test_a_report_with_the_governance_sections_parses_and_fits_the_comment() -> None:
    parts = governance_sections.governance_sections(
        (results(), None),
        (ranked([("a", 0.2), ("b", 0.1)]), ranked([("a", 0.1), ("b", 0.1)])),
        "---\nx: 1\n---\n# Model card: m\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        "main",
    )
    text = review_sections.assemble("Model report", parts)
    assert len(text) <= review_sections.MAX_CHARS
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    assert [t.info for t in tokens if t.type == "fence"] == ["mermaid"]
    assert sum(t.type == "table_open" for t in tokens) >= 4
