"""Dates and times as users write them: the format of a column, found from its values, and
the one parser that reads a datetime column by its declared `format`.

Formats: ISO (`2011-01-31`, with or without a time and zone), year first with `/` or `.`,
day first and month first with `-`, `/` or `.` (with or without `HH:MM[:SS]`), and epoch
seconds or milliseconds (`epoch_s`, `epoch_ms`) in a column whose name says it is a time.
A column whose every day and month are 12 or less is ambiguous: `dayfirst` settles it,
else it is read month first and the comment says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

ISO = "ISO8601"
EPOCH_UNITS = {"epoch_s": "s", "epoch_ms": "ms"}
# Year first with any separator, or two numbers then a four-digit year; an optional time.
TIME = r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?"
YEAR_FIRST = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + TIME + r"(Z|[+-]\d{2}:?\d{2})?$")
YEAR_LAST = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})" + TIME + "$")
# The same shapes without back-references (what Arrow's RE2 matches over every value).
SHAPES = (
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}" + TIME + r"(Z|[+-]\d{2}:?\d{2})?$",
    r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}" + TIME + "$",
)
# Epoch numbers are read as times only in a column named like a time.
TIME_NAME = re.compile(r"(epoch|unix|timestamp|(^|[_\s.-])(ts|time|at)$|[a-z]At$)", re.IGNORECASE)
EPOCH_RANGES = {"epoch_s": (1e8, 5e9), "epoch_ms": (1e11, 5e12)}  # 1973 to 2128


@dataclass(frozen=True)
class DateFormat:
    """A column's date format and how it was settled."""

    format: str  # a strftime pattern, ISO8601, epoch_s or epoch_ms
    how: str  # for the column's comment


def infer_format(values: Iterable[str], dayfirst: bool | None = None) -> DateFormat | None:
    """The one format every value is written in, or None (not dates, or mixed styles)."""
    texts = [v.strip() for v in values]
    if not texts:
        return None
    first = [YEAR_FIRST.match(t) for t in texts]
    if all(first):
        separators = {m.group(2) for m in first if m}
        if separators == {"-"}:
            return DateFormat(ISO, "ISO 8601 (year-month-day)")
        times = {_time_part(m.group(5), m.group(7), m.group(8)) for m in first if m}
        if len(separators) != 1 or len(times) != 1 or any(m and m.group(9) for m in first):
            return None
        sep = separators.pop()
        return DateFormat(f"%Y{sep}%m{sep}%d{times.pop()}", "year first")
    last = [YEAR_LAST.match(t) for t in texts]
    if not all(last):
        return None
    separators = {m.group(2) for m in last if m}
    times = {_time_part(m.group(5), m.group(7), m.group(8)) for m in last if m}
    if len(separators) != 1 or len(times) != 1:
        return None
    sep, time = separators.pop(), times.pop()
    high_first = max(int(m.group(1)) for m in last if m)
    high_second = max(int(m.group(3)) for m in last if m)
    if high_first > 12 and high_second > 12:
        return None
    day_first = f"%d{sep}%m{sep}%Y{time}"
    month_first = f"%m{sep}%d{sep}%Y{time}"
    if high_first > 12:
        return DateFormat(day_first, "day first (a first number above 12)")
    if high_second > 12:
        return DateFormat(month_first, "month first (a second number above 12)")
    if dayfirst:
        return DateFormat(day_first, "day first (--dayfirst; every number is 12 or less)")
    return DateFormat(
        month_first,
        "month first: ambiguous (every number is 12 or less); pass --dayfirst if days come first",
    )


def _time_part(minutes: str | None, seconds: str | None, fraction: str | None) -> str:
    if minutes is None:
        return ""
    if seconds is None:
        return " %H:%M"
    return " %H:%M:%S" + (".%f" if fraction else "")


def epoch_format(name: str, low: float, high: float) -> DateFormat | None:
    """epoch_s or epoch_ms for whole numbers in a column named like a time, else None."""
    if not TIME_NAME.search(name):
        return None
    for unit, (start, end) in EPOCH_RANGES.items():
        if start <= low and high <= end:
            spelled = unit.replace("_", " ")
            return DateFormat(unit, f"{spelled} (named like a time, values in range)")
    return None


def parse(values: pd.Series, fmt: str | None) -> pd.Series:
    """`values` as datetimes by `fmt` (None: pandas' inference); unreadable values are NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if fmt in EPOCH_UNITS:
        numbers = pd.to_numeric(values, errors="coerce")
        return pd.to_datetime(numbers, unit=EPOCH_UNITS[fmt], errors="coerce")
    text = values.astype("string").str.strip()
    if fmt == ISO:
        parsed = pd.to_datetime(text, format=ISO, errors="coerce", utc=_zoned(text))
    elif fmt is None:
        parsed = pd.to_datetime(text, errors="coerce", utc=_zoned(text))
    else:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


def _zoned(text: pd.Series) -> bool:
    """Whether some value carries a zone (then every value is read in UTC)."""
    return bool(text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True, na=False).any())
