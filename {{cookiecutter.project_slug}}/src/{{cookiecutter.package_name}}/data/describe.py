"""Describe a data file by inference: each column's type, role, missing markers and levels.

Inference looks at each column's distinct values and their counts over the whole file (every
level and marker is found, however rare), never at a sample. Reading is the only costly step;
`FAST_READ` (the one performance switch) reads CSV with PyArrow's multi-threaded parser and
counts distinct values in C++; with it off (`data init --plain-reader`), pandas does both
(same result, slower).
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PipelineError
from ..settings.params import level_text
from ..text.progress import Progress
from .dates import SHAPES, DateFormat, epoch_format, infer_format
from .pii_detect import personal_kind

FAST_READ = True  # the default: PyArrow reading and counting; False: pandas
# Spellings of "no value", compared stripped and lower-cased.
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-", "#n/a", "missing"})
MAX_LEVELS = 100  # a text column with more distinct values is not a category
MAX_CLASSES = 20  # a target with more distinct values is a regression target (if numeric)
ID_NAME = re.compile(r"(^|[\s_.-])id$|^id([\s_.-]|$)|[a-z]Id$|ID$", re.IGNORECASE)
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
SEPARATORS = ",;\t|"
MAX_HARMLESS_LEVELS = 3  # a category this small is never personal data, whatever its name
MIN_ID_ROWS = 20  # from this many rows, a column unique per row is an id by its values
PII_SAMPLE = 500  # present values looked at to spot personal data
PROGRESS_ROWS = 1_000_000  # from this many rows, counting reports its progress per column

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Column:
    """What was inferred for one column: its config entry and why."""

    name: str
    spec: dict[str, Any]
    why: str


@dataclass
class Description:
    """A data file described: settings for `conf/data/<name>.yaml`, and notes for the user."""

    path: Path
    separator: str
    rows: int
    task: str
    target: str
    classes: list[Any]
    positive_class: Any
    columns: list[Column]
    thousands: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Counts:
    """The distinct raw spellings of one column with their counts (missing markers included)."""

    values: list[Any] | np.ndarray  # an array: numbers only, the markers in `markers`
    counts: np.ndarray
    kind: str  # "text" (CSV, Parquet strings), or "int", "float", "bool", "datetime"
    markers: tuple[tuple[Any, int], ...] = ()  # with an array of numbers: (spelling, count)
    sample: tuple[Any, ...] = ()  # kind "many"/"dates": some present spellings (PII check)


def sniff_separator(path: Path) -> str:
    """The CSV separator, from the first 64 KiB (`,` `;` tab or `|`)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise PipelineError(f"{path} is empty: expected a header and rows")
    lines = head.splitlines()
    sample = "\n".join(lines[:-1] if len(lines) > 1 else lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        header = lines[0]
        return max(SEPARATORS, key=header.count) if any(s in header for s in SEPARATORS) else ","


def read_counts(
    path: Path, separator: str | None, fast: bool = FAST_READ
) -> tuple[dict[str, Counts], int, pd.DataFrame]:
    """Per column, in file order, the distinct values and counts; the number of rows; and a
    seeded sample of at most `leaks.MAX_ROWS` rows (for the leak check: no second read)."""
    if path.name.lower().endswith(".parquet"):
        return _parquet_counts(path)
    if separator is None:
        raise PipelineError("a CSV file needs its separator")
    return (_arrow_csv_counts if fast else _pandas_csv_counts)(path, separator)


def _arrow_csv_counts(path: Path, separator: str) -> tuple[dict[str, Counts], int, pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pa_csv

    names = _header(path, separator)
    try:
        table = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(delimiter=separator),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise PipelineError(f"{path} could not be parsed as CSV ({separator!r}): {exc}") from None
    found = {}
    for name in counted_columns(table.column_names, table.num_rows):
        counted = pc.value_counts(table[name])
        values, counts = counted.field("values"), counted.field("counts")
        compact = _compact(values, counts) if len(values) > MAX_LEVELS else None
        found[name.strip()] = compact or Counts(
            values.to_pylist(), counts.to_numpy(zero_copy_only=False), "text"
        )
    return found, table.num_rows, _sampled(table)


def counted_columns(names: Iterable[Any], rows: int) -> Iterator[Any]:
    """`names`, with a progress line per column counted when the file has `PROGRESS_ROWS` rows
    or more (a bar on a terminal)."""
    names = list(names)
    if rows < PROGRESS_ROWS:
        yield from names
        return
    log.info("data init: read %s rows; counting the values of %d columns", f"{rows:,}", len(names))
    with Progress("data init", len(names), "columns counted", log) as progress:
        for name in names:
            yield name
            progress.advance(1)


def _sampled(table: Any) -> pd.DataFrame:
    """At most `leaks.MAX_ROWS` seeded rows of an Arrow table, names stripped."""
    import pyarrow as pa

    from .leaks import MAX_ROWS

    if table.num_rows > MAX_ROWS:
        picked = np.random.default_rng(0).choice(table.num_rows, MAX_ROWS, replace=False)
        table = table.take(pa.array(np.sort(picked)))
    frame = table.to_pandas()
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _compact(values: Any, counts: Any) -> Counts | None:
    """Many distinct spellings, summarised in Arrow (the fast path): numbers, dates or text.

    Converting a million distinct spellings to Python strings and testing each costs seconds;
    the same tests in Arrow cost milliseconds. Numbers come back as an array (kind int or
    float); dates and other text as kind "dates" or "many" with the counts only (more levels
    than a category may have: the column is a timestamp, an id, or dropped).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(values)
    is_marker = pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(sorted(MISSING_MARKERS)))
    kept = pc.invert(is_marker)
    spelled = trimmed.filter(kept)
    spellings, found = values.filter(is_marker), counts.filter(is_marker)
    markers = tuple(zip(spellings.to_pylist(), found.to_pylist(), strict=True))
    present = counts.filter(kept).to_numpy(zero_copy_only=False)
    if not pc.all(pc.match_substring_regex(spelled, NUMBER.pattern)).as_py():
        grouped = f"({NUMBER.pattern})|({THOUSANDS.pattern})"
        if pc.all(pc.match_substring_regex(spelled, grouped)).as_py():
            return None  # numbers with thousands separators: the value-by-value path
        sample = tuple(spelled.slice(0, PII_SAMPLE).to_pylist())
        dates = any(pc.all(pc.match_substring_regex(spelled, shape)).as_py() for shape in SHAPES)
        if dates:  # the values with the highest first and second number settle day vs month
            sample += _extremes(spelled)
        return Counts(np.empty(0), present, "dates" if dates else "many", markers, sample)
    integral = not pc.any(pc.match_substring_regex(spelled, "[.eE]")).as_py()
    numbers = pc.cast(spelled, pa.float64()).to_numpy(zero_copy_only=False)
    return Counts(numbers, present, "int" if integral else "float", markers)


def _extremes(spelled: Any) -> tuple[str, ...]:
    """Of `d/m/yyyy`- or `d/m/yy`-like text, the values with the highest first and second number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = pc.extract_regex(spelled, r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.]\d{2}")
    found = []
    for part in ("a", "b"):
        numbers = pc.cast(pc.struct_field(parts, part), pa.int64())
        if len(numbers) and numbers.null_count < len(numbers):
            found.append(spelled[pc.index(numbers, pc.max(numbers)).as_py()].as_py())
    return tuple(found)


def _pandas_csv_counts(path: Path, separator: str) -> tuple[dict[str, Counts], int, pd.DataFrame]:
    try:
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise PipelineError(f"{path} could not be parsed as CSV ({separator!r}): {exc}") from None
    found = {}
    for name in counted_columns(frame.columns, len(frame)):
        counted = frame[name].value_counts(sort=False)
        found[str(name).strip()] = Counts(list(counted.index), counted.to_numpy(), "text")
    from .leaks import MAX_ROWS

    sample = frame.sample(min(len(frame), MAX_ROWS), random_state=0).sort_index()
    sample.columns = [str(c).strip() for c in sample.columns]
    return found, len(frame), sample


def _parquet_counts(path: Path) -> tuple[dict[str, Counts], int, pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    found = {}
    for written in counted_columns(table.column_names, table.num_rows):
        name, column = written.strip(), table[written]
        kind = (
            "bool" if pa.types.is_boolean(column.type)
            else "int" if pa.types.is_integer(column.type)
            else "float" if pa.types.is_floating(column.type)
            else "datetime" if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type)
            else "text"
        )  # fmt: skip
        if kind == "text":
            column = column.cast(pa.string())
        counted = pc.value_counts(column)
        found[name] = Counts(
            counted.field("values").to_pylist(),
            counted.field("counts").to_numpy(zero_copy_only=False),
            kind,
        )
    return found, table.num_rows, _sampled(table)


def _header(path: Path, separator: str) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle, delimiter=separator), [])
    if not header:
        raise PipelineError(f"{path} has no header line")
    stripped = [h.strip() for h in header]
    twice = sorted({h for h in stripped if stripped.count(h) > 1})
    if twice:
        raise PipelineError(
            f"{path}: the header names column(s) {twice} more than once (names are compared "
            "without surrounding spaces)"
        )
    return header


