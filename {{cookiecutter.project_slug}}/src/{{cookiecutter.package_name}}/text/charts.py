"""Charts as text: Mermaid `xychart-beta` blocks (GitHub renders them) and plain SVG files.

Neither needs an image host: Mermaid is rendered by GitHub from the comment's text, and the SVG
files stay local unless CML is explicitly told to publish them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np

# Baseline first, then the pull request: grey and blue in both renderings.
COLOURS = ("#9e9e9e", "#1f77b4")


def curve_on_grid(
    records: Sequence[Mapping[str, float]], x: str, y: str, grid: np.ndarray
) -> list[float]:
    """`y` at each `grid` point, linearly interpolated (the best `y` where `x` repeats)."""
    best: dict[float, float] = {}
    for record in records:
        key = float(record[x])
        best[key] = max(best.get(key, float("-inf")), float(record[y]))
    xs = np.array(sorted(best))
    ys = np.array([best[k] for k in xs])
    return [round(float(v), 4) for v in np.interp(grid, xs, ys)]


def _init(palette: str) -> str:
    """Mermaid's init directive giving the series colours."""
    theme = {"themeVariables": {"xyChart": {"plotColorPalette": palette}}}
    return "%%{init: " + json.dumps(theme) + "}%%"


def _numbers(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _label(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def line_chart(
    title: str,
    x_label: str,
    x_values: Sequence[float],
    y_label: str,
    series: Sequence[Sequence[float]],
    y_range: tuple[float, float] = (0.0, 1.0),
    colours: Sequence[str] = COLOURS,
) -> str:
    """A fenced Mermaid line chart; series are drawn in `colours` order."""
    palette = ", ".join(colours[: len(series)])
    lines = [
        "```mermaid",
        _init(palette),
        "xychart-beta",
        f"    title {_label(title)}",
        f"    x-axis {_label(x_label)} {_numbers(x_values)}",
        f"    y-axis {_label(y_label)} {y_range[0]:g} --> {y_range[1]:g}",
        *(f"    line {_numbers(values)}" for values in series),
        "```",
    ]
    return "\n".join(lines)


def bar_chart(
    title: str,
    categories: Sequence[str],
    y_label: str,
    series: Sequence[Sequence[float]],
    colours: Sequence[str] = COLOURS,
) -> str:
    """A fenced Mermaid chart: the first series as bars, a second one as a line over them."""
    palette = ", ".join(colours[: len(series)])
    kinds = ["bar", "line"]
    top = max((max(values) for values in series if len(values)), default=1.0)
    names = ", ".join(_label(c) for c in categories)
    lines = [
        "```mermaid",
        _init(palette),
        "xychart-beta",
        f"    title {_label(title)}",
        f"    x-axis [{names}]",
        f"    y-axis {_label(y_label)} 0 --> {round(top * 1.05, 4):g}",
        *(f"    {kinds[i]} {_numbers(values)}" for i, values in enumerate(series)),
        "```",
    ]
    return "\n".join(lines)


def svg_lines(
    title: str,
    x_values: Sequence[float],
    series: Mapping[str, Sequence[float]],
    width: int = 480,
    height: int = 360,
) -> str:
    """A minimal standalone SVG line chart on [0, 1] x [0, 1] with a legend."""
    margin = 40
    inner_w, inner_h = width - 2 * margin, height - 2 * margin
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<rect x="{margin}" y="{margin}" width="{inner_w}" height="{inner_h}" '
        'fill="none" stroke="#333"/>',
    ]
    for i, (name, values) in enumerate(series.items()):
        points = " ".join(
            f"{margin + x * inner_w:.1f},{margin + (1 - y) * inner_h:.1f}"
            for x, y in zip(x_values, values, strict=True)
        )
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        parts.append(
            f'<text x="{margin + 10}" y="{margin + 18 + 16 * i}" fill="{colour}" '
            f'font-size="12">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
