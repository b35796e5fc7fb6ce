"""Markdown tables, folded blocks and number formats: one definition for every report.

The pull-request report, the model card, the gate's messages and the stages' JSON all format
numbers through these functions, so the same figure reads the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MISSING = "—"  # a cell with no value


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; `|` and line breaks inside cells are escaped."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def details(summary: str, body: str) -> str:
    """A folded block (GitHub renders Markdown inside when blank lines surround it)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def figure(value: Any) -> str:
    """A report cell: 4 decimals (4 significant digits from 1e5), booleans and text as is."""
    if isinstance(value, bool) or value is None:
        return MISSING if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def fixed(value: Any) -> str:
    """4 decimals, or a dash for a missing value."""
    return MISSING if value is None else f"{value:.4f}"


def plain(value: Any) -> str:
    """A value as plain text: a float with 4 decimals, anything else as is, a dash if missing."""
    return (
        MISSING if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))
    )


def signed_fixed(value: float) -> str:
    """A difference with its sign and 4 decimals."""
    return f"{value:+.4f}"


def short(value: float | None) -> str:
    """4 significant digits (a limit or value in a gate message), or a dash for a missing value."""
    return MISSING if value is None else f"{value:.4g}"


def compact(value: Any) -> str:
    """A float with 4 significant digits, anything else as is, nothing for a missing value."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def signed_short(value: float) -> str:
    """A difference with its sign and 4 significant digits."""
    return f"{value:+.4g}"


def rounded(value: float) -> float:
    """A number for JSON: 6 decimals."""
    return round(float(value), 6)


def rounded_or_none(value: float) -> float | None:
    """A number for JSON with 6 decimals, or None when it is not finite."""
    return round(float(value), 6) if math.isfinite(value) else None