def header_spelling(path: Path, separator: str | None) -> dict[str, str]:
    """Names whose header spelling has surrounding spaces: stripped name -> as written."""
    if separator is None:
        import pyarrow.parquet as pq

        written = list(pq.ParquetFile(path).schema_arrow.names)
    else:
        written = _header(path, separator)
    return {name.strip(): name for name in written if name != name.strip()}


def column_named(name: str, columns: list[str], role: str, path: Path) -> str:
    """The column `name` designates (compared without surrounding spaces); else an error
    that lists the columns and suggests close names."""
    if name.strip() in columns:
        return name.strip()
    import difflib

    lowered = {c.lower(): c for c in columns}
    close = difflib.get_close_matches(name.strip().lower(), list(lowered), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(lowered[c]) for c in close)}?" if close else ""
    raise PipelineError(f"{role} {name!r} is not a column of {path}{hint} (found {columns})")


def describe(
    path: Path,
    target: str,
    *,
    task: str | None = None,
    positive_class: str | None = None,
    ids: tuple[str, ...] = (),
    time: str | None = None,
    dayfirst: bool | None = None,
    fast: bool = FAST_READ,
    outcome_time: str | None = None,
) -> Description:
    """Infer the data config of `path`; raise `PipelineError` when it cannot be used."""
    separator = None if path.name.lower().endswith(".parquet") else sniff_separator(path)
    counts, rows, sample = read_counts(path, separator, fast)
    if rows == 0:
        raise PipelineError(f"{path} has a header but no rows")
    names = list(counts)
    target = column_named(target, names, "--target", path)
    ids = tuple(column_named(i, names, "--id", path) for i in ids)
    time = column_named(time, names, "--time", path) if time is not None else None
    if outcome_time is not None:
        outcome_time = column_named(outcome_time, names, "--outcome-time", path)
        if outcome_time == time:
            raise PipelineError(
                f"--time and --outcome-time both name {time!r}: the time split orders rows by "
                "when they happen, the outcome time says when their outcome became known"
            )
    spelled = header_spelling(path, separator)
    columns, notes, thousands = [], [], False
    for name, found in counts.items():
        column, uses_thousands = infer_column(
            name, found, rows, ids=ids, time=time, dayfirst=dayfirst
        )
        if name != target:
            column = suggest_pii(column, found)
        if name in spelled:
            why = f"{column.why}; written {spelled[name]!r} in the file (read without the spaces)"
            column = Column(column.name, column.spec, why)
        columns.append(column)
        thousands |= uses_thousands
    if time is not None and column_of(columns, time).spec["dtype"] != "datetime":
        raise PipelineError(
            f"--time {time!r}: its values are not dates or times in a format data init reads "
            f"({column_of(columns, time).why}); declare it in conf/data/ yourself: dtype: "
            "datetime, role: timestamp, format: how the values are written (e.g. '%d/%m/%Y')"
        )
    if outcome_time is not None:
        columns = mark_outcome_time(sample, columns, outcome_time, time)
    datetimes = [c.name for c in columns if c.spec["dtype"] == "datetime" and not _after_outcome(c)]
    if time is None and len(datetimes) == 1:
        columns = [_as_timestamp(c) if c.name == datetimes[0] else c for c in columns]
    task, classes, positive = infer_target(counts[target], target, rows, task, positive_class)
    columns = [_as_target(c, classes) if c.name == target else c for c in columns]
    columns = drop_leaks(sample, columns, target, task)
    if not any(c.spec.get("role", "feature") == "feature" for c in columns if c.name != target):
        raise PipelineError(f"{path}: no column is left as a feature (see the roles inferred)")
    return Description(
        path, separator or ",", rows, task, target, classes, positive, columns,
        "," if thousands else None, notes,
    )  # fmt: skip


