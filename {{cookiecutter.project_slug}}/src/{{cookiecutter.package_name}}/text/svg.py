"""The reports' Mermaid charts drawn as inline SVG, for pages that must render offline.

`charts` writes `xychart-beta` blocks (GitHub draws them in a comment); `parse` reads one back
into an `XYChart` and `draw` turns it into an `<svg>` element: the HTML report shows the same
numbers without loading Mermaid from a CDN. Only what `charts` writes is understood (a title,
both axes, `line` and `bar` series, the colour palette); anything else raises `ChartError`.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from html import escape

from .charts import COLOURS

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 36, 72
Y_TICKS = 5
MAX_X_LABELS = 11


class ChartError(ValueError):
    """A Mermaid block that is not a chart `charts` writes."""


@dataclass(frozen=True)
class XYChart:
    """One chart: categories (or grid points) on x, series of values on y."""

    title: str
    x_label: str
    x_values: list[str]
    y_label: str
    y_range: tuple[float, float]
    series: list[tuple[str, list[float]]]  # (line or bar, one value per x)
    colours: list[str] = field(default_factory=lambda: list(COLOURS))


_AXIS_NUMBERS = re.compile(r"^(?P<label>\"[^\"]*\")?\s*\[(?P<values>.*)\]$")
_Y_AXIS = re.compile(r"^(?P<label>\"[^\"]*\")?\s*(?P<low>\S+)\s*-->\s*(?P<high>\S+)$")


def parse(source: str) -> XYChart:
    """The chart in a Mermaid `xychart-beta` block (its text without the fences)."""
    lines = [line.strip() for line in source.strip().splitlines() if line.strip()]
    colours = list(COLOURS)
    if lines and lines[0].startswith("%%{init:"):
        colours = _palette(lines.pop(0)) or colours
    if not lines or lines[0] != "xychart-beta":
        raise ChartError("not an xychart-beta block (its first line must be `xychart-beta`)")
    found: dict[str, str] = {}
    series: list[tuple[str, list[float]]] = []
    for line in lines[1:]:
        keyword, _, rest = line.partition(" ")
        rest = rest.strip()
        if keyword in ("line", "bar"):
            series.append((keyword, [_number(v) for v in _list(rest, line)]))
        elif keyword in ("title", "x-axis", "y-axis"):
            found[keyword] = rest
        else:
            raise ChartError(f"unknown chart line `{line}`")
    x_match = _AXIS_NUMBERS.match(found.get("x-axis", ""))
    y_match = _Y_AXIS.match(found.get("y-axis", ""))
    if x_match is None or y_match is None:
        raise ChartError("a chart needs `x-axis [...]` and `y-axis low --> high` lines")
    x_values = _list(f"[{x_match['values']}]", found["x-axis"])
    if not series or any(len(values) != len(x_values) for _, values in series):
        raise ChartError(f"each series needs one value per x-axis value ({len(x_values)})")
    return XYChart(
        title=_unquote(found.get("title", '""')),
        x_label=_unquote(x_match["label"] or '""'),
        x_values=x_values,
        y_label=_unquote(y_match["label"] or '""'),
        y_range=(_number(y_match["low"]), _number(y_match["high"])),
        series=series,
        colours=colours,
    )


def draw(chart: XYChart) -> str:
    """An `<svg>` element (one line per part, no blank line: it embeds in Markdown as HTML)."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    low, high = chart.y_range
    span = (high - low) or 1.0
    count = len(chart.x_values)
    band = inner_w / max(count, 1)

    def x_at(i: int) -> float:
        return LEFT + band * (i + 0.5)

    def y_at(value: float) -> float:
        clipped = min(max(value, low), high)
        return TOP + inner_h * (1 - (clipped - low) / span)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{escape(chart.title)}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">',
        f'<text x="{WIDTH / 2:g}" y="22" text-anchor="middle" font-size="15">'
        f"{escape(chart.title)}</text>",
    ]
    for step in range(Y_TICKS + 1):
        value = low + span * step / Y_TICKS
        y = y_at(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + inner_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{value:.3g}</text>"
        )
    every = max(1, -(-count // MAX_X_LABELS))
    rotate = any(len(v) > 6 for v in chart.x_values)
    for i, value in enumerate(chart.x_values):
        if i % every:
            continue
        x, y = x_at(i), TOP + inner_h + 14
        turn = f' transform="rotate(-35 {x:.1f} {y})" text-anchor="end"' if rotate else ""
        anchor = "" if rotate else ' text-anchor="middle"'
        parts.append(
            f'<text x="{x:.1f}" y="{y}" font-size="11"{anchor}{turn}>{escape(value)}</text>'
        )
    parts.append(
        f'<text x="{LEFT + inner_w / 2:g}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'font-size="12">{escape(chart.x_label)}</text>'
    )
    parts.append(
        f'<text x="14" y="{TOP + inner_h / 2:g}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {TOP + inner_h / 2:g})">{escape(chart.y_label)}</text>'
    )
    for index, (kind, values) in enumerate(chart.series):
        colour = escape(chart.colours[index % len(chart.colours)])
        if kind == "bar":
            width = band * 0.6
            for i, value in enumerate(values):
                top = y_at(value)
                parts.append(
                    f'<rect class="bar" x="{x_at(i) - width / 2:.1f}" y="{top:.1f}" '
                    f'width="{width:.1f}" height="{y_at(low) - top:.1f}" fill="{colour}"/>'
                )
        else:
            points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(values))
            parts.append(
                f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2.5" '
                f'points="{points}"/>'
            )
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" fill="none" '
        'stroke="#555"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _palette(directive: str) -> list[str]:
    body = directive.removeprefix("%%{init:").removesuffix("}%%").strip()
    try:
        theme = json.loads(body)
        palette = theme["themeVariables"]["xyChart"]["plotColorPalette"]
    except (ValueError, KeyError, TypeError) as error:
        raise ChartError(f"unreadable init directive `{directive}`") from error
    return [c.strip() for c in str(palette).split(",") if c.strip()]


def _list(text: str, line: str) -> list[str]:
    if not (text.startswith("[") and text.endswith("]")):
        raise ChartError(f"expected a [...] list in `{line}`")
    inner = text[1:-1]
    try:
        lexer = shlex.shlex(inner, posix=True)
        lexer.whitespace, lexer.whitespace_split = ",", True
        return [item.strip() for item in lexer]
    except ValueError as error:
        raise ChartError(f"unreadable list in `{line}`: {error}") from error


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as error:
        raise ChartError(f"`{text}` is not a number") from error


def _unquote(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
