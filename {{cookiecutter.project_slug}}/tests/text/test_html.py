"""The HTML report: Mermaid charts drawn as SVG, a page that loads nothing from the network."""

from __future__ import annotations

import base64
from pathlib import Path
from xml.etree import ElementTree

import pytest

from helpers import module

charts = module("text.charts")
svg = module("text.svg")
html = module("text.html")

GRID = [0.0, 0.25, 0.5, 0.75, 1.0]


def test_a_line_chart_reads_back_as_written() -> None:
    text = charts.line_chart(
        "ROC curve", "False positive rate", GRID, "True positive rate",
        [[0.0, 0.5, 0.7, 0.9, 1.0], [0.0, 0.6, 0.8, 0.95, 1.0]],
    )  # fmt: skip
    chart = svg.parse(text.removeprefix("```mermaid").removesuffix("```"))
    assert chart.title == "ROC curve"
    assert (chart.x_label, chart.y_label) == ("False positive rate", "True positive rate")
    assert chart.x_values == ["0", "0.25", "0.5", "0.75", "1"]
    assert chart.y_range == (0.0, 1.0)
    assert chart.series == [
        ("line", [0.0, 0.5, 0.7, 0.9, 1.0]),
        ("line", [0.0, 0.6, 0.8, 0.95, 1.0]),
    ]
    assert chart.colours == ["#9e9e9e", "#1f77b4"]


def test_bar_chart_categories_keep_commas_and_quotes() -> None:
    text = charts.bar_chart(
        "Importance", ["age", 'the "job", as told', "day_of_week"], "share", [[0.5, 0.3, 0.2]],
        colours=["#1f77b4"],
    )  # fmt: skip
    chart = svg.parse(text.removeprefix("```mermaid").removesuffix("```"))
    assert chart.x_values == ["age", "the 'job', as told", "day_of_week"]
    assert chart.series == [("bar", [0.5, 0.3, 0.2])]
    assert chart.y_range == (0.0, 0.525)  # the top value and 5% of headroom
    assert chart.colours == ["#1f77b4"]


def test_a_drawn_chart_is_well_formed_svg_with_one_mark_per_value() -> None:
    chart = svg.XYChart(
        title="Gain <top 3> & co",
        x_label="feature",
        x_values=["a", "b", "c"],
        y_label="share",
        y_range=(0.0, 1.0),
        series=[("bar", [0.5, 0.25, 0.0]), ("line", [0.4, 0.3, 0.1])],
        colours=["#1f77b4", "#9e9e9e"],
    )
    root = ElementTree.fromstring(svg.draw(chart))
    bars = [e for e in root.iter() if e.get("class") == "bar"]
    lines = [e for e in root.iter() if e.get("class") == "series"]
    assert [b.get("fill") for b in bars] == ["#1f77b4"] * 3
    heights = [float(b.get("height", "nan")) for b in bars]
    assert heights[0] == pytest.approx(2 * heights[1])
    assert heights[2] == 0
    assert [line.get("stroke") for line in lines] == ["#9e9e9e"]
    assert len(lines[0].get("points", "").split()) == 3
    texts = [e.text for e in root.iter() if e.tag.endswith("text")]
    assert texts[0] == "Gain <top 3> & co"
    assert {"a", "b", "c", "feature", "share"} <= set(texts)


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("graph TD\n  A --> B", "xychart-beta"),
        ("xychart-beta\n  x-axis [1, 2]\n  y-axis 0 --> 1\n  pie [1, 2]", "pie [1, 2]"),
        ("xychart-beta\n  x-axis [1, 2]\n  y-axis 0 --> 1\n  line [1]", "one value per"),
        ('xychart-beta\n  x-axis [1, 2]\n  y-axis 0 --> 1\n  line [1, "x"]', "`x`"),
        ("xychart-beta\n  line [1, 2]", "x-axis"),
    ],
)
def test_a_block_that_is_not_such_a_chart_is_named(source: str, named: str) -> None:
    with pytest.raises(svg.ChartError, match=named.replace("[", r"\[").replace("]", r"\]")):
        svg.parse(source)


REPORT = """## Model report: this pull request against `main`

| metric | this PR |
|---|---|
| roc_auc | 0.8 |

<details><summary>More</summary>

Folded text.

</details>

{chart}

```mermaid
graph TD
  A --> B
```

```text
plain code
```

![ROC](pr_plots/roc.svg) ![Missing](pr_plots/none.svg) ![Remote](https://example.com/x.png)
"""


def page(tmp_path: Path) -> str:
    chart = charts.line_chart("ROC", "fpr", GRID, "tpr", [GRID])
    attached = {"pr_plots/roc.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>"}
    return html.page(REPORT.format(chart=chart), tmp_path, attached)


def test_the_page_draws_charts_and_keeps_tables_and_folds(tmp_path: Path) -> None:
    text = page(tmp_path)
    assert "<title>Model report: this pull request against main</title>" in text
    assert text.count('<figure class="chart">') == 1
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 1
    assert "x-axis" not in text  # drawn, not left as Mermaid source
    assert '<pre class="chart-error">chart not drawn (not an xychart-beta block' in text
    assert '<code class="language-text">plain code' in text
    assert "<td>roc_auc</td>" in text
    assert "<details><summary>More</summary>" in text


def test_the_page_loads_nothing_and_inlines_local_images(tmp_path: Path) -> None:
    text = page(tmp_path)
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    assert f'<meta http-equiv="Content-Security-Policy" content="{policy}">' in text
    assert "<script" not in text
    encoded = base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg'/>").decode()
    assert f'src="data:image/svg+xml;base64,{encoded}"' in text
    assert 'src="pr_plots/none.svg"' in text  # absent: left as written, drawn as its alt text
    assert 'src="https://example.com/x.png"' in text  # the policy keeps it from loading


def test_an_image_file_beside_the_report_is_inlined(tmp_path: Path) -> None:
    (tmp_path / "pr_plots").mkdir()
    (tmp_path / "pr_plots" / "none.svg").write_text("<svg/>", encoding="utf-8")
    encoded = base64.b64encode(b"<svg/>").decode()
    assert f'src="data:image/svg+xml;base64,{encoded}"' in page(tmp_path)