def mark_outcome_time(
    sample: pd.DataFrame, columns: list[Column], outcome: str, time: str | None
) -> list[Column]:
    """`outcome` as role outcome_time; other datetime columns at or after it in most rows
    (`data.leaks.after_outcome`) as role drop, saying why (the --time column is kept)."""
    from .dates import parse
    from .leaks import after_outcome

    declared = column_of(columns, outcome)
    if declared.spec["dtype"] != "datetime":
        raise PipelineError(
            f"--outcome-time {outcome!r}: its values are not dates or times in a format data "
            f"init reads ({declared.why}); declare it in conf/data/ yourself: dtype: datetime, "
            "role: outcome_time, format: how the values are written (e.g. '%d/%m/%Y')"
        )
    times = [c.name for c in columns if c.spec["dtype"] == "datetime"]
    formats = {c.name: c.spec.get("format") for c in columns if c.name in times}
    parsed = pd.DataFrame({name: parse(sample[name], fmt) for name, fmt in formats.items()})
    found = {s.columns[0]: s.why for s in after_outcome(parsed, outcome, times)}
    marked = []
    for c in columns:
        if c.name == outcome:
            why = (
                "outcome time (--outcome-time): when each row's outcome became known; never a "
                f"model input, and time columns at or after it are leaks; was: {c.why}"
            )
            c = Column(c.name, {**c.spec, "role": "outcome_time"}, why)
        elif c.name in found and c.name == time:
            why = f"leak? {found[c.name]}; kept as the timestamp (--time); was: {c.why}"
            c = Column(c.name, c.spec, why)
        elif c.name in found:
            why = (
                f"leak? {found[c.name]}: dropped. If it is known before the outcome, it may "
                f"be the timestamp (role: timestamp, or --time); was: {c.why}"
            )
            c = Column(c.name, {**c.spec, "role": "drop"}, why)
        marked.append(c)
    return marked


