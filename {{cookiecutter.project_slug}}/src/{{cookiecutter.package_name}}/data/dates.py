"""Dates and times as users write them: the format of a column, found from its values, and
the one parser that reads a datetime column by its declared `format`.

Formats: ISO (`2011-01-31`, with or without a time and zone), year first with `/` or `.`,
day first and month first with `-`, `/` or `.` and a four- or two-digit year, month names
(`01-Jan-2011`, `1 January 2011`, `Jan 1 2011`, `Jan 1, 2011`), each with or without
`HH:MM[:SS]`, and epoch seconds or milliseconds (`epoch_s`, `epoch_ms`) in a column whose
name says it is a time. A column whose every day and month are 12 or less is ambiguous:
`dayfirst` settles it, else it is read month first and the comment says so.
Two-digit years follow Python's `%y` rule: 69-99 are 1969-1999, 00-68 are 2000-2068.
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
YEAR_LAST = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})" + TIME + "$")
# Month names: day, name, year (`01-Jan-2011`, `1 January 2011`) or name, day, year
# (`Jan 1 2011`, `January 1, 2011`).
DAY_NAMED = re.compile(r"^(\d{1,2})([-/. ])([A-Za-z]{3,9})\2(\d{4}|\d{2})" + TIME + "$")
NAMED_DAY = re.compile(r"^([A-Za-z]{3,9}) (\d{1,2})(,?) (\d{4})" + TIME + "$")
MONTHS = "january february march april may june july august september october november december"
FULL_MONTHS = frozenset(MONTHS.split())
SHORT_MONTHS = frozenset(m[:3] for m in FULL_MONTHS)
PIVOT = "two-digit years: 69-99 read as 1969-1999, 00-68 as 2000-2068 (Python's %y)"
# The same shapes without back-references (what Arrow's RE2 matches over every value).
SHAPES = (
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}" + TIME + r"(Z|[+-]\d{2}:?\d{2})?$",
    r"^\d{1,2}[-/.]\d{1,2}[-/.](\d{4}|\d{2})" + TIME + "$",
    r"^\d{1,2}[-/. ][A-Za-z]{3,9}[-/. ](\d{4}|\d{2})" + TIME + "$",
    r"^[A-Za-z]{3,9} \d{1,2},? \d{4}" + TIME + "$",
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
    if all(last):
        return _numbers_then_year([m for m in last if m], texts, dayfirst)
    return _month_named(texts)


def _numbers_then_year(
    last: list[re.Match[str]], texts: list[str], dayfirst: bool | None
) -> DateFormat | None:
    separators = {m.group(2) for m in last}
    times = {_time_part(m.group(5), m.group(7), m.group(8)) for m in last}
    widths = {len(m.group(4)) for m in last}
    if len(separators) != 1 or len(times) != 1 or len(widths) != 1:
        return None
    sep, time = separators.pop(), times.pop()
    year, pivot = ("%Y", "") if widths.pop() == 4 else ("%y", "; " + PIVOT)
    high_first = max(int(m.group(1)) for m in last)
    high_second = max(int(m.group(3)) for m in last)
    if (high_first > 12 and high_second > 12) or max(high_first, high_second) > 31:
        return None
    day_first = f"%d{sep}%m{sep}{year}{time}"
    month_first = f"%m{sep}%d{sep}{year}{time}"
    if high_first > 12:
        found = DateFormat(day_first, "day first (a first number above 12)" + pivot)
    elif high_second > 12:
        found = DateFormat(month_first, "month first (a second number above 12)" + pivot)
    elif dayfirst:
        found = DateFormat(day_first, "day first (--dayfirst; every number is 12 or less)" + pivot)
    else:
        found = DateFormat(
            month_first,
            "month first: ambiguous (every number is 12 or less); pass --dayfirst if days "
            "come first" + pivot,
        )
    return found if pivot == "" or _reads(texts, found.format) else None


def _month_named(texts: list[str]) -> DateFormat | None:
    """`01-Jan-2011`, `1 January 2011`, `Jan 1 2011` or `January 1, 2011` styles, or None."""
    day_named = [DAY_NAMED.match(t) for t in texts]
    named_day = [NAMED_DAY.match(t) for t in texts]
    if all(day_named):
        matches = [m for m in day_named if m]
        shapes = {(m.group(2), len(m.group(4))) for m in matches}
        names = [m.group(3) for m in matches]
        if len(shapes) != 1:
            return None
        sep, width = shapes.pop()
        year = "%Y" if width == 4 else "%y"
        layout = ("%d", sep, "{month}", sep, year)
        how = "day, month name, year" + ("" if width == 4 else "; " + PIVOT)
        time_groups = (5, 7, 8)
    elif all(named_day):
        matches = [m for m in named_day if m]
        commas = {m.group(3) for m in matches}
        names = [m.group(1) for m in matches]
        if len(commas) != 1:
            return None
        layout = ("{month}", " ", "%d", commas.pop() + " ", "%Y")
        how = "month name, day, year"
        time_groups = (5, 7, 8)
    else:
        return None
    month = _month_directive(names)
    times = {_time_part(*(m.group(i) for i in time_groups)) for m in matches}
    if month is None or len(times) != 1:
        return None
    found = DateFormat("".join(layout).format(month=month) + times.pop(), how)
    return found if _reads(texts, found.format) else None


def _month_directive(names: list[str]) -> str | None:
    """%b when every name is a three-letter month, %B when every one is a full name."""
    lowered = {n.lower() for n in names}
    if lowered <= SHORT_MONTHS:
        return "%b"
    if lowered <= FULL_MONTHS:
        return "%B"
    return None


def _reads(texts: list[str], fmt: str) -> bool:
    """Whether every text reads as a time by `fmt` (a date that does not exist does not)."""
    return bool(parse(pd.Series(texts, dtype="string"), fmt).notna().all())


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