def _after_outcome(column: Column) -> bool:
    """Whether `column` is the outcome time or a time found after it (never the timestamp)."""
    return column.spec.get("role") == "outcome_time" or column.why.startswith("leak? at or after")


def drop_leaks(sample: pd.DataFrame, columns: list[Column], target: str, task: str) -> list[Column]:
    """The columns, with features that leak the target (`data.leaks`) as role drop."""
    from .leaks import find_leaks

    features = [
        c.name for c in columns if c.name != target and c.spec.get("role", "feature") == "feature"
    ]
    rows = as_inferred(sample, [*features, target], columns)
    suspects = {}
    for suspect in find_leaks(rows, target, task, features):
        for name in suspect.columns:
            suspects.setdefault(name, suspect.why)
    return [
        Column(
            c.name,
            {**c.spec, "role": "drop"},
            f"leak? {suspects[c.name]}: dropped. If it is known before the outcome (when the "
            f"model will be used), remove `role: drop`; was: {c.why}",
        )
        if c.name in suspects
        else c
        for c in columns
    ]


def as_inferred(sample: pd.DataFrame, names: list[str], columns: list[Column]) -> pd.DataFrame:
    """`names` of the sample, numeric columns as numbers (markers and blanks missing)."""
    frame = sample[names].copy()
    spec = {c.name: c.spec for c in columns}
    for name in names:
        numeric = spec[name]["dtype"] in ("int", "float")
        if numeric and not pd.api.types.is_numeric_dtype(frame[name]):
            text = frame[name].astype("string").str.strip().str.replace(",", "", regex=False)
            frame[name] = pd.to_numeric(text, errors="coerce")
    return frame


def column_of(columns: list[Column], name: str) -> Column:
    return next(c for c in columns if c.name == name)


def infer_column(
    name: str,
    found: Counts,
    rows: int,
    *,
    ids: tuple[str, ...] = (),
    time: str | None = None,
    dayfirst: bool | None = None,
) -> tuple[Column, bool]:
    """One column's config entry and the reason; and whether it needs thousands separators."""
    values, counts = found.values, found.counts
    if isinstance(values, np.ndarray):  # numbers already (the fast path)
        missing = [v for v, _ in found.markers]
        present: list[tuple[Any, int]] = []
        n_missing = rows - int(counts.sum())
    else:
        missing = [v for v in values if v is None or _is_marker(v)]
        present = [(v, int(c)) for v, c in zip(values, counts, strict=True) if v not in missing]
        n_missing = rows - sum(c for _, c in present)
    markers = sorted({v for v in missing if v is not None and v != ""}, key=str)
    gaps = f"{n_missing} missing" + (f" (spelled {markers})" if markers else "")
    gaps = gaps if n_missing else "no missing value"
    base: dict[str, Any] = {"nullable": n_missing > 0}  # as found; loosen it if values may lack
    if markers:
        base["missing_values"] = markers
    if name in ids:
        return Column(name, {"dtype": "string", "role": "id", **base}, f"id (--id); {gaps}"), False
    if found.kind == "dates":
        written = infer_format(found.sample, dayfirst)
        if written is not None:
            return _datetime(name, time, base, gaps, written), False
    if found.kind in ("many", "dates"):
        distinct = len(counts)
        if distinct == rows - n_missing and _id_like(name, found.sample, rows):
            return _text_id(name, base, gaps), False
        return _free_text(name, distinct, base), False
    if isinstance(values, np.ndarray):
        integral = found.kind == "int"
        epoch = _epoch(name, values, integral, time)
        if epoch is not None:
            return _datetime(name, time, base, gaps, epoch), False
        return _numeric(name, values, integral, False, len(values), rows - n_missing, base, gaps)
    if not present:
        spec = {"dtype": "string", "role": "drop", **base}
        return Column(name, spec, "every value is missing: not usable"), False
    distinct = len(present)
    if found.kind == "bool" or (found.kind == "text" and _booleans(present)):
        levels = [v for v, _ in present]
        spec = {"dtype": "category", **base, "categories": _levels(levels)}
        return Column(name, spec, f"category: true/false values; {gaps}"), False
    numbers, thousands = _numbers(present, found.kind)
    if numbers is not None:
        integral = found.kind == "int" or (
            found.kind == "text" and all(_integral_text(str(v)) for v, _ in present)
        )
        epoch = _epoch(name, numbers, integral, time)
        if epoch is not None:
            return _datetime(name, time, base, gaps, epoch), False
        return _numeric(name, numbers, integral, thousands, distinct, rows - n_missing, base, gaps)
    if found.kind == "datetime":
        return _datetime(name, time, base, gaps, None), False
    written = infer_format([str(v) for v, _ in present], dayfirst)
    if written is not None:
        return _datetime(name, time, base, gaps, written), False
    if distinct == 1:
        spec = {"dtype": "string", "role": "drop", **base}
        return Column(name, spec, f"constant ({present[0][0]!r}): no information"), False
    if distinct == rows - n_missing and _id_like(name, [v for v, _ in present], rows):
        return _text_id(name, base, gaps), False
    levels = _levels([v for v, _ in present])
    if len(levels) > MAX_LEVELS:
        return _free_text(name, distinct, base), False
    spec = {"dtype": "category", **base, "categories": levels}
    return Column(
        name, spec, f"category: {len(levels)} levels as spelled in the data; {gaps}"
    ), False


def suggest_pii(column: Column, found: Counts) -> Column:
    """`column` as role pii when it looks like personal data (names, emails, phones, ids).

    Suggested `pii: drop`; an `--id` column that looks personal is suggested `pii: hash` (it
    still joins). The comment says the evidence (the name, or the share of values that look
    personal), never a value. A column whose values cannot be personal data is left alone
    whatever its name: dates, booleans, a category of at most MAX_HARMLESS_LEVELS levels,
    numbers of fewer than 7 digits (a phone number has more).
    """
    dtype = column.spec["dtype"]
    if dtype == "datetime" or (dtype == "category" and "true/false" in column.why):
        return column
    if dtype == "category" and len(column.spec.get("categories", ())) <= MAX_HARMLESS_LEVELS:
        return column
    values = found.values if isinstance(found.values, list) else found.sample
    sample = [v for v in values[:PII_SAMPLE] if v is not None and not _is_marker(v)]
    if dtype in ("int", "float"):
        if _largest(found) < 1e6:
            return column  # fewer than 7 digits: no phone, card or national number
        sample = []  # long numbers: by the name only (a phone number written as digits)
    kind = personal_kind(column.name, sample, len(found.counts))
    if kind is None:
        return column
    # a declared or named id still joins under a hash; a column unique by its values is dropped
    joins = column.spec.get("role") == "id" and (
        column.why.startswith("id (--id)") or bool(ID_NAME.search(column.name))
    )
    how = "hash" if joins else "drop"
    base = {k: column.spec[k] for k in ("nullable", "missing_values") if k in column.spec}
    spec = {"dtype": "string", "role": "pii", "pii": how, **base}
    why = f"personal data? {kind}: pii: {how} (hash: joinable, needs the key; drop: out)"
    return Column(column.name, spec, why)


def _largest(found: Counts) -> float:
    """The largest absolute number among a numeric column's present values."""
    if isinstance(found.values, np.ndarray):
        return float(np.max(np.abs(found.values))) if len(found.values) else 0.0
    numbers = [
        abs(float(str(v).strip().replace(",", "")))
        for v in found.values
        if v is not None and not _is_marker(v) and _is_number(str(v))
    ]
    return max(numbers, default=0.0)


def _is_number(text: str) -> bool:
    text = text.strip()
    return bool(NUMBER.match(text) or THOUSANDS.match(text))


def _datetime(
    name: str, time: str | None, base: dict[str, Any], gaps: str, written: DateFormat | None
) -> Column:
    role = "timestamp" if name == time else "drop"
    how = f" ({written.how})" if written else ""
    why = f"datetime: every present value is a date{how}" + (
        " (--time: orders the time split)" if role == "timestamp"
        else "; not a model input (give --time to order the time split by it)"
    )  # fmt: skip
    spec = {"dtype": "datetime", "role": role, **base}
    if written is not None:
        spec["format"] = written.format
    return Column(name, spec, f"{why}; {gaps}")


def _epoch(name: str, numbers: np.ndarray, integral: bool, time: str | None) -> DateFormat | None:
    """Epoch seconds or milliseconds: whole numbers in range, in a column named like a time
    (or the --time column)."""
    if not integral or len(numbers) < 2:
        return None
    low, high = float(np.min(numbers)), float(np.max(numbers))
    return epoch_format(name if name != time else "timestamp", low, high)


def _id_like(name: str, values: Any, rows: int) -> bool:
    """Whether a text column unique per row is an id: named like one, or (from MIN_ID_ROWS
    rows) written like codes: no space inside, at most 64 characters (free text has spaces)."""
    if ID_NAME.search(name):
        return True
    texts = [str(v).strip() for v in values]
    return (
        rows >= MIN_ID_ROWS
        and bool(texts)
        and all(len(t) <= 64 and not any(c.isspace() for c in t) for t in texts)
    )


def _text_id(name: str, base: dict[str, Any], gaps: str) -> Column:
    named = "named like an identifier, " if ID_NAME.search(name) else "written like codes, "
    why = f"id: {named}unique per row (never a feature); {gaps}"
    return Column(name, {"dtype": "string", "role": "id", **base}, why)


def _free_text(name: str, distinct: int, base: dict[str, Any]) -> Column:
    why = (
        f"text with {distinct} distinct values (more than {MAX_LEVELS}): free text or an "
        "identifier, not a category; dropped (declare it yourself to use it)"
    )
    return Column(name, {"dtype": "string", "role": "drop", **base}, why)


def _numeric(
    name: str,
    numbers: np.ndarray,
    integral: bool,
    thousands: bool,
    distinct: int,
    present_rows: int,
    base: dict[str, Any],
    gaps: str,
) -> tuple[Column, bool]:
    """A numeric column's entry: int or float, constant (dropped), an id, or min 0."""
    dtype = "int" if integral else "float"
    spec = {"dtype": dtype, **base}
    why = f"{dtype}: every present value is a {'whole ' if integral else ''}number"
    if thousands:
        why += " (written with thousands separators)"
    if distinct == 1:
        why = f"constant ({numbers[0]:g}): no information"
        return Column(name, {**spec, "role": "drop"}, why), thousands
    if integral and distinct == present_rows and ID_NAME.search(name):
        spec = {"dtype": "string", "role": "id", **base}
        why = "id: named like an identifier, one distinct whole number per row"
        return Column(name, spec, why), thousands
    unique = integral and distinct == present_rows >= MIN_ID_ROWS and not base["nullable"]
    if unique and float(np.max(numbers) - np.min(numbers)) == distinct - 1:
        spec = {"dtype": "int", "role": "id", **base}
        why = (
            "id: one whole number per row, consecutive (a row number, whatever its name): "
            "never a feature (make it `dtype: int` without `role: id` if it measures "
            "something)"
        )
        return Column(name, spec, why), thousands
    if bool(np.all(numbers >= 0)):
        spec["min"] = 0
        why += "; none negative: min 0 (no upper bound: extremes seen are not limits)"
    return Column(name, spec, f"{why}; {gaps}"), thousands


def infer_target(
    found: Counts, name: str, rows: int, task: str | None, positive: str | None
) -> tuple[str, list[Any], Any]:
    """The task, the classes (negative first) and the positive class; refuse unusable targets."""
    present = [(v, int(c)) for v, c in zip(found.values, found.counts, strict=True)]
    empty = [(v, c) for v, c in present if v is None or _is_marker(v)]
    if empty:
        spelled = sorted({repr(v) for v, _ in empty})
        raise PipelineError(
            f"column '{name}' (the target) has {sum(c for _, c in empty)} missing value(s) "
            f"(spelled {', '.join(spelled)}): remove or label those rows first"
        )
    if len(present) < 2:
        raise PipelineError(f"column '{name}' (the target) has one value only: nothing to learn")
    numbers, _ = _numbers(present, found.kind)
    inferred = (
        "binary" if len(present) == 2
        else "regression" if numbers is not None and (
            len(present) > MAX_CLASSES or found.kind == "float"
            or not all(_integral_text(str(v)) for v, _ in present)
        )
        else "multiclass"
    )  # fmt: skip
    chosen = task or inferred
    if chosen == "regression" and numbers is None:
        raise PipelineError(f"--task regression: column '{name}' (the target) is not numeric")
    if chosen == "binary" and len(present) != 2:
        raise PipelineError(
            f"--task binary: column '{name}' (the target) has {len(present)} distinct values, not 2"
        )
    if chosen != "binary" and positive is not None:
        raise PipelineError(f"--positive-class applies to task binary only, not {chosen}")
    if chosen == "regression":
        return "regression", [], None
    if chosen == "multiclass":
        # numbers in numeric order, text alphabetically (as compared: stripped, lower-cased)
        key = (
            (lambda v: (float(str(v).strip()), "")) if numbers is not None
            else (lambda v: (0.0, level_text(v)))
        )  # fmt: skip
        return (
            "multiclass",
            [_as_written(v) for v in sorted((v for v, _ in present), key=key)],
            None,
        )
    ordered = sorted(present, key=lambda item: (item[1], level_text(item[0])))
    levels = [v for v, _ in ordered]
    if positive is None:
        positive_value = levels[0]  # the minority class (ties: the later spelling)
        if ordered[0][1] == ordered[1][1]:
            positive_value = max(levels, key=level_text)
    else:
        matches = [v for v in levels if level_text(v) == level_text(positive)]
        if not matches:
            raise PipelineError(
                f"--positive-class {positive!r} is not a value of '{name}': {levels}"
            )
        positive_value = matches[0]
    negative_value = next(v for v in levels if v != positive_value)
    classes = [_as_written(negative_value), _as_written(positive_value)]
    return "binary", classes, classes[1]


def _as_target(column: Column, classes: list[Any]) -> Column:
    if not classes:  # regression: the numeric column as inferred, never missing
        spec = {**column.spec, "role": "target", "nullable": False}
        if spec["dtype"] not in ("int", "float"):
            spec = {"dtype": "float", "role": "target", "nullable": False}
        return Column(column.name, spec, "the target (--target, regression); no missing value")
    spec = {"dtype": "category", "role": "target", "nullable": False, "categories": classes}
    # classes are written as in the data: whole numbers as numbers (0/1), text as text
    return Column(column.name, spec, "the target (--target); no missing value")


def _as_timestamp(column: Column) -> Column:
    spec = {**column.spec, "role": "timestamp"}
    why = column.why.replace(
        "; not a model input (give --time to order the time split by it)",
        " (the only one: orders the time split)",
    )
    return Column(column.name, spec, why)


def _as_written(value: Any) -> Any:
    """A text value that is a whole number as that number (`1`, not `'1'`); other text
    without surrounding spaces (`' >50K'` is `'>50K'`); others unchanged."""
    if isinstance(value, str) and NUMBER.match(value.strip()) and _integral_text(value.strip()):
        return int(value.strip())
    return value.strip() if isinstance(value, str) else value


def _is_marker(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in MISSING_MARKERS


def _booleans(present: list[tuple[Any, int]]) -> bool:
    return {str(v).strip().lower() for v, _ in present} <= {"true", "false"}


def _levels(values: list[Any]) -> list[Any]:
    """Distinct levels as spelled in the data (first spelling of each), in sorted order."""
    seen: dict[str, Any] = {}
    for value in sorted(values, key=lambda v: (level_text(v), str(v))):
        seen.setdefault(level_text(value), value.strip() if isinstance(value, str) else value)
    return list(seen.values())


def _numbers(present: list[tuple[Any, int]], kind: str) -> tuple[np.ndarray | None, bool]:
    """The present values as floats when every one is a number; and thousands separators used."""
    if kind in ("int", "float"):
        return np.asarray([v for v, _ in present], dtype=np.float64), False
    if kind != "text":
        return None, False
    texts = [str(v).strip() for v, _ in present]
    plain = [bool(NUMBER.match(t)) for t in texts]
    if all(plain):
        return np.asarray(texts, dtype=np.float64), False
    grouped = [p or bool(THOUSANDS.match(t)) for p, t in zip(plain, texts, strict=True)]
    if all(grouped):
        return np.asarray([t.replace(",", "") for t in texts], dtype=np.float64), True
    return None, False


def _integral_text(text: str) -> bool:
    return "." not in text and "e" not in text.lower()
